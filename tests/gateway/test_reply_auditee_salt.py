"""The auditee reference's salt travels with the bank's reply, never from the auditor: a firm's and a
bank's gateway on the in-process chain (outboxes and indexers run by hand, each envelope handed to
the other gateway's inbound as the peer API would). The customer's signer authorises at the firm,
which relays the reference of the signer's mandate; the bank answers only a letter whose auditee
the reference commits to and sends the salt in its reply; the firm keeps it (and shows it in the
evidence) only if it gives the reference on chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from sqlalchemy import delete, select

from node_gateway.chain.contracts import Authorisation, LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.errors import Conflict
from node_gateway.protocol.documents import Auditee, AuditFirm, Bank, ConfirmationLetter, uscc
from node_gateway.protocol.envelopes import Envelope, encode_public_keys, seal
from node_gateway.protocol.errors import DocumentHashMismatch, InvalidDocument
from node_gateway.protocol.hashing import (
    LETTER_DOMAIN,
    REPLY_DOMAIN,
    as_salt,
    auditee_reference,
    from_hex,
    new_salt,
    salted_hash,
    to_hex,
)
from node_gateway.protocol.samples import AUDITEE_CODE, sample_letter, sample_reply
from node_gateway.services import letters
from node_gateway.services.delivery import Delivery, EnvelopeContent, enqueue_deliveries
from node_gateway.services.inbound import receive_envelopes
from node_gateway.services.indexer import Indexer
from node_gateway.services.outbox import TransactionOutbox
from node_gateway.storage.models import LetterRow, OutboxDelivery
from node_gateway.storage.vault import StoredDocument

from .api_apps import Gateway, client, gateway

if TYPE_CHECKING:
    from conftest import Chain

OTHER_COMPANY = Auditee(name="另一家公司", registration_code=uscc("91310115MA1H7Q3K9"))


class Pair:
    """A firm's and a bank's gateway on one deployment, the customer's signer mandated at the bank."""

    def __init__(self, firm: Gateway, bank: Gateway, signer: LocalAccount) -> None:
        self.firm, self.bank, self.signer = firm, bank, signer

    def settle(self) -> None:
        workers = [w(g.node) for g in (self.firm, self.bank) for w in (TransactionOutbox, Indexer)]
        while sum(worker.run_once() for worker in workers):
            pass

    def deliver(self, sender: Gateway, recipient: Gateway, step: str) -> list[str | Exception]:
        """The sender's queued envelopes of ``step``, received by the recipient."""
        with sender.node.db.session() as session:
            envelopes = [
                Envelope.model_validate(row.envelope)
                for row in session.scalars(select(OutboxDelivery).where(OutboxDelivery.step == step))
            ]
        return list(receive_envelopes(recipient.node, sender.node.member_id(), envelopes))

    def request_and_authorise(self, letter: ConfirmationLetter) -> str:
        with self.firm.node.db.session() as session:
            (row,) = letters.create_letters(self.firm.node, session, [(letter, None)])
            letter_id = row.letter_id
        self.settle()
        with self.firm.node.db.session() as session:
            bundle = letters.authorisation_request(self.firm.node, session, [letter_id])
            message = bundle["typed_data"]["message"]
            auth = Authorisation(
                from_hex(message["requestsRoot"]), message["firm"], message["validUntil"], message["nonce"]
            )
            typed = {**bundle["typed_data"], "message": {**message, "requestsRoot": auth.requests_root}}
            signature = self.signer.sign_message(encode_typed_data(full_message=typed)).signature
            letters.submit_authorisation(self.firm.node, session, [letter_id], auth, bytes(signature))
        self.settle()
        assert self.deliver(self.firm, self.bank, "letter")[-1] == "stored"
        return letter_id


