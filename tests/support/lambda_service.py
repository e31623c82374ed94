"""The local Lambda service (stand-in for AWS Lambda's SQS pollers) for the test suites.

One implementation only: it lives in ``tools/localsvc_lib.py`` because the same code runs as the developer
service (``tools/localsvc.py``, started by ``make dev`` / ``make demo``). This module re-exports it for tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TOOLS = str(Path(__file__).resolve().parents[2] / "tools")
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)

from localsvc_lib import (  # noqa: E402
    AuditTapBound,
    EventSourceMapping,
    FunctionConfig,
    Invocation,
    LambdaContext,
    LocalLambdaService,
    MessageTrack,
    StackInfo,
    discover_stack,
    patch_moto_sqs_esm_invocation,
    sqs_record,
    stand_in_enabled,
)

__all__ = [
    "AuditTapBound",
    "EventSourceMapping",
    "FunctionConfig",
    "Invocation",
    "LambdaContext",
    "LocalLambdaService",
    "MessageTrack",
    "StackInfo",
    "discover_stack",
    "patch_moto_sqs_esm_invocation",
    "sqs_record",
    "stand_in_enabled",
]
