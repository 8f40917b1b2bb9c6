"""The auditor's tools stand on node_gateway's protocol and chain layers alone.

Each case imports the modules in a fresh interpreter whose import system refuses the packages a
user of them does not install (a meta-path blocker, as if they were absent), and checks that none
of the gateway's own upper layers (API, services, storage, …) was loaded on the way. The real
installs are tested in ``tests/test_packaging.py``; this is the quick check of the same promise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What the `gateway` and `bank` extras bring: an auditor or a regulator installs none of it.
GATEWAY_ONLY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    "pydantic_settings",
    "prometheus_client",
    "chinese_calendar",
)
# What the `auditor` extra adds to the base install.
AUDITOR_EXTRA = ("httpx", "reportlab", "paperang_p2_fonts_cjk", "segno", "openpyxl")

# node_gateway's layers above protocol and chain, the bank's package and the composition root.
UPPER_LAYERS = (
    "node_gateway.api",
    "node_gateway.services",
    "node_gateway.storage",
    "node_gateway.core",
    "node_gateway.peer",
    "node_gateway.node",
    "node_gateway.plugins",
    "node_gateway.web",
    "node_gateway.gateway_cli",
    "bank_adapter",
    "confirmnet",
)

_SCRIPT = """
import importlib
import importlib.abc
import json
import sys

BLOCKED = set(sys.argv[1].split(","))


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
for module in sys.argv[2].split(","):
    importlib.import_module(module)
print(json.dumps(sorted(sys.modules)))
"""


def _import(modules: list[str], *, blocked: tuple[str, ...]) -> list[str]:
    """The modules loaded by importing ``modules`` in a fresh interpreter that cannot import ``blocked``."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, ",".join(blocked), ",".join(modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def _upper(loaded: list[str]) -> list[str]:
    return [name for name in loaded if name.startswith(UPPER_LAYERS) and name.partition(".")[0] != "tests"]


@pytest.mark.parametrize(
    ("modules", "blocked"),
    [
        pytest.param(
            [
                "auditor_client.verifier",
                "auditor_client.evidence",
                "auditor_client.sdk",
                "auditor_client.authorise",
                "auditor_client.members",
                "auditor_client.pdf",
                "auditor_client.cli.auditor",
                "auditor_client.cli.authorise",
                "auditor_client.cli.verify",
            ],
            GATEWAY_ONLY,
            id="auditor extra: SDK, CLI, evidence, verifier",
        ),
        pytest.param(
            ["auditor_client.verifier", "auditor_client.evidence", "auditor_client.cli.verify"],
            GATEWAY_ONLY + AUDITOR_EXTRA,
            id="base: the offline verifier and `confirmnet verify`",
        ),
    ],
)
def test_the_auditors_tools_need_no_gateway(modules: list[str], blocked: tuple[str, ...]) -> None:
    loaded = _import(modules, blocked=blocked)
    assert set(modules) <= set(loaded)
    assert _upper(loaded) == []


def test_the_blocker_blocks() -> None:
    """The check itself: a module that needs a blocked package fails to import."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "fastapi", "node_gateway.api.app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "blocked by the test" in result.stderr
