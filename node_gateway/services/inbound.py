"""Envelopes arriving from other members: opened, checked against the chain, then stored.

The sender is already authenticated (its signature on the call, against the registry). Here the
envelope must name that sender, the sender must be the letter's other party, and the document
must hash to what the chain recorded; only then is it acknowledged. Receiving the same envelope
again is acknowledged without change, so the sender's retries are harmless. A batch of envelopes
reads its letters from the chain in one call and is stored in one database transaction. A bank's
non-compliance notice, and a firm's words with a follow-up or a withdrawal, are checked and kept
by ``services.notices``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from node_gateway.chain.contracts import Letter, LetterStatus
from node_gateway.chain.errors import ChainError
from node_gateway.errors import (
    ChainNotReady,
    Conflict,
    NodeGatewayError,
    NotFound,
    PeerForged,
    PeerNotParty,
)
from node_gateway.node import Node
from node_gateway.protocol.documents import (
    ConfirmationLetter,
    ConfirmationReply,
    Document,
    NonComplianceNotice,
    parse_letter,
    parse_notice,
    parse_reply,
)
from node_gateway.protocol.envelopes import Envelope, open_envelope
from node_gateway.protocol.errors import DocumentHashMismatch, InvalidDocument
from node_gateway.protocol.hashing import (
    LETTER_DOMAIN,
    REPLY_DOMAIN,
    as_salt,
    auditee_reference,
    canonical_bytes,
    from_hex,
    salted_hash,
    to_hex,
    verify_document_hash,
)
from node_gateway.protocol.lifecycle import only_after
from node_gateway.services.delivery import parse_envelope_content
from node_gateway.services.letters import PENDING, keep_opened_letter, stored_reply
from node_gateway.services.notices import (
    FirmWords,
    check_firm_words,
    check_notice,
    parse_firm_words,
    store_firm_words,
    store_notice,
)
from node_gateway.storage.db import in_batches
from node_gateway.storage.models import LetterRow, utcnow
from node_gateway.storage.vault import StoredDocument

# A letter is delivered once authorised on chain, a reply once recorded there.
_LETTER_ARRIVES = only_after(LetterStatus.AUTHORISED)
_REPLY_ARRIVES = only_after(LetterStatus.REPLIED)


def receive_envelope(node: Node, sender: int, envelope: Envelope) -> str:
    """Accepts an envelope from ``sender``; returns "stored" or "duplicate"."""
    result = receive_envelopes(node, sender, [envelope])[0]
    if isinstance(result, Exception):
        raise result
    return result


def receive_envelopes(node: Node, sender: int, envelopes: Sequence[Envelope]) -> list[str | NodeGatewayError]:
    """Accepts several envelopes from ``sender``; for each "stored", "duplicate", or why it is
    refused. Their letters are read from the chain in one call and the accepted ones stored in
    one database transaction; one envelope's refusal does not affect the others."""
    results: list[str | NodeGatewayError] = []
    ready: list[tuple[int, _Arrival]] = []
    try:
        chains: list[Letter | None] = list(
            node.network.confirmations.get_letters([_id(e) for e in envelopes])
        )
    except ChainError:
        chains = [None] * len(envelopes)  # each envelope reads its letter alone, and fails alone
    for index, (envelope, chain) in enumerate(zip(envelopes, chains, strict=True)):
        try:
            ready.append((index, _open(node, sender, envelope, chain)))
            results.append("")
        except NodeGatewayError as exc:
            results.append(exc)
    if not ready:
        return results
    try:
        with node.db.session() as session:
            rows = _locked_rows(session, [arrival for _, arrival in ready])
            for index, arrival in ready:
                results[index] = arrival.store(node, session, rows)
    except Exception:
        # One arrival's failure rolled the others back: store each in its own transaction.
        for index, arrival in ready:
            try:
                with node.db.session() as session:
                    results[index] = arrival.store(node, session, _locked_rows(session, [arrival]))
            except NodeGatewayError as exc:
                results[index] = exc
    node.notify()
    return results


def _id(envelope: Envelope) -> bytes:
    return from_hex(envelope.letter_id)


# What storing an arrival reads of its letter's row; the rest it only writes, so it is not loaded
# (a batch's rows, each with its authorisation's JSON, cost more to load than to store).
_READ_ON_ARRIVAL = load_only(
    LetterRow.letter_id, LetterRow.status, LetterRow.letter_sealed, LetterRow.reply_sealed, raiseload=True
)


