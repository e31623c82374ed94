#!/usr/bin/env python3
"""Build build/lambda.zip: the novamart_payments package, its runtime schemas and its runtime dependencies.

Dependencies are installed for the Lambda platform (python3.12, manylinux x86_64, binary wheels only), not for
the machine running the build, so compiled wheels such as jsonschema-rs match the runtime. Then the zip is
trimmed of what the function provably never loads, because every byte and every uncompiled module is paid on
each cold start:

- distributions the managed runtime already provides (boto3, botocore, s3transfer, jmespath, urllib3,
  python-dateutil, six), removed file by file from their ``RECORD`` even when another package pulled them in:
  a bundled copy would shadow the runtime's and load a second time;
- type stubs (``*.pyi``), console scripts (``bin/``), pip's ``RECORD`` files and the build machine's caches;
- the schemas' examples, released snapshots and registry forms: the runtime reads ``schemas/common`` and
  ``schemas/events`` only, plus each event schema already inlined (``schemas/resolved``), written here so the
  first event of a cold start does not inline them;
- ``stripe/params`` (842 modules, 2.0 MiB): the SDK's TypedDicts for request parameters, imported only under
  ``if TYPE_CHECKING:``. Proven on every build (``trim_unreachable``): no shipped stripe module and no
  novamart_payments module imports ``stripe.params`` at run time in any spelling (absolute, relative, ``from stripe
  import params``, a dynamic import), and none asks ``stripe`` for the attribute its lazy ``__getattr__`` maps to
  it. ``stripe/events`` stays: ``stripe._util._convert_to_stripe_object``, which turns every API answer into
  objects, imports it at run time for v2 events (``api_mode == "V2"``), and v2 notifications import it too; that
  our v1-only calls never take that branch is true but not something reading the code can prove;
- the Powertools packages the four handlers cannot load: those with no module in the run-time import closure of
  novamart_payments (the handlers and all they import: every import, function-level ones included, dynamic ones
  resolved or reviewed), and ``parser``, whose
  ``__init__`` needs pydantic, which neither the zip nor the runtime has (``batch`` imports it only if pydantic is
  loaded). ``event_handler`` stays: ``shared.functions.pydantic_to_dict`` imports it (for pydantic models only);
- every ``*.dist-info``: nothing shipped reads distribution metadata (``importlib.metadata`` and the like; wrapt's
  entry-point discovery is reviewed, see ``METADATA_READERS``), and no compiled extension names it.

A proof that fails stops the build with the file and line that load the part (see tools/zip_proofs.py for the
rules; tests/unit/test_zip_proofs.py shows them refusing and accepting). ``make package`` prints what was left out,
the size before and after, and the largest parts; ``make package-check`` then runs the zip on Python 3.12,
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
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script (make package): tools.* from the repository root
    sys.path.insert(0, str(ROOT))
from tools import zip_imports, zip_proofs  # noqa: E402

PACKAGE = ROOT / "lambda_src" / "novamart_payments"
SCHEMAS = ROOT / "schemas"
RUNTIME = "3.12"
# Distributions the Lambda Python runtime ships (boto3 and what it depends on), by their normalised names.
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python_dateutil", "six"})
# The schema folders the runtime reads (novamart_payments.contracts); examples and snapshots stay out.
RUNTIME_SCHEMA_DIRS = ("common", "events")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
# Parts of the stripe SDK left out when the build proves no shipped module imports them at run time.
STRIPE_LEFT_OUT = ("stripe.params",)
POWERTOOLS = "aws_lambda_powertools"
# The functions' handler modules (terraform/modules/service). The closure starts from every novamart_payments
# module, a superset of what they import; a missing handler stops the build rather than trimming against nothing.
HANDLERS = tuple(f"novamart_payments.handlers.{name}" for name in ("payment", "refund", "webhooks", "reconcile"))
# Neither in the zip (checked) nor in the managed runtime: a Powertools package whose __init__ needs one of them
# cannot load there (zip_proofs.unloadable).
ABSENT_AT_RUNTIME = frozenset({"pydantic", "pydantic_core"})
# Code that reads installed distributions' metadata (``*.dist-info``), reviewed: the build leaves every
# ``*.dist-info`` out only while these are the only readers and the reason holds.
METADATA_READERS = {
    "wrapt.importer": "entry_points(group=...) in discover_post_import_hooks, which nothing in the zip calls; the "
    "shipped entry_points.txt hold console_scripts only (checked), so it would find nothing of ours anyway",
}
_METADATA_MODULES = ("importlib.metadata", "importlib_metadata", "pkg_resources")
# What the runtime provides besides the standard library, by import name (with PROVIDED_BY_RUNTIME's code).
RUNTIME_IMPORTS = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six"})


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


def _top_levels(staging: Path) -> list[str]:
    return sorted(
        p.name.removesuffix(".py")
        for p in staging.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file()) or p.suffix == ".py"
    )


def _shipped_modules(staging: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for top in _top_levels(staging):
        modules.update(zip_imports.modules_of(staging, top))
    return modules


def _refuse(what: str, problems: list[str]) -> None:
    shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
    raise SystemExit(f"build_lambda: cannot leave out {what}: it may load at run time:\n  {shown}")


def _zip_cost(folder: Path, staging: Path) -> int:
    """The bytes a folder's files take in the zip: raw deflate at write_zip's level, plus both zip headers."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_file():
            deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
            name = len(path.relative_to(staging).as_posix().encode())
            total += len(deflate.compress(path.read_bytes()) + deflate.flush()) + 30 + 46 + 2 * name
    return total


