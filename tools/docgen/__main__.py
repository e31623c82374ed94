"""``python -m tools.docgen [--check | --release]``: see ``tools.docgen.build``."""

import sys

from tools.docgen.build import main

sys.exit(main())
