"""Proofs, by reading the code (tools/zip_imports.py), that what tools/build_lambda.py leaves out is never loaded.

- ``check_left_out``: no scanned module can import the left-out package at run time. A *lazy-map entry* for it in
  its parent package (``stripe.__getattr__`` maps ``params`` to ``stripe.params``) is harmless only while no
  scanned module can ask the parent for that attribute: ``stripe.params``, ``getattr(stripe, "params")``,
  ``from stripe import params``, ``from stripe import *`` and ``getattr(stripe, <computed>)`` are refused.
- ``closure``: the modules the handlers can load, following every run-time import (function-level too).
- ``unloadable``: a package whose ``__init__`` imports a distribution absent at run time before anything but the
  standard library can never load; an import of it fails with or without it, so it loads nothing of it.
- Dynamic imports nobody can resolve by reading must be in ``REVIEWED_DYNAMIC_IMPORTS``, with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from tools.zip_imports import ModuleReading, module_file, names, read

# Dynamic imports whose argument cannot be resolved by reading: (module, argument as written) -> why it cannot name
# a module the build leaves out. Reviewed by hand; the build fails when an unlisted site appears
# (or a listed one changes) in code the zip keeps.
REVIEWED_DYNAMIC_IMPORTS = {
    ("aws_xray_sdk.core.plugins.utils", "full_path"): (
        "'%s%s' % (module_prefix, short_name): module_prefix is the constant 'aws_xray_sdk.core.plugins.'"
    ),
    ("aws_xray_sdk.ext.django.db", "conn.__module__"): "the module of a live Django connection: imported already",
    ("wrapt.importer", "module_name"): (
        "a hook given as 'module:function': from entry points (discover_post_import_hooks, not called in the zip); "
        "the zip's callers (wrapt.patches, aws_xray_sdk.core.patcher) pass functions"
    ),
    (
        "wrapt.patches",
        "target",
    ): "the module a wrapper patches, named by its caller: aws_xray_sdk.ext names its library",
    ("wrapt.proxies", "name"): "wrapt.lazy_import(name), named by its caller; no module in the zip calls it",
    ("aws_lambda_powertools.shared.lazy_import", "self.__name__"): (
        "LazyLoader(name): its only callers (tracing.tracer) pass constants.XRAY_SDK_MODULE / XRAY_SDK_CORE_MODULE, "
        "'aws_xray_sdk' and 'aws_xray_sdk.core'"
    ),
}


def unreviewed(module: str, reading: ModuleReading, root: Path) -> Iterator[str]:
    for line, text in reading.unresolved:
        if (module, text) not in REVIEWED_DYNAMIC_IMPORTS:
            yield f"{module_file(root, module)}:{line}: import_module({text}) cannot be resolved by reading"


def check_left_out(root: Path, scanned: dict[str, Path], left_out: str) -> list[str]:
    """Every way a scanned module can load ``left_out`` at run time; empty when it provably never loads.

    A lazy-map entry in ``left_out``'s parent package counts only if some scanned module can ask the parent for
    that attribute (``lazy_attribute_uses``)."""
    parent, _, attr = left_out.rpartition(".")
    problems: list[str] = []
    for module, path in sorted(scanned.items()):
        reading = read(module, path)
        problems.extend(unreviewed(module, reading, root))
        for ref in reading.refs:
            under = ref.how == "dynamic import under" and names(left_out, ref.target)
            if not (names(ref.target, left_out) or under):
                continue
            if ref.how.startswith("lazy map entry") and module == parent:
                continue  # harmless unless the attribute is asked for: checked below
            problems.append(ref.describe(root) + " outside `if TYPE_CHECKING:`")
        for line, owner, name in reading.attribute_uses:
            if owner in (parent, "?." + parent.rpartition(".")[2]) and name in (attr, "*", "?"):
                shown = {"*": "import *", "?": "getattr with a computed name"}.get(name, f"attribute {attr}")
                problems.append(f"{module_file(root, module)}:{line}: {shown} on {parent} (reaches its lazy map)")
    return problems


def closure(
    root: Path, modules: dict[str, Path], roots: Iterable[str], dead: frozenset[str] = frozenset()
) -> tuple[set[str], list[str]]:
    """The modules of ``modules`` that the ``roots`` can load at run time (with their parent packages), and the
    dynamic imports met on the way that nobody has reviewed. An import into a ``dead`` package (``unloadable``)
    loads nothing of it: it fails in the package's ``__init__`` first."""
    seen: set[str] = set()
    problems: list[str] = []
    todo = [m for m in roots if m in modules]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        reading = read(module, modules[module])
        problems.extend(unreviewed(module, reading, root))
        for ref in reading.refs:
            parts = ref.target.split(".")
            reached = [".".join(parts[:end]) for end in range(1, len(parts) + 1)]  # a.b.c runs a and a.b first
            if ref.how == "dynamic import under":
                reached += [m for m in modules if names(m, ref.target)]
            for name in reached:
                if any(names(name, d) for d in dead):
                    break
                if name in modules and name not in seen:
                    todo.append(name)
        parent = module.rpartition(".")[0]
        if parent in modules and parent not in seen:
            todo.append(parent)
    return seen, problems


def unused_packages(modules: dict[str, Path], used: set[str], top: str) -> list[str]:
    """The largest subpackages of ``top`` none of whose modules is in ``used``."""
    packages = sorted(m for m, p in modules.items() if p.name == "__init__.py" and m != top)
    unused: list[str] = []
    for package in packages:
        if any(names(package, u) for u in unused):
            continue
        if not any(names(m, package) for m in used):
            unused.append(package)
    return unused


def unloadable(path: Path, absent: frozenset[str], stdlib: frozenset[str]) -> str | None:
    """The absent distribution a package's ``__init__`` imports before anything but the standard library, if any.

    Such a package can never load: importing it, or anything inside it, raises ModuleNotFoundError after running
    only standard-library imports, and it raises the same error when the package is not there at all."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0):
            full = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            tops = {name.partition(".")[0] for name in full}
            if tops & absent:
                return sorted(tops & absent)[0]
            if tops <= stdlib | {"__future__"}:
                continue
        return None
    return None
