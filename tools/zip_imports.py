"""What a module can import at run time, read from its source (``ast``) without running it (tools/zip_proofs.py).

An import counts when it can run: anywhere in a module (top level, function, method, ``try``), except the body of
``if TYPE_CHECKING:`` (``typing`` or ``typing_extensions``), which only type checkers read. Relative imports are
resolved against the importing module. Dynamic imports (``importlib.import_module``, ``__import__``) count too:

- a string literal, ``f"{__name__}.x"`` or ``import_module(".x", __name__)`` is resolved like a static import;
- ``import_module(v)`` where ``v`` was unpacked from ``TABLE[key]`` and ``TABLE`` is a module-level dict whose values
  are tuples of string literals (the stripe SDK's generated lazy maps, also through ``m = A if v1 else B``) may
  import any first element of the table; ``for v in ("a", "b"): __import__(v)`` imports each of them;
- ``"pkg.sub.%s" % x``, ``"pkg.sub." + x`` or ``f"pkg.sub.{x}"`` (directly or through a name bound once) may
  import anything inside ``pkg.sub``;
- anything else is *unresolved*: zip_proofs refuses it unless a person has reviewed the site.

Attribute uses of imported modules (``stripe.params``, ``getattr(stripe, name)``) are recorded too: a package's
lazy ``__getattr__`` turns them into imports.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

_TYPING_MODULES = frozenset({"typing", "typing_extensions"})
_IMPORT_FUNCTIONS = frozenset({"import_module", "__import__"})


@dataclass(frozen=True)
class Reference:
    """One way a module can load ``target`` at run time (``how``: import, dynamic, lazy-map, attribute)."""

    module: str
    line: int
    target: str
    how: str

    def describe(self, root: Path) -> str:
        return f"{module_file(root, self.module)}:{self.line}: {self.how} of {self.target}"


def module_file(root: Path, module: str) -> str:
    path = root / module.replace(".", "/")
    return (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).relative_to(root).as_posix()


def modules_of(root: Path, top: str) -> dict[str, Path]:
    """Every module of the package (or single module) ``top`` under ``root``, by dotted name."""
    found: dict[str, Path] = {}
    single = root / f"{top}.py"
    if single.is_file():
        return {top: single}
    for path in sorted((root / top).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def names(target: str, prefix: str) -> bool:
    """Whether the dotted ``target`` is the module ``prefix`` or inside it."""
    return target == prefix or target.startswith(prefix + ".")


class _Reader(ast.NodeVisitor):
    """Collects a module's run-time references; ``if TYPE_CHECKING:`` bodies are skipped."""

    def __init__(self, module: str, is_package: bool, tree: ast.Module) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.refs: list[Reference] = []
        self.unresolved: list[tuple[int, str]] = []
        self.aliases: dict[str, str] = {}  # local name -> module it is bound to (import x / import x as y)
        self.tables = _string_tables(tree)
        self.unpacked: dict[str, list[tuple[str, str]]] = {}  # name -> [(key, target)] from TABLE[key] unpacking
        self.rebound = _rebound_names(tree, self.tables)  # names also bound some other way: value unknown
        self.loops = {  # for name in ("a", "b"): the name's only values
            node.target.id: [e.value for e in node.iter.elts if isinstance(e, ast.Constant)]
            for node in ast.walk(tree)
            if isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, ast.Tuple | ast.List)
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.iter.elts)
        }
        self.stores = _store_counts(tree)
        self.single = {  # name = <expression>, the name's only binding
            node.targets[0].id: node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and self.stores.get(node.targets[0].id) == 1
        }
        self.typing_names = _typing_names(tree)
        self.attribute_uses: list[tuple[int, str, str]] = []  # (line, module alias target, attribute or "*"/"?")

    # -- what is skipped -----------------------------------------------------------------------------------------
    def visit_If(self, node: ast.If) -> None:
        if self._is_type_checking(node.test):
            for child in node.orelse:  # the else branch runs
                self.visit(child)
            return
        self.generic_visit(node)

    def _is_type_checking(self, test: ast.expr) -> bool:
        if isinstance(test, ast.Name):
            return test.id == "TYPE_CHECKING" and "TYPE_CHECKING" in self.typing_names
        return (
            isinstance(test, ast.Attribute)
            and test.attr == "TYPE_CHECKING"
            and isinstance(test.value, ast.Name)
            and self.aliases.get(test.value.id) in _TYPING_MODULES
        )

    # -- static imports ------------------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.refs.append(Reference(self.module, node.lineno, alias.name, "import"))
            self.aliases[alias.asname or alias.name.partition(".")[0]] = (
                alias.name if alias.asname else alias.name.partition(".")[0]
            )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node.module or "", node.level)
        self.refs.append(Reference(self.module, node.lineno, base, "import"))
        for alias in node.names:
            if alias.name == "*":
                self.attribute_uses.append((node.lineno, base, "*"))
            else:
                self.refs.append(Reference(self.module, node.lineno, f"{base}.{alias.name}", "import"))

    def _absolute(self, name: str, level: int, package: str | None = None) -> str:
        if not level:
            return name
        parts = (package or self.package).split(".")
        base = ".".join(parts[: len(parts) - (level - 1)])
        return f"{base}.{name}" if name else base

    # -- dynamic imports and lazy attributes ---------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        value = node.value
        if (
            isinstance(value, ast.Subscript)
            and isinstance(value.value, ast.Name)
            and value.value.id in self.tables
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Tuple)
        ):
            for index, element in enumerate(node.targets[0].elts):
                if isinstance(element, ast.Name):
                    table = self.tables[value.value.id]
                    entries = [(k, v[index]) for k, v in table.items() if index < len(v)]
                    self.unpacked.setdefault(element.id, []).extend(entries)  # every table it is unpacked from
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id in self.aliases:
            self.attribute_uses.append((node.lineno, self.aliases[node.value.id], node.attr))
        elif isinstance(node.value, ast.Attribute):  # other_module.stripe.params: stripe reached through another
            self.attribute_uses.append((node.lineno, "?." + node.value.attr, node.attr))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if called in _IMPORT_FUNCTIONS and node.args:
            self._dynamic(node)
        if called in ("getattr", "hasattr") and len(node.args) >= 2 and isinstance(node.args[0], ast.Name):
            owner = self.aliases.get(node.args[0].id)
            if owner:
                attr = node.args[1]
                name = attr.value if isinstance(attr, ast.Constant) and isinstance(attr.value, str) else "?"
                self.attribute_uses.append((node.lineno, owner, name))
        self.generic_visit(node)

    def _dynamic(self, node: ast.Call) -> None:
        arg = node.args[0]
        anchor = node.args[1] if len(node.args) > 1 else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            relative = len(arg.value) - len(arg.value.lstrip("."))
            if relative and _is_dunder_name(anchor):
                target = self._absolute(arg.value[relative:], relative, package=self.module)
            else:
                target = arg.value
            self.refs.append(Reference(self.module, node.lineno, target, "dynamic import"))
        elif _is_name_fstring(arg):
            suffix = "".join(str(v.value) for v in arg.values[1:] if isinstance(v, ast.Constant))  # type: ignore[attr-defined]
            self.refs.append(Reference(self.module, node.lineno, self.module + suffix, "dynamic import"))
        elif isinstance(arg, ast.Name) and arg.id in self.unpacked and arg.id not in self.rebound:
            for key, entry in self.unpacked[arg.id]:
                self.refs.append(Reference(self.module, node.lineno, entry, f"lazy map entry {key!r}"))
        elif isinstance(arg, ast.Name) and arg.id in self.loops and self.stores.get(arg.id) == 1:
            for value in self.loops[arg.id]:
                self.refs.append(Reference(self.module, node.lineno, str(value), "dynamic import"))
        elif prefix := _absolute_prefix(self.single.get(arg.id, arg) if isinstance(arg, ast.Name) else arg):
            self.refs.append(Reference(self.module, node.lineno, prefix, "dynamic import under"))
        else:
            self.unresolved.append((node.lineno, ast.unparse(arg)))


