"""lambda_src is a house of layers (issue 23): every module of ``novamart_payments`` belongs to one declared layer,
imports only modules of its own layer or below, takes part in no import cycle, and has at most 400 lines.

The graph comes from grimp (import-linter's graph builder), which reads every import statement without importing
anything: those inside functions and under ``if TYPE_CHECKING:`` count like the others (a type-only import still
ties the importer to the imported module's meaning). The layers are checked module by module rather than with
grimp's (import-linter's) package-wide layers, because two packages hold more than one layer: ``gateway/__init__``
is the gateway's port while ``gateway.stripe_gateway`` is an adapter, and ``risk/__init__`` holds the risk check's
types while ``risk.counters`` is a DynamoDB adapter.
"""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

from tests.support.import_graph import import_cycle

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lambda_src" / "novamart_payments"
MAX_LINES = 400

#: Top to bottom, one level per entry; a level may hold independent groups (the adapters and the application:
#: neither imports the other, only the composition root sees both). A module may import its own group and the
#: levels below it, never a level above nor another group of its own level.
LAYERS: tuple[dict[str, frozenset[str]], ...] = (
    # The Lambda entry points: an event in, the composed service called, the answer out.
    {
        "handlers": frozenset(
            {
                "handlers",
                "handlers._batch",
                "handlers.payment",
                "handlers.refund",
                "handlers.reconcile",
                "handlers.webhooks",
            }
        )
    },
    # The composition root: the one place the concrete adapters are built and plugged into the ports.
    {"composition": frozenset({"composition"})},
    {
        # Adapters: DynamoDB, EventBridge, SQS, Stripe, SSM, the scorer's HTTP, X-Ray; the inbound envelope parser.
        "adapters": frozenset(
            {
                "repository",
                "payment_table",
                "refund_table",
                "dynamo_tables",
                "dynamo_items",
                "publisher",
                "clients",
                "budget",
                "retry",
                "observability",
                "envelope",
                "gateway.stripe_gateway",
                "gateway.stripe_errors",
                "gateway.stripe_objects",
                "gateway.stripe_secrets",
                "gateway.stripe_webhooks",
                "gateway.simulated",
                "risk.adapters",
                "risk.counters",
                "risk.scorer",
            }
        ),
        # The application: the service and its flows, over the ports only.
        "application": frozenset({"service", "payment_flow", "refund_flow", "settlement", "radar", "reconciliation"}),
    },
    # The ports: what the application needs from the world (Protocols), and the events it publishes.
    {"ports": frozenset({"ports", "gateway", "events"})},
    # The domain and the leaf modules every layer may use.
    {
        "domain": frozenset(
            {
                "",
                "domain",
                "risk",
                "risk.rules",
                "failure_codes",
                "majors",
                "money",
                "timestamps",
                "telemetry",
                "config",
                "contracts",
                "contract_errors",
                "schema_store",
            }
        )
    },
)


def placement() -> dict[str, tuple[int, str]]:
    """Each module's full name -> (its level, 0 at the top; its group)."""
    out: dict[str, tuple[int, str]] = {}
    for level, groups in enumerate(LAYERS):
        for group, tails in groups.items():
            for tail in tails:
                out["novamart_payments" + (f".{tail}" if tail else "")] = (level, group)
    return out


def build() -> grimp.ImportGraph:
    return grimp.build_graph("novamart_payments", cache_dir=None)


def upward_imports(graph: grimp.ImportGraph) -> list[str]:
    """Every import of a module from a level above the importer's, or from another group of its level, as
    ``importer (group) -> imported (group)``."""
    where = placement()
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            (level, group), (to_level, to_group) = where[importer], where[imported]
            if to_level < level or (to_level == level and to_group != group):
                found.append(f"{importer} ({group}) -> {imported} ({to_group})")
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_a_declared_layer() -> None:
    graph = build()
    assert "novamart_payments.gateway.stripe_gateway" in graph.modules  # the graph really covers the package
    declared = set(placement())
    assert graph.modules - declared == set(), "modules with no layer in LAYERS: place each one"
    assert declared - graph.modules == set(), "LAYERS names modules that do not exist"


def test_imports_go_only_downward() -> None:
    assert upward_imports(build()) == []


def test_no_import_cycle() -> None:
    cycle = import_cycle(build())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


@pytest.mark.parametrize(
    "path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix() if isinstance(p, Path) else str(p)
)
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it by concern"


def test_the_layer_check_finds_an_adapter_importing_the_service() -> None:
    """Not vacuous: the same check names an adapter -> application import and a core -> adapter import added to
    the real graph."""
    graph = build()
    graph.add_import(importer="novamart_payments.publisher", imported="novamart_payments.service")
    graph.add_import(importer="novamart_payments.ports", imported="novamart_payments.repository")
    assert sorted(upward_imports(graph)) == [
        "novamart_payments.ports (ports) -> novamart_payments.repository (adapters)",
        "novamart_payments.publisher (adapters) -> novamart_payments.service (application)",
    ]


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = build()
    graph.add_import(importer="novamart_payments.domain", imported="novamart_payments.payment_flow")
    cycle = import_cycle(graph)
    assert cycle is not None and {"novamart_payments.domain", "novamart_payments.payment_flow"} <= set(cycle)


#: ``x.repository`` / ``x.gateway`` / ``x.publisher``: a module reaching through the service to its adapters.
REACH_THROUGH = re.compile(r"(?<!novamart_payments)\.(repository|gateway|publisher)\b")


def reach_throughs(sources: dict[str, str]) -> list[str]:
    """``file:line`` of every reach-through in ``sources`` (path -> text)."""
    return [
        f"{path}:{number}"
        for path, text in sorted(sources.items())
        for number, line in enumerate(text.splitlines(), 1)
        if REACH_THROUGH.search(line.split("#", 1)[0])
    ]


def test_nothing_reaches_through_the_service_to_its_adapters() -> None:
    """Webhook settlement, reconciliation and Radar go through the service's own methods (issue 23): no module of
    the package reads the service's repository, gateway or publisher (tests may, to arrange a race)."""
    sources = {p.relative_to(PACKAGE).as_posix(): p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}
    assert reach_throughs(sources) == []
    assert reach_throughs({"example.py": "x = service.repository.get_payment(pid)\n"}) == ["example.py:1"]
