"""Reading published events from the audit queue, each validated against its schema.

Re-exported from ``tools/localsvc_lib.py`` (shared with ``tools/demo.py``); see ``AuditLog`` there.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TOOLS = str(Path(__file__).resolve().parents[2] / "tools")
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)

from localsvc_lib import AuditLog, PublishedEvent  # noqa: E402

__all__ = ["AuditLog", "PublishedEvent"]
