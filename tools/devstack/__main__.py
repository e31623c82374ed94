"""``python -m tools.devstack``: see ``tools.devstack.cli``."""

import sys

from tools.devstack.cli import main

sys.exit(main())