def _absolute_prefix(node: ast.expr) -> str | None:
    """``"pkg.sub.%s" % x``, ``"pkg.sub." + x`` or ``f"pkg.sub.{x}"``: some module inside ``pkg.sub``."""
    head: ast.expr | None = None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        head = node.left
    elif isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
    if not (isinstance(head, ast.Constant) and isinstance(head.value, str)):
        return None
    text = head.value.split("%", 1)[0]
    if text.startswith(".") or "." not in text:
        return None
    return text.rpartition(".")[0] or None


def _is_dunder_name(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Name) and node.id in ("__name__", "__package__")


def _is_name_fstring(node: ast.expr) -> bool:
    """``f"{__name__}.literal"``: a submodule of the importing module, named in full."""
    if not isinstance(node, ast.JoinedStr) or not node.values:
        return False
    head, *rest = node.values
    return (
        isinstance(head, ast.FormattedValue)
        and _is_dunder_name(head.value)
        and all(isinstance(v, ast.Constant) for v in rest)
    )


def _rebound_names(tree: ast.Module, tables: dict[str, dict[str, tuple[str, ...]]]) -> set[str]:
    """Names bound other than by ``a, b = TABLE[key]`` (arguments, loops, ``with``, plain assignment): what
    ``import_module`` gets through them is unknown, so they are never resolved through a table."""
    from_tables = {
        id(element)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Subscript)
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id in tables
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Tuple)
        for element in node.targets[0].elts
    }
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and id(node) not in from_tables:
            bound.add(node.id)
    return bound


