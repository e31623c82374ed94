"""The runbook is keyed by the alarm names as pages arrive, and none can be missing (issue 22).

The alarm list is derived from the Terraform (``tools/docgen/runbook.alarms``, from the HCL of the alarms module as
the service module calls it); ``tests/infra/test_apply_local.py::test_alarms`` checks the same against the alarms
an apply really made.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.docgen import runbook
from tools.docgen.runbook import Alarm, alarms, runbook_page

REPO = Path(__file__).resolve().parents[2]


def test_every_alarm_the_terraform_makes_has_a_row_in_the_committed_runbook() -> None:
    committed = (REPO / runbook.RUNBOOK).read_text(encoding="utf-8")
    found = alarms()
    kinds = {a.kind for a in found}
    assert kinds == {
        "function_errors",
        "function_throttles",
        "function_duration",
        "dlq_messages",
        "queue_oldest_message",
        "record_metric",
    }
    assert {"novamart-payments-record-mismatch-rejected", "novamart-payments-webhooks-errors"} <= {
        a.name for a in found
    }
    rows = re.findall(r'^\| <a id="([a-z-]+)"></a>`([a-z-]+)` \|', committed, flags=re.M)
    assert rows == [(a.key, a.name) for a in found]
    assert committed == runbook_page()


def test_the_function_and_record_alarms_follow_the_terraform() -> None:
    """Four functions x three Lambda alarms, and one row per record-metric alarm the service module defines."""
    service_tf = (REPO / "terraform/modules/service/main.tf").read_text(encoding="utf-8")
    record_block = service_tf[service_tf.index("record_metric_alarms = {") :]
    record_names = re.findall(r"^    ([a-z-]+) = \{", record_block[: record_block.index("\n  }\n")], flags=re.M)
    found = alarms()
    assert [a.target for a in found if a.kind == "record_metric"] == record_names
    assert len([a for a in found if a.kind.startswith("function_")]) == 4 * 3


def test_an_alarm_without_words_fails_the_generation() -> None:
    new = Alarm("record-new-thing", "novamart-payments-record-new-thing", "record_metric", "new-thing", "New")
    with pytest.raises(ValueError, match="has no runbook row"):
        runbook._row(new, {})


def test_each_alarm_description_links_to_its_row() -> None:
    main = (REPO / "terraform/modules/alarms/main.tf").read_text(encoding="utf-8")
    assert 'alarm_description   = "${each.value.description} Runbook: ${var.runbook_url}#${each.key}"' in main
