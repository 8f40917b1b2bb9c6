"""Notices a bank sends a firm off chain: the non-compliance notice (不符合要求通知) that goes with
``reject``, quoting the letter's 函证编号 and the specific reason in words.

The bank stores the notice sealed (``notices``, kind ``notice``); once its rejection is on chain
the indexer queues it, encrypted to the firm, on the delivery outbox as it does a reply. The firm
checks it against the chain (the letter rejected by that bank, with that reason code) before it
keeps it. The rejection's fact, time and
code are on chain; the words only in the two members' databases.

The auditee's refusal in words (kind ``refusal``) comes to the firm with the signed refusal and is
kept there only, sealed the same way; the refusal's fact, time and code are on chain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from sqlalchemy.orm import Session

from node_gateway.chain.contracts import Letter, LetterStatus
from node_gateway.errors import ChainNotReady, Conflict, InvalidRequest, PeerNotParty
from node_gateway.node import Node
from node_gateway.protocol.documents import (
    ConfirmationLetter,
    NonComplianceNotice,
    parse_letter,
    parse_notice,
)
from node_gateway.protocol.errors import DocumentHashMismatch, InvalidDocument
from node_gateway.protocol.hashing import canonical_bytes, canonical_json
from node_gateway.storage.models import LetterRow, NoticeRow
from node_gateway.storage.vault import StoredDocument

KIND: Final = "notice"  # the envelope's step and the stored notice's kind
REFUSAL: Final = "refusal"  # the auditee's refusal in words, kept by the firm that received it


def send_notice(node: Node, session: Session, notice: NonComplianceNotice) -> None:
    """Stores the bank's notice, in the caller's transaction, for the firm that requested the
    letter; it goes out once the rejection is on chain (the indexer queues it, as a reply). The
    same notice again is a no-op, another one refused."""
    row = session.get(LetterRow, notice.letter_id)
    if row is None or row.bank != node.member_id() or notice.bank_member_no != row.bank:
        raise InvalidRequest(f"this bank holds no letter {notice.letter_id} to give notice about")
    stored = StoredDocument(canonical_bytes(notice), b"")
    existing = session.get(NoticeRow, (notice.letter_id, KIND))
    if existing is not None:
        if _open(node, existing) != notice:
            raise InvalidRequest(f"letter {notice.letter_id} has had another notice")
        return
    sealed = node.vault.seal(notice.letter_id, KIND, stored)
    session.add(NoticeRow(letter_id=notice.letter_id, kind=KIND, sender=row.bank, sealed=sealed))


def check_notice(notice: NonComplianceNotice, *, sender: int, letter_id: str, chain: Letter) -> None:
    """A notice arriving at the firm: from the letter's bank, about that letter, which the chain
    shows rejected (the reason code is compared once this gateway has indexed it, ``store_notice``)."""
    if chain.bank != sender or notice.bank_member_no != sender:
        raise PeerNotParty(f"member {sender} is not the bank of letter {letter_id}")
    if notice.letter_id != letter_id:
        raise InvalidDocument("the notice names another letter than its envelope")
    if chain.status != LetterStatus.REJECTED:
        raise ChainNotReady(f"the chain does not show letter {letter_id} rejected (yet)")


def store_notice(
    node: Node, session: Session, sender: int, notice: NonComplianceNotice, stored: StoredDocument
) -> str:
    """Keeps a checked notice at the firm: "stored" or "duplicate"."""
    row = session.get(LetterRow, notice.letter_id, with_for_update=True)
    if row is None or row.firm != node.member_id():
        raise PeerNotParty(f"this firm holds no letter {notice.letter_id}")
    if row.reason is None:
        raise ChainNotReady(f"this gateway has not indexed the rejection of {notice.letter_id} yet")
    if row.reason != int(notice.reason):
        raise InvalidDocument(f"the notice gives reason {int(notice.reason)}, the chain records {row.reason}")
    existing = session.get(NoticeRow, (notice.letter_id, KIND))
    if existing is not None:
        if _open(node, existing) != notice:
            raise DocumentHashMismatch("a different notice about this letter was received before")
        return "duplicate"
    sealed = node.vault.seal(notice.letter_id, KIND, stored)
    session.add(NoticeRow(letter_id=notice.letter_id, kind=KIND, sender=sender, sealed=sealed))
    return "stored"


def _open(node: Node, row: NoticeRow) -> NonComplianceNotice:
    return parse_notice(node.vault.open(row.letter_id, KIND, row.sealed).canonical)


def notice_of(node: Node, session: Session, letter_id: str) -> NonComplianceNotice | None:
    """The non-compliance notice about the letter this member sent or received, if any."""
    row = session.get(NoticeRow, (letter_id, KIND))
    return None if row is None else _open(node, row)


def keep_refusal_words(node: Node, session: Session, letter_ids: Sequence[str], words: str) -> None:
    """Keeps the auditee's reason in words for refusing these letters (ISA 505 ¶8), sealed with each
    letter, in the caller's transaction. The firm receives the refusal directly, so the words go to
    no one; the refusal's fact, time and code go on chain. The same words again are a no-op."""
    stored = StoredDocument(canonical_json({"reason_text": words}), b"")
    for letter_id in letter_ids:
        existing = session.get(NoticeRow, (letter_id, REFUSAL))
        if existing is not None:
            if _refusal_text(node, existing) != words:
                raise Conflict(f"letter {letter_id} has been refused in other words")
            continue
        sealed = node.vault.seal(letter_id, REFUSAL, stored)
        session.add(NoticeRow(letter_id=letter_id, kind=REFUSAL, sender=node.member_id(), sealed=sealed))


def _refusal_text(node: Node, row: NoticeRow) -> str:
    text: str = json.loads(node.vault.open(row.letter_id, REFUSAL, row.sealed).canonical)["reason_text"]
    return text


def refusal_words(node: Node, session: Session, letter_id: str) -> str | None:
    """The auditee's reason in words for refusing the letter, if this firm was given one."""
    row = session.get(NoticeRow, (letter_id, REFUSAL))
    return None if row is None else _refusal_text(node, row)


def correction_problems(node: Node, session: Session, letter: ConfirmationLetter) -> list[str]:
    """Why ``letter`` cannot be the correction it says it is (``corrects``): it must correct a
    letter this firm sent that its bank rejected, to the same bank, for the same auditee."""
    lid, corrected = letter.letter_id, letter.corrects
    if corrected is None:
        return []
    row = session.get(LetterRow, corrected)
    if row is None or row.firm != node.member_id() or row.letter_sealed is None:
        return [f"{lid}: this firm sent no letter {corrected} to correct"]
    if row.status != LetterStatus.REJECTED.name:
        return [f"{lid}: letter {corrected} is {row.status}; only a letter the bank rejected is corrected"]
    original = parse_letter(node.vault.open(corrected, "letter", row.letter_sealed).canonical)
    if original.bank.member_no != letter.bank.member_no:
        return [f"{lid}: a correction goes to the bank that rejected letter {corrected}"]
    if original.auditee.registration_code != letter.auditee.registration_code:
        return [f"{lid}: a correction confirms the same auditee as letter {corrected}"]
    return []
