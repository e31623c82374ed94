"""Import-graph checks shared by the layout tests of tools/ and lambda_src (graphs built by grimp)."""

from __future__ import annotations

import graphlib

import grimp


def import_cycle(graph: grimp.ImportGraph) -> tuple[str, ...] | None:
    """One cycle among the modules of ``graph`` (each node then its imports), or None when there is none."""
    sorter = graphlib.TopologicalSorter({m: graph.find_modules_directly_imported_by(m) for m in graph.modules})
    try:
        sorter.prepare()
    except graphlib.CycleError as err:
        return tuple(err.args[1])
    return None
