"""The test tree keeps its own rules (issue 23):
- the run order is stated by name (tests/support/run_order.py), not by ``zz`` prefixes: the IAM check runs last
  because it judges every AWS call the run recorded, the leak scan last in the reliability suite because it scans
  what that suite produced, and the suites that send nothing to the emulator first; tests/conftest.py applies it;
- helpers live in tests/support (or beside their suite), never in a conftest.py: no module imports a conftest, and
  a conftest.py defines only fixtures, hooks and pytest-bdd steps (and private helpers of those).
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.run_order import AHEAD_OF_THE_STACK, LAST_IN_SUITE, LAST_SUITE, TESTS, run_order, suite_of

ROOT = TESTS.parent


def every_test_module() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "node_modules" not in p.parts)


def adverse_order() -> list[SimpleNamespace]:
    """Every test file as a collected item, the ones that must run last put first."""
    last = {(suite, name) for suite, name in LAST_IN_SUITE.items()}
    files = sorted(
        every_test_module(), key=lambda p: (suite_of(p) != LAST_SUITE, (suite_of(p), p.name) not in last, p.as_posix())
    )
    return [SimpleNamespace(path=p) for p in files]


def test_the_suites_and_files_the_run_order_names_exist() -> None:
    suites = {suite_of(p) for p in every_test_module()}
    for suite in (*AHEAD_OF_THE_STACK, LAST_SUITE):
        assert suite in suites, f"run_order names tests/{suite}, which has no tests"
    for suite, name in LAST_IN_SUITE.items():
        assert (TESTS / suite / name).is_file(), f"run_order names tests/{suite}/{name}, which does not exist"


def test_no_suite_is_named_to_run_last() -> None:
    """Order by name is what run_order replaced: a ``zz`` prefix would hide which need it serves."""
    assert not [p for p in TESTS.rglob("*zz*") if "node_modules" not in p.parts]


def assert_run_order(ordered: list[SimpleNamespace]) -> None:
    suites = [suite_of(i.path) for i in ordered]
    ahead = [n for n, s in enumerate(suites) if s in AHEAD_OF_THE_STACK]
    assert ahead == list(range(len(ahead))), "the suites that send nothing to the emulator run first"
    iam = [n for n, s in enumerate(suites) if s == LAST_SUITE]
    assert iam and iam == list(range(len(suites) - len(iam), len(suites))), "the IAM check runs last"
    for suite, name in LAST_IN_SUITE.items():
        names = [i.path.name for i in ordered if suite_of(i.path) == suite]
        assert names[-1] == name and names.count(name) == 1, f"{name} runs last in tests/{suite}"
        positions = [n for n, s in enumerate(suites) if s == suite]
        assert positions == list(range(positions[0], positions[-1] + 1)), f"tests/{suite} runs as one block"


def test_the_iam_check_runs_last_and_the_leak_scan_last_in_its_suite() -> None:
    assert_run_order(run_order(adverse_order()))


def test_the_root_conftest_applies_the_run_order(request: pytest.FixtureRequest) -> None:
    """The hook pytest really calls (tests/conftest.py's, found through pytest's plugin manager) orders as above."""
    hooks = request.config.pluginmanager.hook.pytest_collection_modifyitems.get_hookimpls()
    (root_hook,) = [h for h in hooks if getattr(h.plugin, "__file__", None) == str(TESTS / "conftest.py")]
    items = adverse_order()
    root_hook.function(items=items)
    assert_run_order(items)


def python_files() -> list[Path]:
    return sorted(
        p for folder in ("tests", "tools") for p in (ROOT / folder).rglob("*.py") if "node_modules" not in p.parts
    )


def imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
            names.extend(f"{node.module or ''}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


def test_no_module_imports_from_a_conftest() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in python_files()
        for name in imported_modules(ast.parse(p.read_text(encoding="utf-8")))
        if name.split(".")[-1] == "conftest"
    ]
    assert not offenders, f"helpers belong in tests/support, not in a conftest.py: {offenders}"


def undecorated_public(tree: ast.Module) -> list[str]:
    """Top-level functions and classes of a conftest that are neither a hook nor decorated (fixture, bdd step)."""
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.decorator_list
        and not node.name.startswith(("_", "pytest_"))
    ]


def test_conftest_files_hold_only_fixtures_hooks_and_steps() -> None:
    conftests = sorted(TESTS.rglob("conftest.py"))
    assert TESTS / "integration" / "conftest.py" in conftests
    found = {
        str(p.relative_to(ROOT)): names
        for p in conftests
        if (names := undecorated_public(ast.parse(p.read_text(encoding="utf-8"))))
    }
    assert not found, f"helpers in conftest.py files (move them to tests/support): {found}"