def _locked_rows(session: Session, arrivals: Sequence[_Arrival]) -> dict[str, LetterRow]:
    """The rows of the letters and replies among ``arrivals``, locked for the transaction, read
    with one query per IN list: one ``get`` each would flush the rows stored before it."""
    ids = sorted({a.letter_id for a in arrivals if a.notice is None and a.words is None})
    return {
        row.letter_id: row
        for batch in in_batches(ids)
        for row in session.scalars(
            select(LetterRow)
            .where(LetterRow.letter_id.in_(batch))
            .options(_READ_ON_ARRIVAL)
            .with_for_update()
        )
    }


@dataclass(frozen=True)
class _Arrival:
    """An envelope opened and checked against the chain, ready to store."""

    letter_id: str
    chain: Letter
    stored: StoredDocument
    reply: ConfirmationReply | None  # None for a letter or a notice
    notice: NonComplianceNotice | None = None  # a bank's non-compliance notice
    sender: int = 0
    words: FirmWords | None = None  # a firm's follow-up message or withdrawal reason
    auditee_salt: str | None = None  # with a reply: the salt of the letter's auditee reference
    letter: ConfirmationLetter | None = None  # a letter as parsed when it was checked

    def store(self, node: Node, session: Session, rows: dict[str, LetterRow]) -> str:
        """Stores what arrived; ``rows``: the letters' rows, read and locked (``_locked_rows``)."""
        if self.notice is not None:
            return store_notice(node, session, self.sender, self.notice, self.stored)
        if self.words is not None:
            return store_firm_words(node, session, self.sender, self.words, self.stored)
        if self.reply is None:
            return _store_letter(node, session, self, rows)
        return _store_reply(node, rows.get(self.letter_id), self, self.reply)


def _open(node: Node, sender: int, envelope: Envelope, chain: Letter | None) -> _Arrival:
    me = node.member_id()
    if envelope.sender != sender:
        raise PeerForged(f"the envelope claims sender {envelope.sender}, the call is signed by {sender}")
    plaintext = open_envelope(envelope, node.keys.decryption_keys, expected_recipient=me)
    content = parse_envelope_content(plaintext)
    stored = content.stored()
    if chain is None:
        chain = node.network.confirmations.get_letter(_id(envelope))
    if envelope.step == "letter":
        if chain.firm != sender or chain.bank != me:
            raise PeerNotParty(f"member {sender} did not request letter {envelope.letter_id} from this bank")
        letter = parse_letter(stored.canonical)
        stored = _check_letter(letter, envelope, chain, stored)
        return _Arrival(envelope.letter_id, chain, stored, None, letter=letter)
    if envelope.step == "notice":
        notice = parse_notice(stored.canonical)
        check_notice(notice, sender=sender, letter_id=envelope.letter_id, chain=chain)
        return _Arrival(envelope.letter_id, chain, stored, None, notice, sender)
    if envelope.step in ("follow_up", "withdrawal"):
        words = parse_firm_words(envelope.step, stored.canonical)
        check_firm_words(words, sender=sender, me=me, letter_id=envelope.letter_id, chain=chain)
        return _Arrival(envelope.letter_id, chain, stored, None, sender=sender, words=words)
    if chain.bank != sender or chain.firm != me:
        raise PeerNotParty(f"member {sender} is not the bank of letter {envelope.letter_id}")
    reply = parse_reply(stored.canonical)
    if reply.letter_id != envelope.letter_id or reply.bank_member_no != sender:
        raise InvalidDocument("the reply names another letter or bank than its envelope")
    if chain.status not in _REPLY_ARRIVES:
        raise ChainNotReady(f"the chain does not show a reply to {envelope.letter_id} yet")
    stored = _as_committed(reply, REPLY_DOMAIN, stored, chain.reply_hash)
    if content.auditee_salt is None:
        raise InvalidDocument("a reply carries the salt of the letter's auditee reference (auditee_salt)")
    return _Arrival(envelope.letter_id, chain, stored, reply, auditee_salt=content.auditee_salt)