def _store_counts(tree: ast.Module) -> dict[str, int]:
    """How many times each name is bound (assignment, loop, ``with``, argument) anywhere in the module."""
    stores: dict[str, int] = {}
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) else None
        name = node.arg if isinstance(node, ast.arg) else name
        if name:
            stores[name] = stores.get(name, 0) + 1
    return stores


def _typing_names(tree: ast.Module) -> set[str]:
    """Names bound by ``from typing import TYPE_CHECKING`` (or typing_extensions) anywhere in the module."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in _TYPING_MODULES and not node.level
        for alias in node.names
    }


def _string_tables(tree: ast.Module) -> dict[str, dict[str, tuple[str, ...]]]:
    """Module-level ``NAME = {"key": ("a", ...), ...}`` whose keys and values are all string literals."""
    tables: dict[str, dict[str, tuple[str, ...]]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict)):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        if not isinstance(target, ast.Name):
            continue
        table: dict[str, tuple[str, ...]] = {}
        for key, value in zip(node.value.keys, node.value.values, strict=True):
            elements = value.elts if isinstance(value, ast.Tuple | ast.List) else []
            strings = tuple(e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str))
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and strings:
                table[key.value] = strings
        if table:
            tables[target.id] = table
    return _with_aliases(tree, tables)


def _with_aliases(
    tree: ast.Module, tables: dict[str, dict[str, tuple[str, ...]]]
) -> dict[str, dict[str, tuple[str, ...]]]:
    """``mapping = A if v1 else B`` over tables, bound nowhere else: a table holding both (stripe's object classes)."""
    stores = _store_counts(tree)
    aliases = dict(tables)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name, value = node.targets[0].id, node.value
        branches = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
        if (
            stores[name] == 1
            and name not in tables
            and all(isinstance(b, ast.Name) and b.id in tables for b in branches)
        ):
            merged: dict[str, tuple[str, ...]] = {}
            for branch in branches:
                merged.update({f"{branch.id}[{k!r}]": v for k, v in tables[branch.id].items()})  # type: ignore[attr-defined]
            aliases[name] = merged
    return aliases


@dataclass
class ModuleReading:
    refs: list[Reference]
    unresolved: list[tuple[int, str]]
    attribute_uses: list[tuple[int, str, str]]


def read(module: str, path: Path) -> ModuleReading:
    """What ``module`` (the file ``path``) can import at run time. The build reads each module for several proofs;
    the reading is kept while the file is unchanged."""
    stat = path.stat()
    return _read(module, path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _read(module: str, path: Path, mtime_ns: int, size: int) -> ModuleReading:
    tree = ast.parse(path.read_bytes(), filename=str(path))
    reader = _Reader(module, path.name == "__init__.py", tree)
    reader.visit(tree)
    return ModuleReading(reader.refs, reader.unresolved, reader.attribute_uses)