@pytest.fixture
def pair(in_process: Chain, tmp_path: Path) -> Iterator[Pair]:
    deployed = in_process.deploy()
    firm = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path / "firm")
    bank = gateway(deployed, MemberRole.BANK, tmp_path / "bank")
    for side in (firm, bank):  # each publishes its key, so that the other can seal to it
        keys = encode_public_keys([side.node.keys.encryption_keys[0].public_key])
        deployed.send(side.party, deployed.members.update_endpoint("http://127.0.0.1:9", keys))
    signer = Account.create()
    with bank.node.db.session() as session:
        letters.register_mandate(bank.node, session, AUDITEE_CODE, signer.address, deployed.now() + 86400)
    built = Pair(firm, bank, signer)
    built.settle()
    yield built
    firm.node.db.dispose()
    bank.node.db.dispose()


def _letter(pair: Pair, **changes: Any) -> ConfirmationLetter:
    d = pair.firm.deployment
    return sample_letter(
        audit_firm=AuditFirm(member_no=d.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=d.bank.member_id, name="东海银行"),
        **changes,
    )


def _reply(pair: Pair, letter: ConfirmationLetter, letter_id: str) -> None:
    bank = pair.bank.node
    with bank.db.session() as session:
        row = letters.letter_row(session, letter_id)
        stored = letters.stored_letter(bank, row)
        letters.accept(bank, session, letter_id)
        letters.submit_reply(bank, session, sample_reply(stored, letter_hash=from_hex(row.letter_hash)))
    pair.settle()


def _reply_with(pair: Pair, letter_id: str, auditee_salt: str | None) -> Envelope:
    """The bank's genuine reply envelope, its auditee salt replaced by ``auditee_salt``."""
    bank = pair.bank.node
    with bank.db.session() as session:
        row = letters.letter_row(session, letter_id)
        stored = bank.vault.open(letter_id, "reply", letters.sealed_or_missing(row.reply_sealed, letter_id))
    content = EnvelopeContent.of(stored, auditee_salt)
    return seal(
        content.model_dump_json(exclude_none=True).encode("utf-8"),
        bank.public_key_of(pair.firm.node.member_id()),
        letter_id=letter_id,
        step="reply",
        sender=bank.member_id(),
        recipient=pair.firm.node.member_id(),
    )


def test_the_bank_sends_the_salt_with_its_reply_and_the_firm_keeps_it_once_checked(pair: Pair) -> None:
    letter = _letter(pair)
    letter_id = pair.request_and_authorise(letter)
    reference = pair.firm.deployment.confirmations.get_letter(from_hex(letter_id)).auditee_ref
    _reply(pair, letter, letter_id)
    bank_salt, bank_reference = letters.customer_reference(pair.bank.node, AUDITEE_CODE)
    assert bank_reference == to_hex(reference)  # the customer's, the signer's mandate is under it

    # A reply without the salt, or with another one, is refused; the genuine one is kept.
    bank_id = pair.bank.node.member_id()
    for wrong, words in ((None, "carries the salt"), (to_hex(new_salt()), "does not give")):
        (refused,) = receive_envelopes(pair.firm.node, bank_id, [_reply_with(pair, letter_id, wrong)])
        assert isinstance(refused, InvalidDocument)
        assert words in str(refused)
    assert pair.deliver(pair.bank, pair.firm, "reply") == ["stored"]
    with pair.firm.node.db.session() as session:
        row = letters.letter_row(session, letter_id)
        assert (row.auditee_salt, row.reply_verified) == (to_hex(bank_salt), True)
    assert auditee_reference(letter.auditee.registration_code, bank_salt) == reference
    evidence = (
        client(pair.firm.app)
        .get(f"/v1/letters/{letter_id}/evidence", headers=pair.firm.auth("auditor"))
        .json()
    )
    assert (evidence["auditee_salt"], evidence["auditee_ref"]) == (to_hex(bank_salt), to_hex(reference))
    # The documents' bytes as hashed, for an evidence package (version 2) to carry as they are.
    for kind, domain in (("letter", LETTER_DOMAIN), ("reply", REPLY_DOMAIN)):
        text = evidence[f"{kind}_canonical"]
        assert json.loads(text) == evidence[kind]
        hashed = salted_hash(domain, as_salt(from_hex(evidence[f"{kind}_salt"])), text.encode("utf-8"))
        assert to_hex(hashed) == evidence[f"{kind}_hash"]


