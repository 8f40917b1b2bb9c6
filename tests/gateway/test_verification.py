"""Verifying documents against the chain: a letter and its reply recorded with their real salted
hashes verify, with who recorded them and when; altered documents, wrong salts, wrong kinds,
unknown or unreplied letters fail with their stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from conftest import DAY, Chain, Deployment, LetterRef
from web3.types import TxReceipt

from node_gateway.chain.contracts import block_windows
from node_gateway.chain.network import in_process_chain
from node_gateway.chain.verification import VerificationResult, verify_document
from node_gateway.protocol import (
    ConfirmationLetter,
    ConfirmationReply,
    Salt,
    canonical_bytes,
    document_hash,
    new_salt,
)
from node_gateway.protocol.samples import AUDIT_FIRM, BANK, sample_letter, sample_reply


@dataclass(frozen=True)
class Recorded:
    """A letter requested, authorised, accepted and replied on chain with its documents' hashes."""

    letter: ConfirmationLetter
    letter_salt: Salt
    reply: ConfirmationReply
    reply_salt: Salt
    request_receipt: TxReceipt
    reply_receipt: TxReceipt


def compose(deployment: Deployment, *, bank_no: int | None = None) -> ConfirmationLetter:
    """The sample letter, from the deployment's firm to its bank (or to member ``bank_no``)."""
    return sample_letter(
        audit_firm=AUDIT_FIRM.model_copy(update={"member_no": deployment.firm.member_id}),
        bank=BANK.model_copy(update={"member_no": bank_no or deployment.bank.member_id}),
    )


def request(deployment: Deployment, letter: ConfirmationLetter, salt: Salt) -> tuple[LetterRef, TxReceipt]:
    ref = LetterRef(
        letter_id=bytes.fromhex(letter.letter_id[2:]),
        firm=deployment.firm.member_id,
        bank=deployment.bank.member_id,
        auditee_ref=deployment.auditee_ref,
        letter_hash=document_hash(letter, salt),
        due_at=deployment.now() + 30 * DAY,
    )
    return ref, deployment.send(deployment.firm, deployment.request_call(ref))


@pytest.fixture(scope="module")
def deployment(chain: Chain) -> Deployment:
    """A deployment of this module's own, on a fresh in-process chain: verification reads the
    letter's logs from the deployment block, and eth-tester scans every block since then (on
    the session's chain, thousands)."""
    return Deployment.create(
        Chain(in_process_chain(), "in_process") if chain.backend == "in_process" else chain
    )


@pytest.fixture(scope="module")
def recorded(deployment: Deployment) -> Recorded:
    letter, letter_salt = compose(deployment), new_salt()
    ref, request_receipt = request(deployment, letter, letter_salt)
    deployment.send(deployment.firm, deployment.authorise_call(ref))
    deployment.send(deployment.bank, deployment.confirmations.accept(ref.letter_id))
    reply, reply_salt = sample_reply(letter, letter_hash=ref.letter_hash, with_exception=True), new_salt()
    reply_receipt = deployment.send(
        deployment.bank, deployment.confirmations.reply(ref.letter_id, document_hash(reply, reply_salt))
    )
    return Recorded(letter, letter_salt, reply, reply_salt, request_receipt, reply_receipt)


def verify(
    deployment: Deployment,
    kind: Any,
    document: ConfirmationLetter | ConfirmationReply | bytes | str,
    salt: bytes,
) -> VerificationResult:
    if isinstance(document, ConfirmationLetter | ConfirmationReply):
        document = document.model_dump_json()
    return verify_document(
        deployment.confirmations,
        deployment.members,
        kind=kind,
        document_json=document,
        salt=salt,
        from_block=deployment.network.deployment_block,
    )


def assert_fails(result: VerificationResult, code: str, check: str) -> None:
    assert (result.valid, result.code) == (False, code), result.checks
    *passed, failed = result.checks
    assert all(c.ok for c in passed)
    assert (failed.name, failed.ok) == (check, False)
    assert result.recorded is None


# --- valid documents ---------------------------------------------------------------------------


def test_the_letter_verifies(deployment: Deployment, recorded: Recorded) -> None:
    result = verify(deployment, "letter", recorded.letter, recorded.letter_salt)
    assert result.valid, result.checks
    assert result.code is None
    assert [c.name for c in result.checks] == [
        "document",
        "letter_on_chain",
        "hash",
        "consistency",
        "recorded",
    ]
    assert all(c.ok for c in result.checks)
    assert result.letter_id == recorded.letter.letter_id
    assert result.document_hash == "0x" + document_hash(recorded.letter, recorded.letter_salt).hex()
    assert result.letter_status == "replied"
    receipt = recorded.request_receipt
    assert result.recorded is not None
    assert result.recorded.model_dump() == {
        "event": "LetterRequested",
        "block_number": receipt["blockNumber"],
        "block_timestamp": deployment.w3.eth.get_block(receipt["blockNumber"])["timestamp"],
        "transaction_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "member_no": deployment.firm.member_id,
        "member_role": "audit_firm",
        "member_name": "firm",
    }


def test_the_reply_verifies(deployment: Deployment, recorded: Recorded) -> None:
    result = verify(deployment, "reply", recorded.reply, recorded.reply_salt)
    assert result.valid, result.checks
    assert [c.name for c in result.checks] == [
        "document",
        "letter_on_chain",
        "reply_on_chain",
        "hash",
        "consistency",
        "recorded",
    ]
    assert result.recorded is not None
    assert result.recorded.event == "LetterReplied"
    assert result.recorded.block_number == recorded.reply_receipt["blockNumber"]
    assert (result.recorded.member_no, result.recorded.member_role, result.recorded.member_name) == (
        deployment.bank.member_id,
        "bank",
        "bank",
    )


