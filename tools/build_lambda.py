#!/usr/bin/env python3
"""Build build/lambda.zip: the novamart_payments package, its runtime schemas and its runtime dependencies.

Dependencies are installed for the Lambda platform (python3.12, manylinux x86_64, binary wheels only), not for
the machine running the build, so compiled wheels such as jsonschema-rs match the runtime. Left out:

- distributions the managed runtime already provides (boto3, botocore, s3transfer, jmespath, urllib3,
  python-dateutil, six), removed file by file from their ``RECORD`` even when another package pulled them in:
  the function runs on the runtime's copies, as the cold-start bench and ``make package-check`` do;
- type stubs (``*.pyi``), console scripts (``bin/``), pip's ``RECORD`` files and the build machine's caches;
- the schemas' examples, released snapshots and registry forms: the runtime reads ``schemas/common`` and
  ``schemas/events`` only, plus each event schema already inlined (``schemas/resolved``), written here so the
  first event of a cold start does not inline them.

Everything else the dependencies install ships as installed. The build used to leave out the code it proved the
handlers never load (the stripe SDK's typing-only ``stripe.params``, unused Powertools packages, ``*.dist-info``);
measured on the first response of a cold start it bought nothing (docs/performance.md, "Cold start: what is kept"),
so the proofs went with it: a cold start pays for the modules it imports, not for the files beside them.
``make package`` prints the size and the largest parts; ``make package-check`` then runs the zip on Python 3.12,
including the Stripe adapter against localstripe.

Every module is compiled for Python 3.12 (``__pycache__/*.cpython-312.pyc``, unchecked-hash): Lambda's code
directory is read-only, so without them each cold start compiles every imported module again. The zip is
reproducible (sorted entries, fixed timestamps, hash-based ``.pyc``), so an unchanged tree gives an unchanged
``source_code_hash`` and Terraform sees no change. ``--without PACKAGE`` builds a variant for measurements
(docs/performance.md reports the size with and without the stripe SDK); the deployed zip ships everything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PACKAGE = ROOT / "lambda_src" / "novamart_payments"
SCHEMAS = ROOT / "schemas"
RUNTIME = "3.12"
# Distributions the Lambda Python runtime ships (boto3 and what it depends on), by their normalised names.
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python_dateutil", "six"})
# The schema folders the runtime reads (novamart_payments.contracts); examples and snapshots stay out.
RUNTIME_SCHEMA_DIRS = ("common", "events")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
POWERTOOLS = "aws_lambda_powertools"


def find_python() -> list[str]:
    """The python3.12 command: $LAMBDA_PYTHON, python3.12 on PATH, or pyenv's 3.12.x."""
    candidates = [os.environ["LAMBDA_PYTHON"]] if os.environ.get("LAMBDA_PYTHON") else ["python3.12"]
    for cmd in candidates:
        if shutil.which(cmd) and subprocess.run([cmd, "-c", "pass"], capture_output=True).returncode == 0:
            return [cmd]
    if shutil.which("pyenv"):
        versions = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True).stdout.split()
        for version in versions:
            if version.startswith(RUNTIME + "."):
                prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True).stdout.strip()
                return [str(Path(prefix) / "bin" / "python3")]
    raise SystemExit(f"no Python {RUNTIME} found (the Lambda runtime's version); install it or set LAMBDA_PYTHON")


def _dist_name(dist_info: Path) -> str:
    """The normalised project name of a ``<name>-<version>.dist-info`` folder."""
    return _normalise(dist_info.name.split("-", 1)[0])


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def runtime_requirements(without: frozenset[str] = frozenset()) -> list[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    keep = []
    for dep in deps:
        name = _normalise(dep.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip())
        if name not in PROVIDED_BY_RUNTIME and name not in without:
            keep.append(dep)
    return keep


def install_dependencies(requirements: list[str], target: Path, python_version: str) -> None:
    stamp = target / ".requirements"
    wanted = "\n".join([python_version, *requirements])
    if stamp.exists() and stamp.read_text() == wanted:
        print(f">> dependencies up to date in {target}")
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    print(f">> installing {', '.join(requirements)} for Lambda python{python_version} (x86_64)")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--only-binary=:all:",
            *requirements,
        ],
        check=True,
    )
    remove_provided_by_runtime(target)
    stamp.write_text(wanted)


