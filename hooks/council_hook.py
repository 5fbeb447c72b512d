"""Entry point of the council's hooks (hooks.json runs it as `python3 -S council_hook.py`).

Stdlib only, and it never runs a model. SubagentStop, PostToolUse on the Agent tool and a
UserPromptSubmit that carries a task notification: a panelist subagent's reply goes into its
council task (multi_model/council/hosted/capture.py). PreToolUse on Bash and Read: the
council's own `next` step and a seat's Read of its task prompt are allowed
(multi_model/council/hosted/allow.py).
Any failure exits 0 without output (written to the data dir's council-hook-errors.log), so a
hook can never break a session.
"""

import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))


# Most events are not ours: a cheap look at the raw payload spares parsing and imports.
MARKERS = ("multi-model:panelist", "task-notification", "council next", ".prompt.md")


def main() -> int:
    raw = sys.stdin.read()
    if not any(marker in raw for marker in MARKERS):
        return 0
    event = json.loads(raw or "{}")
    if not isinstance(event, dict):
        return 0
    if event.get("hook_event_name") == "PreToolUse":
        from multi_model.council.hosted.allow import decision  # noqa: PLC0415 - this event only

        answer = decision(event, os.environ)
        if answer is not None:
            sys.stdout.write(json.dumps(answer))
        return 0
    from multi_model.council.hosted.capture import handle  # noqa: PLC0415 - this event only

    handle(event, os.environ)
    return 0


if __name__ == "__main__":
    if os.environ.get("MULTI_MODEL_NO_COUNCIL_HOOKS") == "1":
        sys.exit(0)
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 - a hook must never break the session
        try:
            from multi_model.paths import data_dir

            log = data_dir(os.environ) / "council-hook-errors.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a") as f:
                f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {traceback.format_exc()}\n")
        except Exception:  # noqa: BLE001
            pass
        sys.exit(0)
