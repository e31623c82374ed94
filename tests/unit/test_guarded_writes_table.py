"""docs/design.md's table of guarded writes is tools/mutants.py's list, and that list names every conditional
write the service makes (issue 24): a new conditional write without a mutant, or a doc edited by hand, fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tools import mutants

PKG = Path(mutants.ROOT) / "lambda_src/novamart_payments"


def conditional_writes() -> set[str]:
    """``repository.method`` (the DynamoDB repository's, whichever of its halves defines it) of every method that
    writes with a condition: a ``ConditionExpression``, or the repository's conditional helpers ``_put_new`` /
    ``_update``. The webhook-event claim's conditional writes are Powertools Idempotency's own (its mutants name
    ``handlers/webhooks.py``)."""
    found: set[str] = set()
    for module in ("repository", "payment_table", "refund_table"):
        tree = ast.parse((PKG / f"{module}.py").read_text())
        for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
            for fn in [n for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]:
                source = ast.unparse(fn)
                if re.search(r"\bConditionExpression\b|self\._put_new\(|self\._update\(", source):
                    found.add(f"repository.{fn.name}")
    return found


def test_the_design_doc_table_is_generated_from_the_mutants() -> None:
    assert mutants.write_docs(check=True) == 0, "run: tools/mutants.py --docs"


def test_every_conditional_write_has_a_mutant_and_a_test() -> None:
    writes = conditional_writes()
    assert {"repository.finish_refund", "repository.block_payment"} <= writes  # sees them
    named = {m.write.split(" ")[0] for m in mutants.MUTANTS}
    assert writes - named == set(), "conditional writes with no mutant in tools/mutants.py"
    for m in mutants.MUTANTS:
        assert m.write and m.guards and m.tests, m.name