def _check_letter(
    letter: ConfirmationLetter, envelope: Envelope, chain: Letter, stored: StoredDocument
) -> StoredDocument:
    """The letter's checks; what to keep of it (:func:`_as_committed`)."""
    if letter.letter_id != envelope.letter_id:
        raise InvalidDocument("the letter inside names another letter id than its envelope")
    if letter.audit_firm.member_no != chain.firm or letter.bank.member_no != chain.bank:
        raise InvalidDocument("the letter names other parties than the chain records")
    if letter.confirmation_no is None:
        raise InvalidDocument("the letter has no 函证编号: the firm's gateway numbers every letter it sends")
    if chain.status == LetterStatus.REQUESTED:
        raise ChainNotReady(f"letter {envelope.letter_id} is not authorised on chain yet")
    if chain.status not in _LETTER_ARRIVES:
        raise Conflict(f"letter {envelope.letter_id} is {chain.status.name} on chain; it is not delivered")
    return _as_committed(letter, LETTER_DOMAIN, stored, chain.letter_hash)


def _as_committed(
    document: Document, domain: bytes, stored: StoredDocument, expected: bytes
) -> StoredDocument:
    """``verify_document_hash``, the bytes as they came judged first: a gateway sends a document's
    canonical bytes, which give the chain's hash without serialising the document again. Other
    bytes of the same document are judged by its canonical form, as they always were, and that
    form is what is kept: the evidence carries the stored bytes, and the verifier hashes them as
    they are."""
    salt = as_salt(stored.salt)
    if hmac.compare_digest(salted_hash(domain, salt, stored.canonical), expected):
        return stored
    verify_document_hash(document, salt, expected)
    return StoredDocument(canonical_bytes(document), stored.salt)


def _store_letter(node: Node, session: Session, arrival: _Arrival, rows: dict[str, LetterRow]) -> str:
    letter_id, chain = arrival.letter_id, arrival.chain
    row = rows.get(letter_id)
    if row is None:  # the envelope came before our indexer read the request
        row = LetterRow(
            letter_id=letter_id,
            firm=chain.firm,
            bank=chain.bank,
            auditee_ref=to_hex(chain.auditee_ref),
            letter_hash=to_hex(chain.letter_hash),
            due_at=chain.due_at,
            status=chain.status.name,
        )
        session.add(row)
        rows[letter_id] = row
    elif row.letter_sealed is not None:
        return "duplicate"
    elif row.status in (PENDING, LetterStatus.REQUESTED.name):
        row.status = chain.status.name
    row.auditee_ref = to_hex(chain.auditee_ref)  # before our indexer may have read the authorisation
    row.letter_sealed = node.vault.seal(letter_id, "letter", arrival.stored)
    if arrival.letter is not None:
        row.confirmation_no = arrival.letter.confirmation_no
        keep_opened_letter(node, row, arrival.letter)  # the round that checks it parses it no more
    row.received_at = utcnow()
    return "stored"


def _store_reply(node: Node, row: LetterRow | None, arrival: _Arrival, reply: ConfirmationReply) -> str:
    letter_id = arrival.letter_id
    if row is None:
        raise PeerNotParty(f"this firm holds no letter {letter_id}")
    if row.reply_sealed is not None:
        existing, _ = stored_reply(node, row)
        if existing != reply:
            raise DocumentHashMismatch("a different reply to this letter was received before")
        return "duplicate"
    row.auditee_salt = _checked_auditee_salt(node, row, arrival)
    row.reply_sealed = node.vault.seal(letter_id, "reply", arrival.stored)
    row.reply_hash = to_hex(arrival.chain.reply_hash)
    row.reply_verified = True
    row.received_at = utcnow()
    return "stored"


def _checked_auditee_salt(node: Node, row: LetterRow, arrival: _Arrival) -> str:
    """The salt the bank sent with its reply, once it shows that the reference on chain (the one
    the signer's mandate is under) commits to the letter's auditee: else the evidence could not
    show whom the authorisation named."""
    try:
        salt = as_salt(from_hex(arrival.auditee_salt or ""))
    except ValueError as exc:
        raise InvalidDocument(f"the reply's auditee_salt is not a salt: {exc}") from exc
    if row.letter_sealed is None:
        raise NotFound(f"the document of letter {row.letter_id} has not arrived")
    # The letter was checked when this firm stored it: its auditee's code is read, not parsed again.
    letter = json.loads(node.vault.open(row.letter_id, "letter", row.letter_sealed).canonical)
    code = letter["auditee"]["registration_code"]
    if auditee_reference(code, salt) != arrival.chain.auditee_ref:
        raise InvalidDocument("the reply's auditee_salt does not give the auditee reference on chain")
    return to_hex(salt)
