"""The outbox's gas limits without eth_estimateGas (node_gateway.chain.gas): every step the table
bounds needs no more than its bound on the contracts as built (a contract change that outgrows one
fails here); a full bundle of the dearest steps, each at its worst, is mined within its limit; and a
transaction whose bound was too low is not lost: its steps are tried again, with an estimate."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signer_kinds import KINDS, new_key
from sqlalchemy import select, update

from node_gateway.chain import gas
from node_gateway.chain.contracts import LetterStatus
from node_gateway.chain.transactions import Call, TransactionSender, wire_rpc
from node_gateway.node import Node
from node_gateway.protocol.hashing import to_hex
from node_gateway.services.outbox import BATCH_LIMIT, TransactionOutbox, enqueue_steps
from node_gateway.storage.models import OutboxTransaction, utcnow

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain, Deployment, LetterRef, Party, Signed


def _within_bound(
    d: Deployment, party: Party, call: Call, label: str, rows: dict[str, tuple[int, int]]
) -> None:
    """Sends the call with its bound as the gas limit: it must succeed within it (a transaction
    out of gas reverts, and ``send`` raises)."""
    bound = gas.transaction_gas(d.network, [call], bytes(call.data))
    assert bound is not None, label
    receipt = party.sender.send(call, gas=bound)
    assert receipt["status"] == 1, label
    rows[label] = (receipt["gasUsed"], bound)


def test_every_step_needs_less_than_its_bound(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    d, c = deployment, deployment.confirmations
    rows: dict[str, tuple[int, int]] = {}
    letter = d.plan_letter()
    lid = letter.letter_id
    _within_bound(d, d.firm, d.request_call(letter), "request", rows)
    _within_bound(d, d.firm, c.follow_up(lid), "followUp", rows)
    _within_bound(d, d.firm, d.authorise_call(letter), "authorise", rows)
    _within_bound(d, d.bank, c.accept(lid), "accept", rows)
    _within_bound(d, d.bank, c.reply(lid, os.urandom(32)), "reply", rows)
    _within_bound(d, d.firm, c.close(lid), "close", rows)
    _within_bound(d, d.bank, c.reject(d.letter_in(LetterStatus.AUTHORISED).letter_id, 1), "reject", rows)
    _within_bound(d, d.firm, c.withdraw(d.letter_in(LetterStatus.REQUESTED).letter_id), "withdraw", rows)
    for kind in KINDS:
        key = new_key(kind, d.network, d.operator.sender)
        valid_until = d.now() + 86400
        _within_bound(
            d, d.bank, c.register_mandate(d.auditee_ref, key.signer, valid_until), f"mandate, {kind}", rows
        )
        authorised, refused = d.request(), d.request()
        signed = d.sign_authorisation([authorised], signer=key)
        _within_bound(d, d.firm, d.authorise_call(authorised, signed), f"authorise, {kind}", rows)
        refusal = d.sign_refusal([refused], signer=key)
        _within_bound(d, d.firm, d.refuse_call(refused, refusal), f"refuse, {kind}", rows)
        _within_bound(d, d.bank, c.revoke_mandate(d.auditee_ref, key.signer), f"revoke, {kind}", rows)
    with capsys.disabled():
        print(f"\ngas used / limit without an estimate [{d.chain.backend}]")
        for label, (used, bound) in rows.items():
            print(f"  {label:<24} {used:>9,} / {bound:>9,}")


def test_the_member_registry_and_unknown_verifiers_are_estimated(deployment: Deployment) -> None:
    d = deployment
    assert gas.step_gas(d.network, d.members.suspend(d.bank.member_id)) is None
    letter = d.request()
    signed = d.sign_authorisation([letter])
    # A key for a verifier this network does not deploy: its cost is unknown.
    foreign = d.authorise_call(letter, dataclasses.replace(signed, signer=os.urandom(84)))
    assert gas.step_gas(d.network, foreign) is None
    assert gas.transaction_gas(d.network, [d.request_call(d.plan_letter()), foreign], b"") is None


# --- through the outbox ---------------------------------------------------------------------


@pytest.fixture
def estimates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The labels of the calls whose gas a sender asked the node to estimate (a test clears it
    once its network is deployed)."""
    asked: list[str] = []
    estimate = TransactionSender.estimate_gas

    def counted(self: TransactionSender, call: Call) -> int:
        asked.append(call.label)
        return estimate(self, call)

    monkeypatch.setattr(TransactionSender, "estimate_gas", counted)
    return asked


