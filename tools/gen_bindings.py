#!/usr/bin/env python3
"""Typed Python and TypeScript bindings for every event, built from the consumer schemas (``make bindings``).

Consuming teams install or publish what this writes under ``build/bindings/dist/`` (docs/events/bindings.md):

- ``novamart_events-<version>-py3-none-any.whl``: the Python package ``novamart-events`` (pydantic v2 models by
  datamodel-code-generator, one module per event version, e.g. ``novamart_events.refund_failed_v2.RefundFailedV2``;
  the consumer schemas as package data; ``validate(event)`` picks the schema by detail-type and major);
- ``novamart-payments-events-<version>.tgz``: the npm package ``@novamart/payments-events`` (declarations by
  json-schema-to-typescript, e.g. ``RefundFailedV2`` in ``refund.failed.v2.d.ts``, the consumer schemas, and
  ``validate(event)`` on Ajv).

Both carry the same version, computed from the schemas (``package_version``), never set by hand.

The bindings come from the consumer forms (``schemas/consumer/``), so they accept fields a later minor adds.
Timestamps and ids stay strings (``date-time=string``, ``uuid=string``): a binding never rewrites what the
producer sent, which is what makes the round trip exact.

Round trip, over every valid example in ``schemas/examples/``: the Python model parses the event and dumps it
back to the identical JSON; the TypeScript compiler (``tsc --strict``) accepts every example as a value of its
event's type. Any failure fails ``make bindings``.

Runs with the interpreter of ``.venv-bindings`` (datamodel-code-generator and pydantic live there, apart from
the service's own dependencies); Node tools come from ``tools/bindings-js`` (``npm ci``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONSUMER = REPO / "schemas" / "consumer"
EXAMPLES = REPO / "schemas" / "examples"
NODE_TOOLS = REPO / "tools" / "bindings-js"


def package_version() -> str:
    """The bindings' version, from the schemas' own versions: MAJOR counts the breaking releases (1 + the majors
    above 1 of every event), MINOR the additive ones (every event's newest MINOR, plus one per event), so a new
    major of any event bumps MAJOR and a new minor or a new event bumps MINOR."""
    newest: dict[str, tuple[int, int]] = {}
    for path in sorted((REPO / "schemas" / "events").glob("*/v*.json")):
        major, minor = (int(x) for x in json.loads(path.read_text())["x-novamart"]["version"].split("."))
        newest[path.parent.name] = max(newest.get(path.parent.name, (0, 0)), (major, minor))
    breaking = 1 + sum(major - 1 for major, _ in newest.values())
    additive = sum(minor for _, minor in newest.values()) + len(newest)
    return f"{breaking}.{additive}.0"


def schemas() -> list[tuple[str, int, Path]]:
    """(detail-type, major, consumer schema) of every event version, sorted."""
    return sorted((p.parent.name, int(p.stem[1:]), p) for p in CONSUMER.glob("*/v*.json"))


def type_name(detail_type: str, major: int) -> str:
    return "".join(w.capitalize() for w in detail_type.replace(".", "_").split("_")) + f"V{major}"


def module_name(detail_type: str, major: int) -> str:
    return f"{detail_type.replace('.', '_')}_v{major}"


def valid_examples(detail_type: str, major: int) -> list[Path]:
    return sorted((EXAMPLES / detail_type / f"v{major}" / "valid").glob("*.json"))


def run(cmd: list[str], **kwargs: Any) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed:\n{result.stdout}{result.stderr}")


# --- Python ------------------------------------------------------------------------------------------------


def build_python(out: Path) -> Path:
    package = out / "novamart_events"
    package.mkdir(parents=True)
    codegen = Path(sys.executable).parent / "datamodel-codegen"
    exports = []
    for dt, major, path in schemas():
        name, module = type_name(dt, major), module_name(dt, major)
        run(
            [
                str(codegen),
                "--input", str(path),
                "--input-file-type", "jsonschema",
                "--output", str(package / f"{module}.py"),
                "--output-model-type", "pydantic_v2.BaseModel",
                "--class-name", name,
                "--target-python-version", "3.11",
                "--snake-case-field",
                "--capitalise-enum-members",
                "--use-annotated",
                "--field-constraints",
                "--use-double-quotes",
                "--disable-timestamp",
                "--formatters", "builtin",
                "--type-mappings", "date-time=string", "uuid=string",
            ]
        )  # fmt: skip
        exports.append((dt, major, module, name))
    imports = "\n".join(f"from novamart_events.{m} import {n}" for _, _, m, n in exports)
    table = "\n".join(f'    ("{dt}", {major}): {n},' for dt, major, _, n in exports)
    (package / "__init__.py").write_text(
        '"""NovaMart Payments event models (generated by tools/gen_bindings.py; do not edit)."""\n\n'
        f"from typing import Any\n\nfrom pydantic import BaseModel\n\n{imports}\n\n"
        "#: (detail-type, schema major) -> model (the major of detail.metadata.schemaVersion).\n"
        f"MODELS: dict[tuple[str, int], type[BaseModel]] = {{\n{table}\n}}\n\n\n"
        "from novamart_events.validate import EventInvalid, validate  # noqa: E402\n\n\n"
        "def parse_event(event: dict[str, Any]) -> BaseModel:\n"
        '    """The typed model of a whole EventBridge event, chosen like the schemas are."""\n'
        '    major = int(event["detail"]["metadata"]["schemaVersion"].split(".")[0])\n'
        '    return MODELS[(event["detail-type"], major)].model_validate(event)\n'
    )
    (package / "py.typed").write_text("")
    (out / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=69"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "novamart-events"\nversion = "{package_version()}"\n'
        'description = "Typed models of the NovaMart Payments events (generated from schemas/consumer)"\n'
        'requires-python = ">=3.11"\n'
        'dependencies = ["pydantic>=2.6,<3", "jsonschema[format-nongpl]>=4.21,<5"]\n\n'
        '[tool.setuptools.package-data]\nnovamart_events = ["py.typed", "schemas/*/*.json"]\n'
    )
    for dt, major, path in schemas():
        target = package / "schemas" / dt / f"v{major}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    shutil.copyfile(REPO / "tools" / "bindings_validate.py", package / "validate.py")
    return package


def python_round_trip(out: Path) -> list[str]:
    sys.path.insert(0, str(out))
    events = importlib.import_module("novamart_events")
    problems = []
    for dt, major, _ in schemas():
        for example in valid_examples(dt, major):
            event = json.loads(example.read_text())
            try:
                model = events.MODELS[(dt, major)].model_validate(event)
            except ValueError as err:  # pydantic's ValidationError
                problems.append(f"python: {example.relative_to(REPO)} is rejected: {err}")
                continue
            if events.parse_event(event) != model:
                problems.append(f"python: {example.relative_to(REPO)}: parse_event chose another model")
            back = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
            if back != event:
                problems.append(f"python: {example.relative_to(REPO)} does not round-trip: {back}")
    return problems


# --- TypeScript --------------------------------------------------------------------------------------------


def build_typescript(out: Path) -> None:
    out.mkdir(parents=True)
    jobs = [
        {"schema": str(path), "name": type_name(dt, major), "out": str(out / f"{dt}.v{major}.d.ts")}
        for dt, major, path in schemas()
    ]
    run(["node", str(NODE_TOOLS / "gen-ts.mjs")], input=json.dumps(jobs))
    index = "".join(f'export type {{ {type_name(dt, m)} }} from "./{dt}.v{m}";\n' for dt, m, _ in schemas())
    index += 'export { validate, problems } from "./validate";\n'
    for dt, major, path in schemas():
        target = out / "schemas" / dt / f"v{major}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for name in ("validate.js", "validate.d.ts"):
        shutil.copyfile(NODE_TOOLS / name, out / name)
    (out / "index.d.ts").write_text("// NovaMart Payments event types (generated by tools/gen_bindings.py).\n" + index)
    (out / "package.json").write_text(
        json.dumps(
            {
                "name": "@novamart/payments-events",
                "version": package_version(),
                "description": "Types of the NovaMart Payments events (generated from schemas/consumer)",
                "types": "index.d.ts",
                "main": "validate.js",
                "files": ["*.d.ts", "validate.js", "schemas/"],
                "dependencies": {"ajv": "^8.17.1", "ajv-formats": "^3.0.1"},
            },
            indent=2,
        )
        + "\n"
    )


def typescript_round_trip(out: Path, work: Path) -> list[str]:
    """Every valid example, as a literal of its event's type, must compile under ``tsc --strict``."""
    work.mkdir(parents=True)
    lines = []
    for i, (dt, major, _) in enumerate(schemas()):
        name = type_name(dt, major)
        lines.append(f'import type {{ {name} }} from "{out.as_posix()}/{dt}.v{major}";')
        for j, example in enumerate(valid_examples(dt, major)):
            lines.append(f"export const e{i}_{j}: {name} = {example.read_text()};")
    (work / "examples.ts").write_text("\n".join(lines) + "\n")
    tsc = NODE_TOOLS / "node_modules" / ".bin" / "tsc"
    cmd = [str(tsc), "--strict", "--noEmit", "--target", "es2022", "--moduleResolution", "node", "examples.ts"]
    result = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False)
    return [f"typescript: {line}" for line in result.stdout.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bindings")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    build_python(out / "python")
    build_typescript(out / "typescript")
    problems = python_round_trip(out / "python") + typescript_round_trip(out / "typescript", out / "roundtrip-ts")
    shutil.rmtree(out / "roundtrip-ts", ignore_errors=True)
    examples = sum(len(valid_examples(dt, m)) for dt, m, _ in schemas())
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"bindings in {out.relative_to(REPO) if out.is_relative_to(REPO) else out}: {len(schemas())} event versions,")
    print(f"  {examples} valid examples round-trip through the Python models and type-check as TypeScript")
    for package in build_dists(out):
        print(f"  built {package.relative_to(REPO) if package.is_relative_to(REPO) else package}")
    return 0


def build_dists(out: Path) -> list[Path]:
    """The installable packages in ``out/dist``: the wheel (setuptools, no network) and the npm tarball."""
    dist = out / "dist"
    dist.mkdir()
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist)]
    run([*pip, str(out / "python")])
    run(["npm", "pack", "--silent", "--pack-destination", str(dist)], cwd=out / "typescript")
    shutil.rmtree(out / "python" / "build", ignore_errors=True)
    return sorted(dist.iterdir())


if __name__ == "__main__":
    sys.exit(main())
