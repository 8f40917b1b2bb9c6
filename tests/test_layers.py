"""The import-layer contracts of pyproject.toml (run by `make lint`) refuse what they should: each
violation below, planted in a tree of stand-in packages, breaks a contract, and the clean tree
keeps them all."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# The stand-in tree follows the real one: each package imports only what the rules allow.
CLEAN = {
    "confirmnet/cli.py": "import auditor_client.sdk\nimport bank_adapter.plugin\nimport node_gateway.api\n",
    "bank_adapter/plugin.py": "import node_gateway.plugins\nimport node_gateway.api\n",
    "auditor_client/sdk.py": "import node_gateway.protocol\nimport node_gateway.chain\n",
    "node_gateway/api.py": "import fastapi\nimport node_gateway.services\n",
    "node_gateway/plugins.py": "import node_gateway.api\n",
    "node_gateway/services.py": "import sqlalchemy\nimport node_gateway.chain\n",
    "node_gateway/chain.py": "import node_gateway.protocol\n",
    "node_gateway/protocol.py": "",
}
VIOLATIONS = {
    "the gateway core imports the bank plugin": ("node_gateway/services.py", "import bank_adapter.plugin\n"),
    "the gateway core imports the composition root": ("node_gateway/chain.py", "import confirmnet.cli\n"),
    "the bank plugin imports the auditor side": ("bank_adapter/plugin.py", "import auditor_client.sdk\n"),
    "the auditor side imports the service layer": ("auditor_client/sdk.py", "import node_gateway.services\n"),
    "the auditor side imports FastAPI": ("auditor_client/sdk.py", "import fastapi\n"),
}


def _lint(tree: dict[str, str], where: Path) -> subprocess.CompletedProcess[str]:
    section = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert section["contracts"], "pyproject.toml states no import-layer contract"
    # Every module a contract names exists in the stand-in tree (import-linter insists).
    named = {m for c in section["contracts"] for m in c.get("forbidden_modules", [])}
    tree = (
        {f"{m.replace('.', '/')}.py": "" for m in named if "." in m}
        | {f"{m}/__init__.py": "" for m in named if "." not in m}
        | tree
    )
    for name, text in tree.items():
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    (where / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, env=env, capture_output=True, text=True
    )


def test_the_clean_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(CLEAN, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("violation", sorted(VIOLATIONS))
def test_each_violation_breaks_a_contract(tmp_path: Path, violation: str) -> None:
    name, line = VIOLATIONS[violation]
    result = _lint({**CLEAN, name: CLEAN[name] + line}, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
