"""The distribution as its users install it: the wheel, installed (not editable) into fresh virtual
environments, outside the checkout, from pip's cache.

- The base install runs ``confirmnet verify contracts`` against a devnet: the console script's
  root, the offline verifier and the contract artifacts shipped as package data, with no checkout
  beside them.
- ``confirmnet[auditor]`` gives a working SDK and offline verifier (an evidence package checked
  against the devnet, its PDF summary written) with neither FastAPI nor SQLAlchemy installed.

Slow (about a minute: a wheel build and two installs); ``-m "not packaging"`` leaves them out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from node_gateway.chain.network import connect

pytestmark = [pytest.mark.slow, pytest.mark.packaging, pytest.mark.anvil]

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT_S = 600


def _call(
    command: Sequence[str | Path], *, cwd: Path, timeout: float = INSTALL_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _run(command: Sequence[str | Path], *, cwd: Path, timeout: float = INSTALL_TIMEOUT_S) -> str:
    result = _call(command, cwd=cwd, timeout=timeout)
    assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _clean_env() -> dict[str, str]:
    """This environment without the checkout or the project's venv on any path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["COLUMNS"] = "200"  # rich's tables unwrapped
    return env


def _packages() -> list[str]:
    """The top-level packages the distribution ships, as pyproject.toml finds them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    names = {pattern.rstrip("*").partition(".")[0] for pattern in patterns}
    return sorted(name for name in names if (ROOT / name / "__init__.py").exists())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the checkout's sources (so the checkout gets no build
    directory), setuptools coming from pip's cache through build isolation."""
    work = tmp_path_factory.mktemp("dist")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in _packages():
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", work, source], cwd=work
    )
    (built,) = work.glob("confirmnet-*.whl")
    return built


def _venv(base: Path, requirement: str) -> Path:
    """A fresh virtual environment with ``requirement`` installed; its python."""
    env = base / "venv"
    _run([sys.executable, "-m", "venv", env], cwd=base)
    python = env / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--no-compile", requirement], cwd=base)
    return python


@dataclass(frozen=True)
class Recorded:
    rpc_url: str
    network_file: Path
    package: Path


