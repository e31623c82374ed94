"""Load run (``make load``): see ``tools/devstack/load.py``, whose docstring this is."""

from __future__ import annotations

from tools.devstack import load
from tools.devstack.load import add_arguments, execute

__doc__ = load.__doc__
__all__ = ["add_arguments", "execute"]
