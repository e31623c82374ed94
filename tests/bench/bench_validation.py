#!/usr/bin/env python3
"""Cost of validating one event with ``novamart_payments.contracts.validate_event``.

A measurement, not a test: numbers vary by machine, so nothing here asserts a threshold. The
combined bench runner imports ``measure`` and compares it with its own same-run baselines.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "lambda_src") not in sys.path:
    sys.path.insert(0, str(REPO / "lambda_src"))

from novamart_payments import contracts  # noqa: E402


def _load(paths: list[Path], key: str | None = None) -> list[Any]:
    out = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            doc = json.load(fh)
        out.append(doc[key] if key else doc)
    return out


def _per_call_us(events: list[Any], n: int, expect_valid: bool) -> list[float]:
    samples = []
    for i in range(n):
        event = events[i % len(events)]
        start = time.perf_counter()
        try:
            contracts.validate_event(event)
            ok = True
        except contracts.ContractViolation:
            ok = False
        samples.append((time.perf_counter() - start) * 1e6)
        if ok != expect_valid:
            raise AssertionError("benchmark corpus no longer matches the schemas")
    return samples


def _reference_us(events: list[Any], n: int) -> list[float]:
    """The same valid events through jsonschema (the reference engine, as the runtime used it before), same run."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=sorted(contracts.USED_FORMATS))

    def key(event: Any) -> tuple[str, int]:
        return event["detail-type"], int(event["detail"]["metadata"]["schemaVersion"].split(".")[0])

    validators = {
        key(e): jsonschema.Draft202012Validator(contracts.resolved_schema(*key(e)), format_checker=checker)
        for e in events
    }
    samples = []
    for i in range(n):
        event = events[i % len(events)]
        start = time.perf_counter()
        ok = not any(True for _ in validators[key(event)].iter_errors(event))
        samples.append((time.perf_counter() - start) * 1e6)
        assert ok
    return samples


def measure(n: int = 5000) -> dict[str, Any]:
    """Validate ``n`` valid and ``n`` invalid events with warm validators; also time the first compile.

    Returns microseconds per event (mean, p50, p95) for both paths and the one-off cost of compiling
    every event's validator, which a cold Lambda start pays on its first event of each type.
    """
    examples = contracts.SCHEMA_DIR / "examples"
    valid = _load(sorted(examples.glob("*/v*/valid/*.json")))
    invalid = _load(sorted(examples.glob("*/v*/invalid/*.json")), "event")

    for cache in (contracts._validator, contracts.resolved_schema, contracts.schema_index):
        cache.cache_clear()
    start = time.perf_counter()
    for detail_type in sorted(contracts.known_event_types()):
        contracts._validator(detail_type, 1)
    compile_ms = (time.perf_counter() - start) * 1e3

    _per_call_us(valid, min(n, 500), True)  # warm-up
    valid_us = _per_call_us(valid, n, True)
    invalid_us = _per_call_us(invalid, n, False)

    reference_us = _reference_us(valid, n)

    def summary(samples: list[float]) -> dict[str, float]:
        ordered = sorted(samples)
        return {
            "mean_us": round(statistics.fmean(ordered), 2),
            "p50_us": round(ordered[len(ordered) // 2], 2),
            "p95_us": round(ordered[int(len(ordered) * 0.95)], 2),
        }

    return {
        "name": "contracts.validate_event",
        "n": n,
        "corpus": {"valid": len(valid), "invalid": len(invalid)},
        "us_per_event": summary(valid_us)["mean_us"],
        "valid": summary(valid_us),
        "invalid": summary(invalid_us),
        "reference_jsonschema": summary(reference_us),
        "compile_all_validators_ms": round(compile_ms, 2),
        "python": sys.version.split()[0],
    }


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    result = measure(n)
    print(
        f"validate_event: {result['us_per_event']:.1f} µs per valid event "
        f"(p50 {result['valid']['p50_us']:.1f}, p95 {result['valid']['p95_us']:.1f}); "
        f"{result['invalid']['mean_us']:.1f} µs per invalid event; "
        f"compiling all {len(contracts.known_event_types())} validators {result['compile_all_validators_ms']:.1f} ms; "
        f"jsonschema (reference) {result['reference_jsonschema']['mean_us']:.1f} µs per valid event "
        f"(n={n})"
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
