"""`python -m multi_model` is the `mm` command."""

import sys

from multi_model.cli import main

sys.exit(main())