def test_the_bank_does_not_answer_a_letter_about_another_company(pair: Pair) -> None:
    # The customer's signer authorises a letter that names another company: the chain takes it
    # (the signer holds the mandate), the bank refuses to answer it and sends no salt.
    letter = _letter(pair, auditee=OTHER_COMPANY)
    letter_id = pair.request_and_authorise(letter)
    assert (
        pair.firm.deployment.confirmations.get_letter(from_hex(letter_id)).status == LetterStatus.AUTHORISED
    )
    with pytest.raises(Conflict, match="not the customer whose signer authorised it"):
        _reply(pair, letter, letter_id)
    with pair.bank.node.db.session() as session:
        row = session.get_one(LetterRow, letter_id)
        assert (row.reply_sealed, row.auditee_salt) == (None, None)


def test_a_delivery_is_queued_once_however_often_it_is_asked_for(pair: Pair) -> None:
    letter_id = pair.request_and_authorise(_letter(pair))
    firm = pair.firm.node
    with firm.db.session() as session:
        row = letters.letter_row(session, letter_id)
        letter = Delivery(
            letter_id, "letter", row.bank, letters.sealed_or_missing(row.letter_sealed, letter_id)
        )
        assert enqueue_deliveries(session, firm, [letter]) == 0  # the indexer queued it
        session.execute(delete(OutboxDelivery).where(OutboxDelivery.letter_id == letter_id))
        assert enqueue_deliveries(session, firm, [letter, letter]) == 1  # twice in one batch: once
    with firm.db.session() as session:
        assert enqueue_deliveries(session, firm, [letter]) == 0
        queued = session.scalars(select(OutboxDelivery).where(OutboxDelivery.letter_id == letter_id)).one()
    assert Envelope.model_validate(queued.envelope).recipient == row.bank


def test_a_reply_in_other_bytes_is_judged_by_its_canonical_form(pair: Pair) -> None:
    """The bytes as sent are hashed first (a gateway sends canonical bytes); the same reply written
    otherwise is still kept, in its canonical form, and another reply refused."""
    letter = _letter(pair)
    letter_id = pair.request_and_authorise(letter)
    _reply(pair, letter, letter_id)
    bank, firm = pair.bank.node, pair.firm.node
    with bank.db.session() as session:
        row = letters.letter_row(session, letter_id)
        stored = bank.vault.open(letter_id, "reply", letters.sealed_or_missing(row.reply_sealed, letter_id))
    salt = to_hex(letters.customer_reference(bank, AUDITEE_CODE)[0])

    def sent(canonical: bytes) -> Envelope:
        content = EnvelopeContent.of(StoredDocument(canonical, stored.salt), salt)
        return seal(
            content.model_dump_json(exclude_none=True).encode("utf-8"),
            bank.public_key_of(firm.member_id()),
            letter_id=letter_id,
            step="reply",
            sender=bank.member_id(),
            recipient=firm.member_id(),
        )

    document = json.loads(stored.canonical)
    other = dict(document, remarks="另有说明")
    (refused,) = receive_envelopes(firm, bank.member_id(), [sent(json.dumps(other).encode())])
    assert isinstance(refused, DocumentHashMismatch)
    indented = json.dumps(dict(reversed(document.items())), indent=2, ensure_ascii=False).encode()
    assert indented != stored.canonical
    assert receive_envelopes(firm, bank.member_id(), [sent(indented)]) == ["stored"]
    # What is kept is the canonical form: the evidence carries it, and the verifier hashes it as is.
    with firm.db.session() as session:
        row = letters.letter_row(session, letter_id)
        kept = firm.vault.open(letter_id, "reply", letters.sealed_or_missing(row.reply_sealed, letter_id))
    assert kept.canonical == stored.canonical