@pytest.fixture(scope="module")
def recorded(anvil_rpc_url: str, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """A network deployed on the session's anvil, letters taken through their lifecycle, and the
    network file and evidence package a regulator would hold."""
    from auditor.conftest import build_letters  # tests/auditor's helpers

    letters = build_letters(connect(anvil_rpc_url), anvil_rpc_url, 3)
    files = tmp_path_factory.mktemp("recorded")
    letters.network_file.save(files / "network.json")
    letters.package.save(files / "evidence.json")
    return Recorded(anvil_rpc_url, files / "network.json", files / "evidence.json")


_BASE_CHECK = """
import importlib, json
import node_gateway.chain.artifacts as artifacts
absent = []
for name in ("fastapi", "sqlalchemy", "httpx", "reportlab", "solcx", "node_gateway.chain.compile", "tools"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        absent.append(name)
print(json.dumps({"build_dir": str(artifacts.BUILD_DIR), "absent": absent}))
"""


def test_a_plain_install_verifies_the_deployed_contracts(
    wheel: Path, recorded: Recorded, tmp_path: Path
) -> None:
    python = _venv(tmp_path, str(wheel))
    confirmnet = python.parent / "confirmnet"
    anchor: list[str | Path] = ["--rpc", recorded.rpc_url, "--network", recorded.network_file]
    out = _run([confirmnet, "verify", "contracts", *anchor], cwd=tmp_path, timeout=120)
    assert "VALID" in out, out
    assert "INVALID" not in out, out
    for check in ("chain_id", "contract.MemberRegistry", "contract.ConfirmationRegistry", "registry_link"):
        assert check in out, out
    # An evidence package, too; its PDF summary is the auditor extra's, and says so.
    out = _run([confirmnet, "verify", recorded.package, *anchor], cwd=tmp_path, timeout=120)
    assert "VALID — 3 letters" in out, out
    no_pdf = _call(
        [confirmnet, "verify", recorded.package, *anchor, "--pdf", tmp_path / "s.pdf"],
        cwd=tmp_path,
        timeout=120,
    )
    assert no_pdf.returncode == 2, no_pdf.stdout + no_pdf.stderr
    assert "pip install 'confirmnet[auditor]'" in no_pdf.stderr
    found = json.loads(_run([python, "-c", _BASE_CHECK], cwd=tmp_path, timeout=120))
    # The contracts were read from the installed package, not from a checkout.
    assert Path(found["build_dir"]).is_relative_to(tmp_path / "venv"), found
    assert found["absent"] == [
        "fastapi",
        "sqlalchemy",
        "httpx",
        "reportlab",
        "solcx",
        "node_gateway.chain.compile",
        "tools",
    ]


_AUDITOR_CHECK = """
import importlib, json, sys
from pathlib import Path

absent = []
for name in ("fastapi", "sqlalchemy", "starlette", "alembic", "uvicorn"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        absent.append(name)

import httpx

from auditor_client.evidence import load_package
from auditor_client.pdf import write_summary
from auditor_client.sdk import Client
from auditor_client.verifier import verify_package
from node_gateway.chain.network import NetworkFile, connect

package_file, network_file, pdf = (Path(arg) for arg in sys.argv[1:4])
network = NetworkFile.load(network_file)
identity = {
    "role": "audit_firm", "display_name": "明鉴会计师事务所", "registration_code": "91310000MA1FL0TE5Q",
    "account": "0x" + "11" * 20, "member_id": 2, "endpoint": "", "encryption_keys": "0x",
    "chain_id": network.chain_id, "confirmation_registry": network.confirmation_registry,
    "member_registry": network.member_registry,
}
seen = []


def gateway(request):
    seen.append((request.method, request.url.path, request.headers.get("authorization", "")))
    return httpx.Response(200, json=identity)


with Client("http://firm-gateway.invalid", api_key="cn_test", transport=httpx.MockTransport(gateway)) as client:
    me = client.identity()

package = load_package(package_file)
report = verify_package(package, connect(network.rpc_url), anchor=network)
write_summary(package, package_file, pdf, report=report)
print(json.dumps({
    "absent": absent,
    "identity": me.display_name,
    "requests": seen,
    "valid": report.ok,
    "letters": report.letters,
    "failures": [f"{c.subject} {c.name}: {c.detail}" for c in report.failures],
    "modules": sorted(m for m in sys.modules if m.startswith(("node_gateway", "bank_adapter"))),
}))
"""


def test_the_auditor_extra_gives_the_sdk_and_the_verifier_without_the_gateway(
    wheel: Path, recorded: Recorded, tmp_path: Path
) -> None:
    python = _venv(tmp_path, f"{wheel}[auditor]")
    pdf = tmp_path / "summary.pdf"
    found = json.loads(
        _run(
            [python, "-c", _AUDITOR_CHECK, recorded.package, recorded.network_file, pdf],
            cwd=tmp_path,
            timeout=300,
        )
    )
    assert found["absent"] == ["fastapi", "sqlalchemy", "starlette", "alembic", "uvicorn"]
    assert found["identity"] == "明鉴会计师事务所"
    assert found["requests"] == [["GET", "/v1/identity", "Bearer cn_test"]]
    assert found["failures"] == []
    assert found["valid"] is True
    assert found["letters"] == 3
    assert pdf.read_bytes().startswith(b"%PDF")
    # Of node_gateway, only the protocol and chain layers (and the package's exception root).
    below = ("node_gateway.chain", "node_gateway.protocol")
    assert [
        m
        for m in found["modules"]
        if m not in ("node_gateway", "node_gateway.errors") and not m.startswith(below)
    ] == []