def _request(d: Deployment, letter: LetterRef) -> tuple[str, str, dict[str, Any], str]:
    lid = to_hex(letter.letter_id)
    payload = {
        "letter_id": lid,
        "bank": letter.bank,
        "auditee_ref": to_hex(letter.auditee_ref),
        "letter_hash": to_hex(letter.letter_hash),
        "due_at": letter.due_at,
    }
    return f"request:{lid}", "request", payload, lid


def _authorise(letter: LetterRef, signed: Signed) -> tuple[str, str, dict[str, Any], str]:
    lid = to_hex(letter.letter_id)
    auth = signed.message
    payload = {
        "letter_id": lid,
        "authorisation": {
            "requests_root": to_hex(auth.requests_root),
            "firm": auth.firm,
            "valid_until": auth.valid_until,
            "nonce": auth.nonce,
        },
        "auditee_ref": to_hex(letter.auditee_ref),
        "signer": to_hex(signed.signer),
        "signature": to_hex(signed.signature),
        "proof": [to_hex(node) for node in signed.proof(letter)],
    }
    return f"authorise:{lid}", "authorise", payload, lid


def _hashes(node: Node) -> list[str | None]:
    with node.db.session() as session:
        rows = session.scalars(select(OutboxTransaction).order_by(OutboxTransaction.id)).all()
        assert {row.state for row in rows} == {"done"}
        return [row.transaction_hash for row in rows]


def test_a_full_bundle_of_the_dearest_steps_goes_without_an_estimate(
    chain: Chain, tmp_path: Path, estimates: list[str]
) -> None:
    # Passkey authorisations where the chain has no P-256 precompile, each with a proof the length
    # of a 64-letter tree: the dearest step there is, 64 in one Multicall.
    d = chain.deploy()
    node = gateway_node(d, d.firm, tmp_path)
    outbox = TransactionOutbox(node)
    key = new_key("webauthn", d.network, d.operator.sender)
    d.register_mandate(d.bank, d.auditee_ref, key.signer)
    letters = [d.plan_letter() for _ in range(BATCH_LIMIT)]
    estimates.clear()
    with node.db.session() as session:
        enqueue_steps(session, [_request(d, letter) for letter in letters])
    assert outbox.run_once() == BATCH_LIMIT
    signed = d.sign_authorisation(letters, signer=key)
    with node.db.session() as session:
        enqueue_steps(session, [_authorise(letter, signed) for letter in letters])
    assert outbox.run_once() == BATCH_LIMIT
    hashes = _hashes(node)
    assert len(set(hashes[:BATCH_LIMIT])) == 1  # the requests in one Multicall
    assert len(set(hashes[BATCH_LIMIT:])) == 1  # the authorisations in another
    assert all(d.status(letter) == LetterStatus.AUTHORISED for letter in letters)
    assert estimates == []
    receipt = wire_rpc(d.w3, "eth_getTransactionReceipt", [hashes[-1]])
    sent = wire_rpc(d.w3, "eth_getTransactionByHash", [hashes[-1]])
    assert int(receipt["gasUsed"], 16) < int(sent["gas"], 16)


def test_a_transaction_whose_bound_was_too_low_is_retried_with_an_estimate(
    in_process: Chain, tmp_path: Path, estimates: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = in_process.deploy()
    node = gateway_node(d, d.firm, tmp_path)
    outbox = TransactionOutbox(node)
    letters = [d.plan_letter() for _ in range(2)]
    estimates.clear()
    monkeypatch.setitem(gas.STEP_GAS, "request", 5_000)  # far below what a request takes
    with node.db.session() as session:
        enqueue_steps(session, [_request(d, letter) for letter in letters])
    assert outbox.run_once() == 2  # sent, mined, out of gas: both to be retried
    with node.db.session() as session:
        rows = session.scalars(select(OutboxTransaction)).all()
        assert [(row.state, row.error_code) for row in rows] == [("pending", "TransactionFailed")] * 2
        failed = rows[0].transaction_hash
    assert int(wire_rpc(d.w3, "eth_getTransactionReceipt", [failed])["status"], 16) == 0
    assert all(d.status(letter) == LetterStatus.NONE for letter in letters)
    assert estimates == []
    with node.db.session() as session:  # the retry falls due now rather than after its pause
        session.execute(update(OutboxTransaction).values(next_attempt_at=utcnow()))
    assert outbox.run_once() == 2
    assert len(estimates) == 1
    assert estimates[0].startswith("multicall(")
    assert len(set(_hashes(node))) == 1
    assert all(d.status(letter) == LetterStatus.REQUESTED for letter in letters)
