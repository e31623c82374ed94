"""The dev tooling stays a house with small rooms: no file under tools/ over 400 lines, no import cycle among its
modules (issue 14). The import graph comes from grimp (import-linter's graph builder), which reads every import
statement of the ``tools`` namespace package, those inside functions included, without importing anything.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

from tests.support.import_graph import import_cycle

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
MAX_LINES = 400
# Node projects of their own (installed with npm ci); no Python of ours lives under their node_modules.
SKIPPED_PARTS = {"node_modules", "__pycache__"}


def python_files() -> list[Path]:
    return sorted(p for p in TOOLS.rglob("*.py") if not SKIPPED_PARTS & set(p.relative_to(TOOLS).parts))


def test_the_tooling_has_python_files_to_check() -> None:
    files = {p.relative_to(TOOLS).as_posix() for p in python_files()}
    assert {"devstack/lambda_service.py", "devstack/cli.py", "docgen/build.py"} <= files


@pytest.mark.parametrize("path", python_files(), ids=lambda p: p.relative_to(TOOLS).as_posix())
def test_no_file_under_tools_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it by concern"


def test_no_import_cycle_among_the_tooling_modules() -> None:
    graph = grimp.build_graph("tools", cache_dir=None)
    assert "tools.devstack.lambda_service" in graph.modules  # the graph really covers the package
    cycle = import_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check above cannot pass vacuously: the same function names a cycle added to a real graph."""
    graph = grimp.build_graph("tools", cache_dir=None)
    graph.add_import(importer="tools.devstack.aws", imported="tools.devstack.lambda_service")
    cycle = import_cycle(graph)
    assert cycle is not None and {"tools.devstack.aws", "tools.devstack.lambda_service"} <= set(cycle)
