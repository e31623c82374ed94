"""The proofs tools/build_lambda.py runs before it leaves code out of the zip (tools/zip_proofs.py), on tiny fake
trees: a run-time import of the left-out part, in any of its spellings, stops the build; the same import under
``if TYPE_CHECKING:`` does not; a Powertools package no handler imports is left out, one they can import stays."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools import build_lambda, zip_proofs
from tools.zip_imports import modules_of

LAZY_INIT = """
from importlib import import_module
_import_map = {"params": ("fakesdk.params", True), "Client": ("fakesdk._client", False)}

def __getattr__(name):
    target, is_submodule = _import_map[name]
    return import_module(target)
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def sdk(root: Path, module: str, text: str) -> list[str]:
    """The problems check_left_out finds with ``module`` added to a fake SDK whose ``params`` is left out."""
    write(
        root,
        {
            "fakesdk/__init__.py": LAZY_INIT,
            "fakesdk/_client.py": "import json\n",
            "fakesdk/sub/__init__.py": "",
            "fakesdk/params/__init__.py": "",
            "fakesdk/params/_create.py": "class CreateParams: ...\n",
            module: text,
        },
    )
    scanned = {m: p for m, p in modules_of(root, "fakesdk").items() if not zip_proofs.names(m, "fakesdk.params")}
    return zip_proofs.check_left_out(root, scanned, "fakesdk.params")


RUNTIME_IMPORTS = {
    "absolute": ("fakesdk/_service.py", "from fakesdk.params._create import CreateParams\n"),
    "import statement": ("fakesdk/_service.py", "import fakesdk.params._create\n"),
    "from parent": ("fakesdk/_service.py", "from fakesdk import params\n"),
    "relative from package": ("fakesdk/_service.py", "from . import params\n"),
    "relative module": ("fakesdk/_service.py", "from .params._create import CreateParams\n"),
    "two levels up": ("fakesdk/sub/deep.py", "from ..params import _create\n"),
    "in a function": ("fakesdk/_service.py", "def make():\n    from fakesdk.params import _create\n"),
    "import_module literal": ("fakesdk/_service.py", "import importlib\nimportlib.import_module('fakesdk.params')\n"),
    "not TYPE_CHECKING": (
        "fakesdk/_service.py",
        "from typing import TYPE_CHECKING\nif not TYPE_CHECKING:\n    from fakesdk.params import _create\n",
    ),
    "else branch": (
        "fakesdk/_service.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    import fakesdk.params\n",
    ),
    "homemade TYPE_CHECKING": (
        "fakesdk/_service.py",
        "TYPE_CHECKING = True\nif TYPE_CHECKING:\n    import fakesdk.params\n",
    ),
    "lazy attribute": ("fakesdk/_service.py", "import fakesdk\nfakesdk.params\n"),
    "getattr with a literal": ("fakesdk/_service.py", "import fakesdk\ngetattr(fakesdk, 'params')\n"),
    "getattr with a computed name": ("fakesdk/_service.py", "import fakesdk\ngetattr(fakesdk, 'par' + 'ams')\n"),
    "attribute through another module": ("fakesdk/_service.py", "from fakesdk import sub\nsub.fakesdk.params\n"),
    "star import": ("fakesdk/_service.py", "from fakesdk import *\n"),
    "unresolvable import_module": ("fakesdk/_service.py", "import importlib\nimportlib.import_module(NAME)\n"),
}


@pytest.mark.parametrize("module,text", RUNTIME_IMPORTS.values(), ids=RUNTIME_IMPORTS.keys())
def test_a_run_time_way_to_the_left_out_part_is_refused(tmp_path: Path, module: str, text: str) -> None:
    problems = sdk(tmp_path, module, text)
    assert problems, "the checker accepted a run-time import of fakesdk.params"
    assert all(p.startswith(module) for p in problems), problems


TYPING_ONLY = {
    "typing": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fakesdk.params._create import Params\n",
    "typing_extensions": (
        "from typing_extensions import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .params import _create\n"
    ),
    "typing_extensions.TYPE_CHECKING": (
        "import typing_extensions\nif typing_extensions.TYPE_CHECKING:\n    from fakesdk import params\n"
    ),
    "other lazy names": "import fakesdk\nfakesdk.Client\ngetattr(fakesdk, 'Client')\n",
}


