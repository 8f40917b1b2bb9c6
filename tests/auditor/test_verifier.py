"""Offline verification on a real anvil: a sound package passes, and any altered byte of a
document, a salt or a chain reference fails and names what is wrong; deployed code passes only
with every immutable holding its own value. (Forged evidence on a cloned deployment:
``test_forged_evidence.py``.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from auditor_client.evidence import EvidencePackage
from auditor_client.verifier import (
    Anchor,
    MembershipHistory,
    Report,
    compare_code,
    immutable_values,
    verify_contracts,
    verify_package,
)
from node_gateway.chain.artifacts import BUILD_DIR, load_artifact
from node_gateway.chain.authorisation import DOMAIN_NAME, DOMAIN_VERSION
from node_gateway.chain.contracts import ChainEvent, MemberStatus, Role
from node_gateway.chain.network import NetworkFile, connect
from node_gateway.chain.transactions import Call

from .conftest import Letters, as_version_1

pytestmark = pytest.mark.anvil

Change = Callable[[dict[str, Any]], None]


def verify(
    recorded: Letters, package: EvidencePackage | dict[str, Any], anchor: Anchor | None = None
) -> Report:
    if isinstance(package, dict):
        package = EvidencePackage.model_validate(package)
    return verify_package(
        package, connect(recorded.network_file.rpc_url), anchor=anchor or recorded.network_file
    )


def failed(report: Report) -> dict[str, str]:
    return {f"{c.subject[:6]}:{c.name}": c.detail for c in report.failures}


def test_a_sound_package_passes_every_check(recorded: Letters) -> None:
    report = verify(recorded, recorded.package)
    assert report.ok, failed(report)
    assert report.documents == 6 + 4  # six letters, four replies
    by_subject = report.subjects()
    closed = {c.name: c for c in by_subject[recorded.package.letters[0].letter_id]}
    assert [name for name in closed if name.startswith("step")] == [
        "step 1 LetterRequested",
        "step 2 LetterAuthorised",
        "step 3 LetterAccepted",
        "step 4 LetterReplied",
        "step 5 LetterClosed",
    ]
    assert "bank '东海银行' (member 3), active" in closed["step 4 LetterReplied"].detail
    assert closed["lifecycle"].detail.endswith(": closed")
    assert "with the Merkle proof" in closed["authorisation"].detail
    # The reference the signer was mandated under opens, with the salt of the bank's reply, to
    # the auditee the letter names.
    assert closed["auditee_ref"].verdict == "pass"
    assert f"opens to {recorded.auditee_code}" in closed["auditee_ref"].detail
    refused = {c.name: c for c in by_subject[recorded.package.letters[-1].letter_id]}
    assert refused["authorisation"].verdict == "pass"
    assert refused["authorisation"].detail.startswith("refused by")
    assert refused["auditee_ref"].verdict == "note"  # no reply, so no salt: not opened
    assert {c.name for c in by_subject["network"]} == {
        "anchor",
        "chain_id",
        "contract.MemberRegistry",
        "contract.ConfirmationRegistry",
        "contract.ERC7913P256Verifier",
        "contract.ERC7913WebAuthnVerifier",
        "contract.ERC7913RSAVerifier",
        "registry_link",
        "deployment_block",
    }


def first(package: dict[str, Any]) -> dict[str, Any]:
    letter: dict[str, Any] = package["letters"][0]
    return letter


def flip(text: str) -> str:
    return text[:-1] + ("1" if text[-1] == "0" else "0")


TAMPERING: dict[str, tuple[Change, str]] = {
    "letter byte": (
        lambda p: first(p)["letter"]["items"]["loans"]["entries"][0].update(principal="30000000.01"),
        "letter.hash",
    ),
    "letter id in the letter": (
        lambda p: first(p)["letter"].update(letter_id=p["letters"][1]["letter_id"]),
        "letter.letter_id",
    ),
    "reply byte": (lambda p: first(p)["reply"]["preparer"].update(name="陈晓"), "reply.hash"),
    "letter salt": (lambda p: first(p).update(letter_salt=flip(first(p)["letter_salt"])), "letter.hash"),
    "reply salt": (lambda p: first(p).update(reply_salt=flip(first(p)["reply_salt"])), "reply.hash"),
    "short salt": (lambda p: first(p).update(letter_salt=first(p)["letter_salt"][:-2]), "letter.salt"),
    "auditee salt": (lambda p: first(p).update(auditee_salt=flip(first(p)["auditee_salt"])), "auditee_ref"),
    "auditee salt missing": (lambda p: first(p).update(auditee_salt=None), "auditee_ref"),
    "stated auditee reference": (
        lambda p: first(p).update(auditee_ref=flip(first(p)["auditee_ref"])),
        "record",
    ),
    "stated letter hash": (lambda p: first(p).update(letter_hash=flip(first(p)["letter_hash"])), "record"),
    "transaction hash": (
        lambda p: first(p)["steps"][2].update(
            transaction_hash=flip(first(p)["steps"][2]["transaction_hash"])
        ),
        "step 3 LetterAccepted",
    ),
    "block number": (
        lambda p: first(p)["steps"][1].update(block_number=first(p)["steps"][1]["block_number"] - 1),
        "step 2 LetterAuthorised",
    ),
    "block timestamp": (
        lambda p: first(p)["steps"][4].update(block_timestamp=first(p)["steps"][4]["block_timestamp"] + 1),
        "step 5 LetterClosed",
    ),
    "event argument": (
        lambda p: first(p)["steps"][3]["args"].update(
            replyHash=flip(first(p)["steps"][3]["args"]["replyHash"])
        ),
        "step 4 LetterReplied",
    ),
    "a step dropped": (lambda p: first(p)["steps"].pop(2), "step 3 LetterReplied"),
    "status": (lambda p: first(p).update(status="WITHDRAWN"), "lifecycle"),
    "confirmation registry": (
        lambda p: p["network"].update(confirmation_registry=flip(p["network"]["confirmation_registry"])),
        "anchor",
    ),
    "member registry": (
        lambda p: p["network"].update(member_registry=flip(p["network"]["member_registry"])),
        "anchor",
    ),
    "chain id": (lambda p: p["network"].update(chain_id=1), "anchor"),
    "deployment block": (
        lambda p: p["network"].update(deployment_block=p["network"]["deployment_block"] + 1),
        "anchor",
    ),
    "signature": (
        lambda p: first(p)["authorisation"].update(
            signature=flip(first(p)["authorisation"]["signature"][:-2]) + "1b"
        ),
        "authorisation",
    ),
    "requests root": (
        lambda p: first(p)["authorisation"].update(
            requests_root=flip(first(p)["authorisation"]["requests_root"])
        ),
        "authorisation",
    ),
    "merkle proof": (
        lambda p: first(p)["authorisation"]["proof"].__setitem__(
            0, flip(first(p)["authorisation"]["proof"][0])
        ),
        "authorisation",
    ),
    "signer": (lambda p: first(p)["authorisation"].update(signer="0x" + "11" * 20), "authorisation"),
    "authorisation expiry": (
        lambda p: first(p)["authorisation"].update(valid_until=first(p)["authorisation"]["valid_until"] + 1),
        "authorisation",
    ),
    "reply removed": (lambda p: first(p).update(reply=None), "reply.document"),
}


def test_a_multisig_signers_refusal_is_checked_by_the_registry(recorded: Letters) -> None:
    """The refused letter's signer is the company's multisig (ERC-1271): no recovery proves its
    signature, the registry's isValidAuditeeSignature at the refusal's block does."""
    package = json.loads(recorded.package.model_dump_json())
    refusal = package["letters"][-1]["authorisation"]
    assert len(refusal["signature"]) == 2 + 2 * 130  # two owners' signatures
    refusal["signature"] = flip(refusal["signature"])
    report = verify(recorded, package)
    assert [(c.subject, c.name) for c in report.failures] == [
        (package["letters"][-1]["letter_id"], "authorisation")
    ]
    assert f"the signature is not {refusal['signer']}'s" in report.failures[0].detail


@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_fails_and_names_the_check(recorded: Letters, what: str) -> None:
    # On a version-1 package (documents as objects, altered as such): read as version 2 is.
    change, expected = TAMPERING[what]
    package = as_version_1(recorded.package)
    change(package)
    report = verify(recorded, package)
    assert not report.ok
    names = {c.name for c in report.failures}
    assert expected in names, failed(report)
    if expected != "anchor":
        # Only the altered letter fails.
        assert {c.subject for c in report.failures} == {recorded.package.letters[0].letter_id}, failed(report)


def test_the_anchor_not_the_package_decides_which_contracts_are_read(recorded: Letters) -> None:
    network = recorded.network_file
    # Pinned by hand, without a deployment block: the chain's is checked against the package's.
    pinned = Anchor(network.chain_id, network.member_registry.lower(), network.confirmation_registry)
    report = verify(recorded, recorded.package, pinned)
    assert report.ok, failed(report)
    assert report.anchor == pinned
    assert pinned.describe().startswith("trusted anchor: pinned addresses, MemberRegistry 0x")
    package = json.loads(recorded.package.model_dump_json())
    package["network"]["deployment_block"] += 1
    assert {c.name for c in verify(recorded, package, pinned).failures} == {"deployment_block"}
    # An anchor naming other contracts: the package (naming the real ones) is refused, nothing read.
    other = Anchor(network.chain_id, network.member_registry, "0x" + "12" * 20, source="a wrong file")
    report = verify(recorded, recorded.package, other)
    assert [(c.name, c.detail) for c in report.failures] == [
        (
            "anchor",
            f"not the trusted network: ConfirmationRegistry: package {network.confirmation_registry.lower()}, "
            f"anchor {'0x' + '12' * 20}",
        )
    ]
    assert not any(c.subject != "network" for c in report.checks)
    # The anchor's contracts are checked on the node, whatever the package says.
    wrong_code = Anchor(network.chain_id, network.confirmation_registry, network.confirmation_registry)
    package = json.loads(recorded.package.model_dump_json())
    package["network"]["member_registry"] = network.confirmation_registry
    assert "contract.MemberRegistry" in {c.name for c in verify(recorded, package, wrong_code).failures}


def test_a_package_made_before_later_steps_still_verifies(recorded: Letters) -> None:
    package = json.loads(recorded.package.model_dump_json())
    closed = first(package)
    closed["steps"].pop()  # exported when the letter was replied, before it was closed
    closed["status"] = "REPLIED"
    report = verify(recorded, package)
    assert report.ok, failed(report)
    notes = [c for c in report.checks if c.verdict == "note" and c.subject == closed["letter_id"]]
    assert any(c.name == "later LetterClosed" for c in notes)


def test_membership_is_replayed_to_the_point_of_each_step() -> None:
    def event(name: str, block: int, index: int, **args: Any) -> ChainEvent:
        return ChainEvent(name, args, Web3.to_checksum_address("0x" + "00" * 20), block, b"\0" * 32, index)

    history = MembershipHistory(
        [
            event("MemberAdmitted", 5, 0, memberId=3, account="0x" + "aa" * 20, role=Role.BANK, orgId=b""),
            event(
                "MemberStatusChanged", 9, 1, memberId=3, status=MemberStatus.SUSPENDED, by="0x" + "01" * 20
            ),
            event("MemberStatusChanged", 9, 4, memberId=3, status=MemberStatus.ACTIVE, by="0x" + "01" * 20),
            event(
                "MemberAccountRotated",
                12,
                0,
                memberId=3,
                previousAccount="0x" + "aa" * 20,
                newAccount="0x" + "BB" * 20,
            ),
        ]
    )
    assert history.at(3, (5, 0)) is None  # not before its own admission
    active = history.at(3, (9, 0))
    assert active is not None
    assert (active.role, active.status) == (Role.BANK, MemberStatus.ACTIVE)
    suspended = history.at(3, (9, 2))
    assert suspended is not None
    assert suspended.status is MemberStatus.SUSPENDED
    reinstated = history.at(3, (11, 0))
    assert reinstated is not None
    assert (reinstated.status, reinstated.account) == (
        MemberStatus.ACTIVE,
        "0x" + "aa" * 20,
    )
    rotated = history.at(3, (12, 1))
    assert rotated is not None
    assert rotated.account == "0x" + "bb" * 20
    assert history.at(4, (99, 0)) is None


def test_the_deployed_contracts_are_the_committed_build(recorded: Letters) -> None:
    report = verify_contracts(connect(recorded.network_file.rpc_url), recorded.network_file)
    assert report.ok, failed(report)
    assert report.anchor == Anchor.of(recorded.network_file)
    wrong_chain = recorded.network_file.model_copy(update={"chain_id": 5})
    assert {
        c.name for c in verify_contracts(connect(recorded.network_file.rpc_url), wrong_chain).failures
    } == {"chain_id"}


def test_code_comparison_binds_the_immutables_to_the_network(recorded: Letters) -> None:
    network: NetworkFile = recorded.network_file
    address = network.confirmation_registry
    deployed = bytes(recorded.w3.eth.get_code(Web3.to_checksum_address(address)))
    values = immutable_values(
        chain_id=network.chain_id, address=address, member_registry=network.member_registry
    )
    assert compare_code("ConfirmationRegistry", deployed, immutables=values) is None
    # Another member registry, another chain or another byte: not this network's build.
    other = immutable_values(chain_id=network.chain_id, address=address, member_registry="0x" + "12" * 20)
    assert compare_code("ConfirmationRegistry", deployed, immutables=other) == (
        "immutables not this network's values: ConfirmationRegistry._memberRegistry"
    )
    other_chain = immutable_values(chain_id=1, address=address, member_registry=network.member_registry)
    assert compare_code("ConfirmationRegistry", deployed, immutables=other_chain) == (
        "immutables not this network's values: EIP712._cachedChainId, EIP712._cachedDomainSeparator"
    )
    changed = bytearray(deployed)
    changed[100] ^= 1
    assert "from byte 100" in (compare_code("ConfirmationRegistry", bytes(changed), immutables=values) or "")
    unknown = {k: v for k, v in values.items() if k != "EIP712._hashedName"}
    assert "knows no value for: EIP712._hashedName" in (
        compare_code("ConfirmationRegistry", deployed, immutables=unknown) or ""
    )
    member_code = bytes(recorded.w3.eth.get_code(Web3.to_checksum_address(network.member_registry)))
    assert member_code.hex() == load_artifact("MemberRegistry").deployed_bytecode.removeprefix("0x")
    assert compare_code("MemberRegistry", b"", immutables={}) == "there is no contract at the address"


def _immutable_offsets(variable: str) -> list[int]:
    """Where the committed build holds ``variable`` (``Contract.variable``), from the artifact."""
    artifact = json.loads((BUILD_DIR / "ConfirmationRegistry.json").read_text(encoding="utf-8"))
    return [
        reference["start"]
        for ast_id, references in artifact["immutableReferences"].items()
        if artifact["immutableNames"][ast_id] == variable
        for reference in references
    ]


def _swap_hashed_name_and_version(code: bytearray, chain_id: int, address: str) -> None:
    for offset in _immutable_offsets("EIP712._hashedName"):
        code[offset : offset + 32] = keccak(text=DOMAIN_VERSION)
    for offset in _immutable_offsets("EIP712._hashedVersion"):
        code[offset : offset + 32] = keccak(text=DOMAIN_NAME)


def _zero_cached_chain_id(code: bytearray, chain_id: int, address: str) -> None:
    for offset in _immutable_offsets("EIP712._cachedChainId"):
        code[offset : offset + 32] = bytes(32)


def _cached_this_is_the_chain_id(code: bytearray, chain_id: int, address: str) -> None:
    for offset in _immutable_offsets("EIP712._cachedThis"):
        code[offset : offset + 32] = chain_id.to_bytes(32, "big")


VARIANTS = {
    "hashed name and version swapped": (_swap_hashed_name_and_version, "EIP712._hashedName"),
    "cached chain id zeroed": (_zero_cached_chain_id, "EIP712._cachedChainId"),
    "cached address holds the chain id": (_cached_this_is_the_chain_id, "EIP712._cachedThis"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_code_with_a_wrong_eip712_immutable_is_not_the_deployment(recorded: Letters, variant: str) -> None:
    # A ConfirmationRegistry of our own on the real MemberRegistry passes; with one EIP-712
    # immutable changed (each value still one that some immutable of this network holds, or zero)
    # its code is no longer the deployment.
    network = recorded.network_file
    bytecode = HexBytes(load_artifact("ConfirmationRegistry").bytecode)
    receipt = recorded.firm.sender.send(
        Call(
            to=None, data=HexBytes(bytecode + encode(["address"], [network.member_registry])), label="deploy"
        )
    )
    address = str(receipt["contractAddress"])
    anchor = network.model_copy(update={"confirmation_registry": address})
    w3 = connect(network.rpc_url)
    assert verify_contracts(w3, anchor).ok
    change, variable = VARIANTS[variant]
    code = bytearray(w3.eth.get_code(Web3.to_checksum_address(address)))
    change(code, network.chain_id, address)
    w3.provider.make_request("anvil_setCode", [address, "0x" + code.hex()])  # type: ignore[arg-type]
    failures = {c.name: c.detail for c in verify_contracts(w3, anchor).failures}
    assert set(failures) == {"contract.ConfirmationRegistry"}
    assert variable in failures["contract.ConfirmationRegistry"]


def test_a_package_of_thousands_of_documents_verifies(recorded: Letters) -> None:
    # The same six letters many times over: every copy's documents are checked, the chain is read
    # once. (How fast is measured by `make bench`, not asserted here.)
    package = recorded.package.model_copy(update={"letters": recorded.package.letters * 100})
    report = verify(recorded, package)
    assert report.ok
    assert report.letters == 600
    assert report.documents == sum(1 + (entry.reply is not None) for entry in package.letters)


def test_logs_are_read_in_windows_a_node_accepts(recorded: Letters, monkeypatch: pytest.MonkeyPatch) -> None:
    # Besu refuses eth_getLogs over more than 5,000 blocks; with windows of 3 blocks the package
    # needs many of them and still verifies alike.
    whole = verify(recorded, recorded.package)
    monkeypatch.setattr("node_gateway.chain.contracts.LOG_WINDOW", 3)
    windowed = verify(recorded, recorded.package)
    assert windowed.ok
    assert [(c.subject, c.name, c.verdict) for c in windowed.checks] == [
        (c.subject, c.name, c.verdict) for c in whole.checks
    ]