def _remove(staging: Path, package: str, why: str) -> int:
    folder = staging / package.replace(".", "/")
    cost = _zip_cost(folder, staging)
    shutil.rmtree(folder)
    print(f">> left out {package} ({cost / 1_048_576:.2f} MiB): {why}")
    return cost


def trim_unreachable(staging: Path) -> int:
    """Leave out the stripe SDK's typing-only packages and the Powertools packages the handlers cannot load, each
    proven on this very tree by reading it (tools/zip_proofs.py); a failed proof stops the build. Answers the
    bytes the left-out files (with their ``.pyc``) would have taken in the zip."""
    saved = 0
    modules = _shipped_modules(staging)
    ours = {m: p for m, p in modules.items() if zip_imports.names(m, "novamart_payments")}
    for left_out in STRIPE_LEFT_OUT if (staging / "stripe").is_dir() else ():  # --without stripe
        scanned = {
            m: p for m, p in modules.items() if zip_imports.names(m, "stripe") and not zip_imports.names(m, left_out)
        }
        problems = zip_proofs.check_left_out(staging, scanned | ours, left_out)
        if problems:
            _refuse(left_out, problems)
        saved += _remove(staging, left_out, "imported only under `if TYPE_CHECKING:` (typing only)")
        modules = {m: p for m, p in modules.items() if not zip_imports.names(m, left_out)}
    in_zip = set(_top_levels(staging))
    if in_zip & ABSENT_AT_RUNTIME:
        raise SystemExit(f"build_lambda: {sorted(in_zip & ABSENT_AT_RUNTIME)} is in the zip; update ABSENT_AT_RUNTIME")
    stdlib = frozenset(sys.stdlib_module_names)
    powertools = {m: p for m, p in modules.items() if zip_imports.names(m, POWERTOOLS)}
    dead = {
        m: absent
        for m, p in powertools.items()
        if p.name == "__init__.py" and (absent := zip_proofs.unloadable(p, ABSENT_AT_RUNTIME, stdlib))
    }
    if missing := [h for h in HANDLERS if h not in ours]:
        raise SystemExit(f"build_lambda: handler modules {missing} are not in the zip; update HANDLERS")
    used, problems = zip_proofs.closure(staging, modules, ours, frozenset(dead))
    if problems:
        _refuse(f"any of {POWERTOOLS}", problems)
    for package in zip_proofs.unused_packages(powertools, used, POWERTOOLS):
        why = f"its __init__ needs {dead[package]}, absent at run time" if package in dead else "no handler imports it"
        saved += _remove(staging, package, why)
    return saved


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


def leave_out_dist_info(staging: Path) -> int:
    """Leave out every ``*.dist-info`` once no shipped code can read it (see METADATA_READERS)."""
    problems = []
    for module, path in sorted(_shipped_modules(staging).items()):
        reading = zip_imports.read(module, path)
        targets = [(r.line, r.target) for r in reading.refs]
        targets += [(line, f"{owner}.{attr}") for line, owner, attr in reading.attribute_uses]
        for line, target in targets:
            if any(zip_imports.names(target, m) for m in _METADATA_MODULES) and module not in METADATA_READERS:
                problems.append(f"{zip_imports.module_file(staging, module)}:{line}: uses {target}")
    for binary in sorted(staging.rglob("*.so")):
        data = binary.read_bytes()
        problems += [f"{binary.relative_to(staging)} names {m}" for m in _METADATA_MODULES if m.encode() in data]
    for entry_points in sorted(staging.glob("*.dist-info/entry_points.txt")):
        sections = {line.strip() for line in entry_points.read_text().splitlines() if line.startswith("[")}
        if sections - {"[console_scripts]"}:
            problems.append(f"{entry_points.relative_to(staging)} declares {sorted(sections)}")
    if problems:
        _refuse("*.dist-info", problems)
    saved = 0
    for dist_info in sorted(staging.glob("*.dist-info")):
        saved += _zip_cost(dist_info, staging)
        shutil.rmtree(dist_info)
    print(f">> left out every *.dist-info ({saved / 1_048_576:.2f} MiB): no shipped code reads distribution metadata")
    return saved


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
    compile_for_runtime(staging)  # first, so the size before trimming counts the .pyc of what is left out
    saved = trim_unreachable(staging) + leave_out_dist_info(staging)
    zip_path = out_dir / args.zip_name
    write_zip(staging, zip_path)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()[:12]
    size = zip_path.stat().st_size
    print(f">> wrote {zip_path} ({size / 1_048_576:.2f} MiB, sha256 {digest}…)")
    before = (size + saved) / 1_048_576
    print(f">> size: {before:.2f} MiB before leaving out unreachable code, {size / 1_048_576:.2f} after")
    print(">> largest parts: " + ", ".join(f"{name} {cost / 1_048_576:.2f}" for name, cost in largest_parts(zip_path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
