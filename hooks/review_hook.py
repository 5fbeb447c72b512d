"""Entry point of the plugin's hooks (hooks.json runs it as `python3 -S review_hook.py`).

Stdlib only, and it never runs a model: it records Claude's edits for the background
reviewer and hands findings back (see multi_model/review/hook.py). Any failure, including a
Python too old for the package, exits 0 without output, so a hook can never break a session.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
try:
    from multi_model.review.hook import main
except Exception:  # noqa: BLE001 - e.g. a python3 older than 3.8 on PATH
    sys.exit(0)

sys.exit(main(sys.argv[1:]))
