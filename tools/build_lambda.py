#!/usr/bin/env python3
"""Build build/lambda.zip: the novamart_payments package, its schemas and its runtime dependencies.

Dependencies are installed for the Lambda platform (python3.12, manylinux x86_64, binary wheels only), not for
the machine running the build, so compiled wheels such as rpds-py match the runtime. boto3/botocore are left
out: the managed runtime provides them. The zip is reproducible (sorted entries, fixed timestamps), so an
unchanged tree gives an unchanged ``source_code_hash`` and Terraform sees no change.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lambda_src" / "novamart_payments"
SCHEMAS = ROOT / "schemas"
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
# Shared with the runtime's botocore, which needs dateutil 2.x; jsonschema's format extras would pull 4.x.
RUNTIME_COMPATIBLE_PINS = ["python-dateutil>=2.8,<3"]


def runtime_requirements() -> list[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [d for d in deps if not d.lower().startswith(PROVIDED_BY_RUNTIME)]


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
    stamp.write_text(wanted)


def files_to_zip(deps: Path) -> list[tuple[Path, str]]:
    entries: list[tuple[Path, str]] = []
    for path in sorted(deps.rglob("*")):
        rel = path.relative_to(deps).as_posix()
        if path.is_file() and "__pycache__" not in rel and rel != ".requirements" and not rel.startswith("bin/"):
            entries.append((path, rel))
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if path.is_file() and "__pycache__" not in rel:
            entries.append((path, rel))
    for path in sorted(SCHEMAS.rglob("*.json")):
        entries.append((path, f"novamart_payments/schemas/{path.relative_to(SCHEMAS).as_posix()}"))
    return entries


def write_zip(entries: list[tuple[Path, str]], out: Path) -> None:
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, name in entries:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    tmp.replace(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--python-version", default="3.12", help="Lambda runtime's Python version")
    args = parser.parse_args()
    out_dir: Path = args.out if args.out.is_absolute() else ROOT / args.out
    deps = out_dir / "deps"
    install_dependencies(runtime_requirements() + RUNTIME_COMPATIBLE_PINS, deps, args.python_version)
    zip_path = out_dir / "lambda.zip"
    write_zip(files_to_zip(deps), zip_path)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()[:12]
    size = zip_path.stat().st_size / 1_048_576
    print(f">> wrote {zip_path} ({size:.1f} MiB, sha256 {digest}…)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