def remove_provided_by_runtime(target: Path) -> None:
    """Delete every file of the runtime's own distributions that pip pulled in as someone's dependency."""
    for dist_info in sorted(target.glob("*.dist-info")):
        if _dist_name(dist_info) not in PROVIDED_BY_RUNTIME:
            continue
        for line in (dist_info / "RECORD").read_text().splitlines():
            path = target / line.split(",")[0]
            if path.is_file():
                path.unlink()
        shutil.rmtree(dist_info, ignore_errors=True)
        print(f">> left out {dist_info.name}: the Lambda runtime provides it")
    for folder in sorted(target.rglob("*"), reverse=True):  # now-empty package folders
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _shipped(rel: str) -> bool:
    parts = rel.split("/")
    if "__pycache__" in parts or parts[0] in ("bin", ".requirements") or rel.endswith(".pyi"):
        return False
    return not (parts[0].endswith(".dist-info") and parts[-1] == "RECORD")


def stage(deps: Path, staging: Path) -> None:
    """Copy what the zip holds into ``staging``: trimmed dependencies, the package, the runtime schemas."""
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for path in sorted(deps.rglob("*")):
        rel = path.relative_to(deps).as_posix()
        if path.is_file() and _shipped(rel):
            _copy(path, staging / rel)
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if path.is_file() and _shipped(rel) and not rel.endswith(".pyc"):
            _copy(path, staging / rel)
    for folder in RUNTIME_SCHEMA_DIRS:
        for path in sorted((SCHEMAS / folder).rglob("*.json")):
            _copy(path, staging / "novamart_payments" / "schemas" / path.relative_to(SCHEMAS))
    write_resolved_schemas(staging / "novamart_payments" / "schemas")


def write_resolved_schemas(dest: Path) -> None:
    """Each event schema with its ``$ref``s inlined, as the runtime validates it, so a cold start reads one file
    instead of walking the shared definitions (novamart_payments.contracts.resolved_schema)."""
    sys.path.insert(0, str(PACKAGE.parent))
    from novamart_payments import contracts

    for path in sorted((SCHEMAS / "events").glob("*/v*.json")):
        target = dest / contracts.RESOLVED_DIR / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(contracts.inline_schema(path), separators=(",", ":"), sort_keys=True))


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def compile_for_runtime(staging: Path) -> None:
    """Compile every module with the runtime's Python into ``__pycache__`` (hash-based, so reproducible)."""
    subprocess.run(
        [*find_python(), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(staging)],
        check=True,
    )


def write_zip(staging: Path, out: Path) -> None:
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(staging.rglob("*")):
            if not path.is_file():
                continue
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(out)


def largest_parts(zip_path: Path, count: int = 6) -> list[tuple[str, int]]:
    """The top-level folders (and stripe's, Powertools' subfolders) taking the most bytes in the zip."""
    parts: dict[str, int] = {}
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            path = info.filename.split("/")
            depth = 2 if path[0] in ("stripe", POWERTOOLS) and len(path) > 2 else 1
            parts["/".join(path[:depth])] = parts.get("/".join(path[:depth]), 0) + info.compress_size
    return sorted(parts.items(), key=lambda item: -item[1])[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--python-version", default=RUNTIME, help="Lambda runtime's Python version")
    parser.add_argument("--zip-name", default="lambda.zip")
    parser.add_argument(
        "--without", action="append", default=[], help="leave a runtime dependency out (measurements only)"
    )
    args = parser.parse_args()
    out_dir: Path = args.out if args.out.is_absolute() else ROOT / args.out
    without = frozenset(_normalise(name) for name in args.without)
    variant = "".join(f"-without-{name}" for name in sorted(without))
    deps = out_dir / f"deps{variant}"
    install_dependencies(runtime_requirements(without), deps, args.python_version)
    staging = out_dir / f"staging{variant}"
    stage(deps, staging)
    compile_for_runtime(staging)
    zip_path = out_dir / args.zip_name
    write_zip(staging, zip_path)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()[:12]
    size = zip_path.stat().st_size
    print(f">> wrote {zip_path} ({size / 1_048_576:.2f} MiB, sha256 {digest}…)")
    print(">> largest parts: " + ", ".join(f"{name} {cost / 1_048_576:.2f}" for name, cost in largest_parts(zip_path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
