"""The ERC-7913 signature verifiers deployed with the network: named in its network file, the
committed build byte for byte on chain, and checked with the network's other contracts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from node_gateway.chain.deployment import DeploymentCheck, check_deployment
from node_gateway.chain.network import NetworkFile
from node_gateway.chain.signers import (
    SignatureVerifiers,
    SignerKind,
    account_signer,
    as_signer,
    key_signer,
    signer_text,
)

if TYPE_CHECKING:
    from conftest import Deployment


def test_the_network_file_names_the_verifiers(deployment: Deployment, tmp_path: Path) -> None:
    d = deployment
    described = d.network.describe("http://127.0.0.1:8545")
    assert described.verifiers == d.network.verifiers is not None
    path = tmp_path / "network.json"
    described.save(path)
    assert NetworkFile.load(path) == described
    # A file from before the verifiers still reads, naming none.
    older = described.model_copy(update={"verifiers": None})
    older.save(path)
    assert "verifiers" not in path.read_text(encoding="utf-8")
    assert NetworkFile.load(path).verifiers is None


def test_the_deployment_check_covers_the_verifiers(deployment: Deployment) -> None:
    d = deployment
    verifiers = d.network.verifiers
    assert verifiers is not None

    def check(named: SignatureVerifiers) -> list[DeploymentCheck]:
        return check_deployment(
            d.w3,
            chain_id=d.chain.chain_id,
            member_registry=d.members.address,
            confirmation_registry=d.confirmations.address,
            verifiers=named,
        )

    found = check(verifiers)
    assert [c.name for c in found] == [
        "chain_id",
        "contract.MemberRegistry",
        "contract.ConfirmationRegistry",
        "contract.ERC7913P256Verifier",
        "contract.ERC7913WebAuthnVerifier",
        "contract.ERC7913RSAVerifier",
        "registry_link",
    ]
    assert all(c.ok for c in found), found
    swapped = verifiers.model_copy(update={"p256": verifiers.rsa, "rsa": verifiers.p256})
    failed = {c.name for c in check(swapped) if not c.ok}
    assert failed == {"contract.ERC7913P256Verifier", "contract.ERC7913RSAVerifier"}


def test_signer_kinds_and_text_forms(deployment: Deployment) -> None:
    verifiers = deployment.network.verifiers
    assert verifiers is not None
    account = deployment.signer.address
    assert signer_text(account_signer(account.lower())) == account  # an account reads as its address
    assert verifiers.kind_of(account) == SignerKind.ACCOUNT
    passkey = key_signer(verifiers.webauthn, b"\x01" * 64)
    assert signer_text(passkey) == "0x" + passkey.hex()
    assert as_signer(signer_text(passkey)) == passkey
    assert verifiers.kind_of(passkey) == SignerKind.WEBAUTHN
    assert verifiers.kind_of(key_signer(account, b"\x01" * 64)) is None  # no verifier of this network
    for bad in ("0x1234", "not hex", b"\x00" * 19):
        with pytest.raises(ValueError, match="signer"):
            as_signer(bad)