@pytest.mark.parametrize("form", ["text", "bytes", "mapping", "canonical"])
def test_any_json_form_of_the_document_verifies(
    deployment: Deployment, recorded: Recorded, form: str
) -> None:
    # The hash covers the canonical bytes, so key order and whitespace do not matter.
    letter = recorded.letter
    document_json: Any = {
        "text": letter.model_dump_json(indent=2),
        "bytes": letter.model_dump_json().encode(),
        "mapping": letter.model_dump(mode="json"),
        "canonical": canonical_bytes(letter),
    }[form]
    result = verify_document(
        deployment.confirmations,
        deployment.members,
        kind="letter",
        document_json=document_json,
        salt=recorded.letter_salt,
        from_block=deployment.network.deployment_block,
    )
    assert result.valid, result.checks


# --- invalid documents ---------------------------------------------------------------------------


def test_a_changed_byte_is_a_hash_mismatch(deployment: Deployment, recorded: Recorded) -> None:
    original = canonical_bytes(recorded.letter)
    altered = original.replace(b'"12345678.90"', b'"12345678.91"', 1)
    assert altered != original
    result = verify(deployment, "letter", altered, recorded.letter_salt)
    assert_fails(result, "hash_mismatch", "hash")
    assert result.letter_status == "replied"


def test_a_changed_reply_is_a_hash_mismatch(deployment: Deployment, recorded: Recorded) -> None:
    altered = recorded.reply.model_copy(update={"remarks": "余额无误"})
    assert_fails(verify(deployment, "reply", altered, recorded.reply_salt), "hash_mismatch", "hash")


@pytest.mark.parametrize("kind", ["letter", "reply"])
def test_a_wrong_salt_is_a_hash_mismatch(deployment: Deployment, recorded: Recorded, kind: str) -> None:
    document = recorded.letter if kind == "letter" else recorded.reply
    assert_fails(verify(deployment, kind, document, new_salt()), "hash_mismatch", "hash")


def test_the_letter_salt_does_not_verify_the_reply(deployment: Deployment, recorded: Recorded) -> None:
    assert_fails(verify(deployment, "reply", recorded.reply, recorded.letter_salt), "hash_mismatch", "hash")


def test_a_salt_of_the_wrong_length_is_invalid(deployment: Deployment, recorded: Recorded) -> None:
    result = verify(deployment, "letter", recorded.letter, recorded.letter_salt[:16])
    assert_fails(result, "invalid_document", "salt")


def test_the_reply_given_as_a_letter_is_invalid(deployment: Deployment, recorded: Recorded) -> None:
    result = verify(deployment, "letter", recorded.reply, recorded.reply_salt)
    assert_fails(result, "invalid_document", "document")
    assert result.letter_id is None


def test_the_letter_given_as_a_reply_is_invalid(deployment: Deployment, recorded: Recorded) -> None:
    assert_fails(
        verify(deployment, "reply", recorded.letter, recorded.letter_salt), "invalid_document", "document"
    )


def test_malformed_json_is_invalid(deployment: Deployment) -> None:
    assert_fails(verify(deployment, "letter", b"{not json", new_salt()), "invalid_document", "document")


def test_a_letter_never_requested_is_unknown(deployment: Deployment) -> None:
    result = verify(deployment, "letter", compose(deployment), new_salt())
    assert_fails(result, "unknown_letter", "letter_on_chain")
    assert result.letter_status is None


def test_a_reply_to_a_letter_not_replied_is_not_replied(deployment: Deployment) -> None:
    letter, salt = compose(deployment), new_salt()
    ref, _ = request(deployment, letter, salt)
    reply = sample_reply(letter, letter_hash=ref.letter_hash)
    result = verify(deployment, "reply", reply, new_salt())
    assert_fails(result, "not_replied", "reply_on_chain")
    assert result.letter_status == "requested"
    # The letter itself verifies in any state.
    assert verify(deployment, "letter", letter, salt).valid


def test_a_letter_naming_other_parties_than_the_chain_is_a_mismatch(deployment: Deployment) -> None:
    # The firm recorded the hash of a letter addressed to bank2 as a letter to bank.
    letter, salt = compose(deployment, bank_no=deployment.bank2.member_id), new_salt()
    request(deployment, letter, salt)
    assert_fails(verify(deployment, "letter", letter, salt), "document_mismatch", "consistency")


def test_a_search_starting_after_the_recording_finds_no_record(
    deployment: Deployment, recorded: Recorded
) -> None:
    result = verify_document(
        deployment.confirmations,
        deployment.members,
        kind="letter",
        document_json=recorded.letter.model_dump_json(),
        salt=recorded.letter_salt,
        from_block=recorded.request_receipt["blockNumber"] + 1,
    )
    assert_fails(result, "not_recorded", "recorded")


def test_the_recording_is_found_through_narrow_log_windows(
    deployment: Deployment, recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("node_gateway.chain.contracts.LOG_WINDOW", 2)
    result = verify(deployment, "reply", recorded.reply, recorded.reply_salt)
    assert result.valid, result.checks
    assert result.recorded is not None
    assert result.recorded.event == "LetterReplied"


def test_block_windows_cover_a_range_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("node_gateway.chain.contracts.LOG_WINDOW", 5000)
    assert block_windows(10, 9) == []
    assert block_windows(0, 0) == [(0, 0)]
    assert block_windows(7, 12_006) == [(7, 5006), (5007, 10_006), (10_007, 12_006)]
