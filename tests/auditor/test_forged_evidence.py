"""Forged evidence on a cloned deployment: refused when verification starts from the trust anchor.

The attack: anyone able to deploy on the chain deploys byte-identical copies of MemberRegistry
and ConfirmationRegistry, admits keys of their own under the real members' names and
registration codes (same member numbers too), takes a letter through request, authorisation,
acceptance, a fabricated "confirmed" reply and close there, and hands over a package naming the
clone. Every document, signature and step in it is genuine, on the clone. Only the network the
verifier already holds (the network file, or pinned addresses) tells the clone from the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3

from auditor_client.evidence import EvidencePackage
from auditor_client.verifier import Anchor, verify_package
from confirmnet.cli import app
from node_gateway.chain.artifacts import load_artifact
from node_gateway.chain.devnet import AnvilNode
from node_gateway.chain.network import NetworkFile, connect

from .conftest import Letters, build_letters

pytestmark = pytest.mark.anvil
runner = CliRunner()


@pytest.fixture(scope="module")
def clone(anvil_node: AnvilNode, recorded: Letters) -> Letters:
    """The attacker's deployment on the real network's chain: the same build, the same member
    names and organisation ids, attacker keys; letters with replies the attacker wrote."""
    return build_letters(connect(anvil_node.rpc_url), anvil_node.rpc_url, 3)


@pytest.fixture(scope="module")
def forged(clone: Letters) -> EvidencePackage:
    """One closed letter of the clone, with its fabricated reply, in a package naming the clone."""
    package = clone.package.split()[0]
    assert package.letters[0].status == "CLOSED"
    assert package.letters[0].reply is not None
    return package


def _code(w3: Web3, address: str) -> bytes:
    return bytes(w3.eth.get_code(Web3.to_checksum_address(address)))


def test_the_clone_is_indistinguishable_but_for_its_addresses(
    recorded: Letters, clone: Letters, forged: EvidencePackage
) -> None:
    real, fake = recorded.network_file, clone.network_file
    w3 = recorded.w3
    assert fake.chain_id == real.chain_id
    assert fake.member_registry != real.member_registry
    assert fake.confirmation_registry != real.confirmation_registry
    committed = bytes.fromhex(load_artifact("MemberRegistry").deployed_bytecode.removeprefix("0x"))
    assert _code(w3, fake.member_registry) == _code(w3, real.member_registry) == committed
    assert len(_code(w3, fake.confirmation_registry)) == len(_code(w3, real.confirmation_registry))
    for member_id in (recorded.firm.member_id, recorded.bank.member_id):
        genuine = recorded.network.members.get_member(member_id)
        impostor = clone.network.members.get_member(member_id)
        assert (impostor.role, impostor.org_id, impostor.display_name) == (
            genuine.role,
            genuine.org_id,
            genuine.display_name,
        )
        assert impostor.account != genuine.account
    # Trusting the package's own network is what the attack needs: then it verifies.
    trusted_clone = Anchor.of(fake, source="the package's own network (never do this)")
    assert verify_package(forged, w3, anchor=trusted_clone).ok


def test_a_forged_package_fails_against_the_real_network(
    recorded: Letters, clone: Letters, forged: EvidencePackage
) -> None:
    w3 = connect(recorded.network_file.rpc_url)
    report = verify_package(forged, w3, anchor=recorded.network_file)
    assert not report.ok
    assert [c.name for c in report.failures] == ["anchor"]
    detail = report.failures[0].detail
    assert detail.startswith("not the trusted network: ")
    assert f"ConfirmationRegistry: package {clone.network_file.confirmation_registry.lower()}" in detail
    assert f"anchor {recorded.network_file.confirmation_registry.lower()}" in detail
    assert "MemberRegistry: package" in detail
    assert not [c for c in report.checks if c.subject != "network"]  # no letter was judged
    # The genuine package still verifies against the same anchor; so does a pinned one.
    assert verify_package(recorded.package, w3, anchor=recorded.network_file).ok
    real = recorded.network_file
    pinned = Anchor(real.chain_id, real.member_registry, real.confirmation_registry)
    assert not verify_package(forged, w3, anchor=pinned).ok
    assert verify_package(recorded.package, w3, anchor=pinned).ok


def test_a_forged_package_claiming_the_real_addresses_fails_on_the_chain(
    recorded: Letters, forged: EvidencePackage
) -> None:
    # Relabelled with the real network, it passes the anchor, and the letter is not on it.
    network = forged.network.model_copy(
        update={
            "member_registry": recorded.network_file.member_registry,
            "confirmation_registry": recorded.network_file.confirmation_registry,
            "deployment_block": recorded.network_file.deployment_block,
        }
    )
    relabelled = forged.model_copy(update={"network": network})
    report = verify_package(relabelled, recorded.w3, anchor=recorded.network_file)
    assert {(c.subject, c.name) for c in report.failures} == {(forged.letters[0].letter_id, "record")}


def _save(tmp_path: Path, recorded: Letters, forged: EvidencePackage) -> tuple[Path, Path, Path]:
    network, genuine, fake = tmp_path / "network.json", tmp_path / "genuine.json", tmp_path / "forged.json"
    recorded.network_file.save(network)
    recorded.package.save(genuine)
    forged.save(fake)
    return network, genuine, fake


def test_the_cli_refuses_the_forged_package_and_names_its_anchor(
    recorded: Letters, forged: EvidencePackage, tmp_path: Path
) -> None:
    network, genuine, fake = _save(tmp_path, recorded, forged)
    rpc, report, pdf = recorded.network_file.rpc_url, tmp_path / "report.json", tmp_path / "summary.pdf"
    args = ["--rpc", rpc, "--network", str(network), "--report", str(report), "--pdf", str(pdf)]
    result = runner.invoke(app, ["verify", str(fake), *args], terminal_width=400)
    assert result.exit_code == 1, result.output
    assert "INVALID" in result.output
    assert "not the trusted network" in result.output
    real = recorded.network_file
    stated = (
        f"trusted anchor: network file {network}, MemberRegistry {real.member_registry}, "
        f"ConfirmationRegistry {real.confirmation_registry}, chain id {real.chain_id}"
    )
    assert stated in result.output
    saved = json.loads(report.read_text(encoding="utf-8"))
    assert saved["valid"] is False
    assert saved["anchor"]["confirmation_registry"] == real.confirmation_registry
    assert saved["anchor"]["source"] == f"network file {network}"
    assert [c["name"] for c in saved["checks"] if c["verdict"] == "fail"] == ["anchor"]
    assert pdf.read_bytes().startswith(b"%PDF")
    # The genuine package, same anchor (options before the file, too): valid.
    result = runner.invoke(app, ["verify", *args, str(genuine)], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output
    assert stated in result.output
    assert json.loads(report.read_text(encoding="utf-8"))["valid"] is True


def test_the_cli_refuses_to_verify_without_an_anchor(
    recorded: Letters, forged: EvidencePackage, tmp_path: Path
) -> None:
    network, genuine, fake = _save(tmp_path, recorded, forged)
    rpc = recorded.network_file.rpc_url
    for package in (fake, genuine):
        result = runner.invoke(app, ["verify", str(package), "--rpc", rpc], terminal_width=400)
        assert result.exit_code == 2, result.output
        assert "VALID" not in result.output
        assert "no trust anchor: pass --network FILE" in result.output
        assert "unanchored, not trusted" in result.output
    both = runner.invoke(
        app, ["verify", str(fake), "--rpc", rpc, "--network", str(network), "--chain-id", "1"]
    )
    assert both.exit_code == 2
    # Pinned on the command line instead of a network file.
    real = recorded.network_file
    pinned = [
        "--rpc",
        rpc,
        "--chain-id",
        str(real.chain_id),
        "--member-registry",
        real.member_registry,
        "--confirmation-registry",
        real.confirmation_registry,
        "--deployment-block",
        str(real.deployment_block),
    ]
    result = runner.invoke(app, ["verify", str(fake), *pinned], terminal_width=400)
    assert result.exit_code == 1, result.output
    assert "trusted anchor: pinned on the command line" in result.output
    assert runner.invoke(app, ["verify", str(genuine), *pinned]).exit_code == 0
    bad = runner.invoke(app, ["verify", str(genuine), *pinned[:4], "--member-registry", "0x12", *pinned[6:]])
    assert bad.exit_code == 2
    assert "--member-registry: '0x12' is not an address" in bad.output


def test_verify_contracts_states_its_anchor(recorded: Letters, clone: Letters, tmp_path: Path) -> None:
    network = tmp_path / "network.json"
    recorded.network_file.save(network)
    result = runner.invoke(
        app,
        ["verify", "contracts", "--rpc", recorded.network_file.rpc_url, "--network", str(network)],
        terminal_width=400,
    )
    assert result.exit_code == 0, result.output
    assert f"trusted anchor: network file {network}" in result.output
    # Without an anchor there is nothing to check against.
    result = runner.invoke(app, ["verify", "contracts", "--rpc", recorded.network_file.rpc_url])
    assert result.exit_code == 2
    assert "no trust anchor" in result.output


def test_the_network_file_is_a_valid_anchor(recorded: Letters) -> None:
    anchor = Anchor.of(recorded.network_file, source="network file n.json")
    assert isinstance(recorded.network_file, NetworkFile)
    assert anchor.describe() == (
        f"trusted anchor: network file n.json, MemberRegistry {recorded.network_file.member_registry}, "
        f"ConfirmationRegistry {recorded.network_file.confirmation_registry}, "
        f"chain id {recorded.network_file.chain_id}, deployed in block {recorded.network_file.deployment_block}"
    )