@pytest.mark.parametrize("text", TYPING_ONLY.values(), ids=TYPING_ONLY.keys())
def test_a_typing_only_import_is_accepted(tmp_path: Path, text: str) -> None:
    assert sdk(tmp_path, "fakesdk/_service.py", text) == []


def test_the_lazy_map_entry_alone_is_harmless_but_counted_if_the_map_is_rebuilt(tmp_path: Path) -> None:
    assert sdk(tmp_path, "fakesdk/_service.py", "x = 1\n") == []
    # the same table and import_module in another module: its entries are imports like any other
    problems = sdk(tmp_path, "fakesdk/_loader.py", LAZY_INIT)
    assert any("lazy map entry 'params'" in p for p in problems), problems


def fake_zip(root: Path, service: str) -> Path:
    """A staging tree with the names the build knows: stripe (params left out), Powertools, the four handlers."""
    handlers = {
        f"novamart_payments/handlers/{name}.py": "from aws_lambda_powertools.utilities import batch\n"
        for name in ("payment", "refund", "webhooks", "reconcile")
    }
    return write(
        root,
        {
            "stripe/__init__.py": LAZY_INIT.replace("fakesdk", "stripe"),
            "stripe/_client.py": "",
            "stripe/_service.py": service,
            "stripe/params/__init__.py": "",
            "novamart_payments/__init__.py": "import stripe\n",
            "novamart_payments/handlers/__init__.py": "",
            **handlers,
            "aws_lambda_powertools/__init__.py": "",
            "aws_lambda_powertools/utilities/__init__.py": "",
            "aws_lambda_powertools/utilities/batch/__init__.py": (
                "def models():\n    from aws_lambda_powertools.utilities import parser\n"
                "def helper():\n    from aws_lambda_powertools.utilities.data_classes import sqs\n"
            ),
            "aws_lambda_powertools/utilities/data_classes/__init__.py": "",
            "aws_lambda_powertools/utilities/data_classes/sqs.py": "",
            "aws_lambda_powertools/utilities/parser/__init__.py": '"""doc"""\nimport json\nfrom pydantic import X\n',
            "aws_lambda_powertools/utilities/idempotency/__init__.py": "",
        },
    )


def test_the_build_refuses_to_leave_out_stripe_params_imported_at_run_time(tmp_path: Path) -> None:
    staging = fake_zip(tmp_path, "from stripe.params import Thing\n")
    with pytest.raises(SystemExit, match=r"cannot leave out stripe\.params(.|\n)*stripe/_service\.py:1"):
        build_lambda.trim_unreachable(staging)
    assert (staging / "stripe" / "params").is_dir()


def test_the_build_leaves_out_typing_only_params_and_powertools_no_handler_can_load(tmp_path: Path) -> None:
    staging = fake_zip(
        tmp_path, "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stripe.params import T\n"
    )
    build_lambda.trim_unreachable(staging)
    utilities = staging / "aws_lambda_powertools" / "utilities"
    assert not (staging / "stripe" / "params").exists()
    assert not (utilities / "idempotency").exists()  # nothing imports it
    assert not (utilities / "parser").exists()  # imported in a function, but it cannot load without pydantic
    assert (utilities / "data_classes" / "sqs.py").is_file()  # imported in a function: kept
    assert (utilities / "batch" / "__init__.py").is_file()


def test_a_powertools_package_is_kept_when_its_init_runs_code_before_the_absent_import(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text("import json\nfrom pydantic import X\n")
    assert zip_proofs.unloadable(init, frozenset({"pydantic"}), frozenset({"json"})) == "pydantic"
    init.write_text("import json\nREADY = True\nfrom pydantic import X\n")
    assert zip_proofs.unloadable(init, frozenset({"pydantic"}), frozenset({"json"})) is None
    init.write_text("import wrapt\nfrom pydantic import X\n")  # not the stdlib: it may load more of the package
    assert zip_proofs.unloadable(init, frozenset({"pydantic"}), frozenset({"json"})) is None
