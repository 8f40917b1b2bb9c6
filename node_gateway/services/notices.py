"""Notices a bank sends a firm off chain: the non-compliance notice (不符合要求通知) that goes with
``reject``, quoting the letter's 函证编号 and the specific reason in words.

The bank stores the notice sealed (``notices``, kind ``notice``); once its rejection is on chain
the indexer queues it, encrypted to the firm, on the delivery outbox as it does a reply. The firm
checks it against the chain (the letter rejected by that bank, with that reason code) before it
keeps it. The rejection's fact, time and
code are on chain; the words only in the two members' databases.

The auditee's refusal in words (kind ``refusal``) comes to the firm with the signed refusal and is
kept there only, sealed the same way; the refusal's fact, time and code are on chain.

The firm's words to the bank go the other way: a message with a follow-up (催函, kind
``follow_up``, one per follow-up: the letter's Nth ``LetterFollowedUp`` is ordinal N) and the
reason for a withdrawal (撤回, kind ``withdrawal``; the gateway's own return of a letter not
authorised in time gives its reason too). The firm keeps them sealed when it asks for the step;
once its indexer sees the step on chain it completes them with where the chain recorded it and,
if the bank holds the letter (the letter was authorised, so the firm delivered it), queues them
encrypted to the bank. Words about a letter the bank never received (a follow-up chasing the
auditee's authorisation, a withdrawal before it) stay at the firm. The bank keeps them only if
its own index of the chain shows that step, from that firm, at the block and transaction named.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node_gateway.chain.contracts import Letter, LetterStatus
from node_gateway.errors import ChainNotReady, Conflict, InvalidRequest, PeerNotParty
from node_gateway.node import Node
from node_gateway.protocol.documents import (
    ChainReference,
    ConfirmationLetter,
    FollowUpMessage,
    NonComplianceNotice,
    WithdrawalReason,
    parse_follow_up,
    parse_letter,
    parse_notice,
    parse_withdrawal,
)
from node_gateway.protocol.errors import DocumentHashMismatch, InvalidDocument, StepNotOnChain
from node_gateway.protocol.hashing import canonical_bytes, canonical_json
from node_gateway.services.delivery import enqueue_delivery
from node_gateway.storage.models import (
    ChainEventRow,
    IndexerCursor,
    LetterRow,
    NoticeRow,
    OutboxDelivery,
    OutboxTransaction,
)
from node_gateway.storage.vault import StoredDocument

KIND: Final = "notice"  # the envelope's step and the stored notice's kind
REFUSAL: Final = "refusal"  # the auditee's refusal in words, kept by the firm that received it
FOLLOW_UP: Final = "follow_up"  # a follow-up's message, firm to bank (envelope step and kind)
WITHDRAWAL: Final = "withdrawal"  # a withdrawal's reason, firm to bank (envelope step and kind)
FirmWords = FollowUpMessage | WithdrawalReason
FirmWordsKind = Literal["follow_up", "withdrawal"]
_EVENT_OF: Final[dict[str, str]] = {FOLLOW_UP: "LetterFollowedUp", WITHDRAWAL: "LetterWithdrawn"}


def send_notice(node: Node, session: Session, notice: NonComplianceNotice) -> None:
    """Stores the bank's notice, in the caller's transaction, for the firm that requested the
    letter; it goes out once the rejection is on chain (the indexer queues it, as a reply). The
    same notice again is a no-op, another one refused."""
    row = session.get(LetterRow, notice.letter_id)
    if row is None or row.bank != node.member_id() or notice.bank_member_no != row.bank:
        raise InvalidRequest(f"this bank holds no letter {notice.letter_id} to give notice about")
    stored = StoredDocument(canonical_bytes(notice), b"")
    existing = session.get(NoticeRow, (notice.letter_id, KIND, 0))
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
    existing = session.get(NoticeRow, (notice.letter_id, KIND, 0))
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
    row = session.get(NoticeRow, (letter_id, KIND, 0))
    return None if row is None else _open(node, row)


def keep_refusal_words(node: Node, session: Session, letter_ids: Sequence[str], words: str) -> None:
    """Keeps the auditee's reason in words for refusing these letters (ISA 505 ¶8), sealed with each
    letter, in the caller's transaction. The firm receives the refusal directly, so the words go to
    no one; the refusal's fact, time and code go on chain. The same words again are a no-op."""
    stored = StoredDocument(canonical_json({"reason_text": words}), b"")
    for letter_id in letter_ids:
        existing = session.get(NoticeRow, (letter_id, REFUSAL, 0))
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
    row = session.get(NoticeRow, (letter_id, REFUSAL, 0))
    return None if row is None else _refusal_text(node, row)


# --- the firm's words to the bank: follow-up messages and withdrawal reasons ------------------


def keep_follow_up_message(node: Node, session: Session, letter_id: str, ordinal: int, message: str) -> None:
    """Keeps the firm's message with its ``ordinal``-th follow-up of the letter, in the caller's
    transaction (the one that queues the follow-up step). A message kept under that ordinal for a
    follow-up that never reached the chain (its step failed, so the ordinal is asked again) is
    replaced."""
    words = FollowUpMessage(
        letter_id=letter_id, firm_member_no=node.member_id(), ordinal=ordinal, message=message
    )
    existing = session.get(NoticeRow, (letter_id, FOLLOW_UP, ordinal))
    if existing is None:
        _add_words(node, session, words, node.member_id())
    elif _open_words(node, existing).recorded is None:
        existing.sealed = _sealed_words(node, words)
    else:
        raise Conflict(f"letter {letter_id} has a follow-up {ordinal} on chain already; ask again")


def keep_withdrawal_reason(
    node: Node,
    session: Session,
    letter_id: str,
    reason_text: str,
    *,
    returned: Literal["not_authorised_in_time"] | None = None,
) -> bool:
    """Keeps the firm's reason for withdrawing the letter, in the caller's transaction. The same
    reason again is a no-op; another one a conflict, unless it is the gateway's own return
    (``returned``), which leaves an auditor's reason as it is. True if it kept these words."""
    existing = session.get(NoticeRow, (letter_id, WITHDRAWAL, 0))
    if existing is not None:
        kept = _open_words(node, existing)
        assert isinstance(kept, WithdrawalReason)
        if kept.reason_text != reason_text.strip() and returned is None:
            raise Conflict(f"letter {letter_id} is being withdrawn for another reason")
        return False
    words = WithdrawalReason(
        letter_id=letter_id, firm_member_no=node.member_id(), reason_text=reason_text, returned=returned
    )
    _add_words(node, session, words, node.member_id())
    return True


def _key(words: FirmWords) -> tuple[FirmWordsKind, int]:
    return (FOLLOW_UP, words.ordinal) if isinstance(words, FollowUpMessage) else (WITHDRAWAL, 0)


def _sealed_words(node: Node, words: FirmWords) -> bytes:
    return node.vault.seal(words.letter_id, _key(words)[0], StoredDocument(canonical_bytes(words), b""))


def _add_words(node: Node, session: Session, words: FirmWords, sender: int) -> None:
    kind, ordinal = _key(words)
    sealed = _sealed_words(node, words)
    session.add(
        NoticeRow(letter_id=words.letter_id, kind=kind, ordinal=ordinal, sender=sender, sealed=sealed)
    )


def _open_words(node: Node, row: NoticeRow) -> FirmWords:
    kind = cast(FirmWordsKind, row.kind)
    return parse_firm_words(kind, node.vault.open(row.letter_id, kind, row.sealed).canonical)


def parse_firm_words(kind: FirmWordsKind, canonical: bytes) -> FirmWords:
    """An envelope's follow-up message or withdrawal reason; ``InvalidDocument`` if it is none."""
    return parse_follow_up(canonical) if kind == FOLLOW_UP else parse_withdrawal(canonical)


def follow_up_asked_as(session: Session, event: ChainEventRow) -> int | None:
    """The ordinal this firm gave the follow-up that ``event`` records: the one its outbox sent in
    that transaction at the event's place among the letter's follow-ups there (a bundle keeps
    the order of its steps); None if it sent none there (another gateway's, or lost track)."""
    position = session.scalar(
        select(func.count()).where(
            ChainEventRow.transaction_hash == event.transaction_hash,
            ChainEventRow.letter_id == event.letter_id,
            ChainEventRow.name == "LetterFollowedUp",
            ChainEventRow.log_index <= event.log_index,
        )
    )
    payloads = session.scalars(
        select(OutboxTransaction.payload)
        .where(
            OutboxTransaction.letter_id == event.letter_id,
            OutboxTransaction.step == "follow_up",
            OutboxTransaction.transaction_hash == event.transaction_hash,
        )
        .order_by(OutboxTransaction.id)
    ).all()
    if not position or position > len(payloads):
        return None
    asked = payloads[position - 1].get("ordinal")
    return None if asked is None else int(asked)


def firm_words_recorded(
    node: Node,
    session: Session,
    letter_id: str,
    bank: int,
    kind: FirmWordsKind,
    ordinal: int,
    recorded: ChainReference,
    *,
    to_bank: bool,
) -> None:
    """At the firm, its indexer has seen the step on chain: the words kept for it (if any) are
    completed with where the chain recorded it and, if ``to_bank`` (the bank holds the letter),
    queued encrypted to ``bank``. Repeated rounds change nothing."""
    notice = session.get(NoticeRow, (letter_id, kind, ordinal))
    if notice is None:
        return
    words = _open_words(node, notice)
    if words.recorded is None:
        words = words.model_copy(update={"recorded": recorded})
        notice.sealed = _sealed_words(node, words)
    if to_bank:
        enqueue_delivery(
            session,
            node,
            letter_id=letter_id,
            step=kind,
            recipient=bank,
            sealed=notice.sealed,
            ordinal=ordinal,
        )


def check_firm_words(words: FirmWords, *, sender: int, me: int, letter_id: str, chain: Letter) -> None:
    """Words arriving at the bank: from the letter's firm, to this bank, about that letter, naming
    where the chain recorded the step (which ``store_firm_words`` finds in this bank's index)."""
    if chain.firm != sender or chain.bank != me or words.firm_member_no != sender:
        raise PeerNotParty(f"member {sender} did not request letter {letter_id} from this bank")
    if words.letter_id != letter_id:
        raise InvalidDocument("the words name another letter than their envelope")
    if words.recorded is None:
        raise InvalidDocument("the words name no step on chain; they are sent once the step is recorded")


def store_firm_words(
    node: Node, session: Session, sender: int, words: FirmWords, stored: StoredDocument
) -> str:
    """Keeps checked words at the bank once its index of the chain shows their step, where they say
    (the letter's Nth follow-up, its withdrawal): "stored" or "duplicate"."""
    kind, ordinal = _key(words)
    recorded = words.recorded
    assert recorded is not None  # check_firm_words
    cursor = session.get(IndexerCursor, "events")
    if cursor is None or cursor.next_block <= recorded.block_number:
        raise ChainNotReady(f"this gateway has not indexed block {recorded.block_number} yet")
    events = session.scalars(
        select(ChainEventRow)
        .where(ChainEventRow.letter_id == words.letter_id, ChainEventRow.name == _EVENT_OF[kind])
        .order_by(ChainEventRow.block_number, ChainEventRow.log_index)
    ).all()
    position = ordinal or 1  # the Nth follow-up; the one withdrawal
    if (
        len(events) < position
        or events[position - 1].transaction_hash != recorded.transaction_hash
        or events[position - 1].block_number != recorded.block_number
    ):
        what = f"follow-up {ordinal}" if kind == FOLLOW_UP else "withdrawal"
        raise StepNotOnChain(
            f"the chain does not show the {what} of letter {words.letter_id} in transaction "
            f"{recorded.transaction_hash}"
        )
    existing = session.get(NoticeRow, (words.letter_id, kind, ordinal))
    if existing is not None:
        if _open_words(node, existing) != words:
            raise DocumentHashMismatch(f"other words for this {kind} of the letter were received before")
        return "duplicate"
    session.add(
        NoticeRow(
            letter_id=words.letter_id,
            kind=kind,
            ordinal=ordinal,
            sender=sender,
            sealed=node.vault.seal(words.letter_id, kind, stored),
        )
    )
    return "stored"


@dataclass(frozen=True)
class FollowUp:
    """One follow-up of a letter as a party sees it: when the chain recorded it (None while it is
    on its way there), the firm's message, and how its delivery to the bank stands (at the firm:
    pending, done or failed; None where the message stays at the firm, or at the bank)."""

    ordinal: int
    at: int | None
    message: str | None
    delivery: str | None


def follow_ups(node: Node, session: Session, letter_id: str) -> list[FollowUp]:
    """The letter's follow-ups in order, with their messages."""
    times = list(
        session.scalars(
            select(ChainEventRow.block_timestamp)
            .where(ChainEventRow.letter_id == letter_id, ChainEventRow.name == "LetterFollowedUp")
            .order_by(ChainEventRow.block_number, ChainEventRow.log_index)
        )
    )
    messages: dict[int, str] = {}
    for row in session.scalars(
        select(NoticeRow).where(NoticeRow.letter_id == letter_id, NoticeRow.kind == FOLLOW_UP)
    ):
        words = _open_words(node, row)
        assert isinstance(words, FollowUpMessage)
        messages[row.ordinal] = words.message
    deliveries: dict[int, str] = dict(
        session.execute(
            select(OutboxDelivery.ordinal, OutboxDelivery.state).where(
                OutboxDelivery.letter_id == letter_id, OutboxDelivery.step == FOLLOW_UP
            )
        ).all()
    )
    count = max(len(times), max(messages, default=0))
    return [
        FollowUp(n, times[n - 1] if n <= len(times) else None, messages.get(n), deliveries.get(n))
        for n in range(1, count + 1)
    ]


def withdrawal_reason(node: Node, session: Session, letter_id: str) -> WithdrawalReason | None:
    """The firm's reason for withdrawing the letter, as this member keeps it, if it was given one."""
    row = session.get(NoticeRow, (letter_id, WITHDRAWAL, 0))
    if row is None:
        return None
    words = _open_words(node, row)
    assert isinstance(words, WithdrawalReason)
    return words


def _withdrawal_delivery(session: Session, letter_id: str) -> str | None:
    return session.scalar(
        select(OutboxDelivery.state).where(
            OutboxDelivery.letter_id == letter_id, OutboxDelivery.step == WITHDRAWAL
        )
    )


@dataclass(frozen=True)
class FirmWordsView:
    """The firm's words about a letter as this member keeps them, for its API and pages: the
    follow-ups with their messages, the withdrawal's reason and (at the firm) how its delivery to
    the bank stands (None: not sent, the bank not holding the letter; or at the bank)."""

    follow_ups: list[FollowUp]
    withdrawal_reason: str | None
    withdrawal_delivery: str | None


def firm_words(node: Node, session: Session, letter_id: str) -> FirmWordsView:
    withdrawal = withdrawal_reason(node, session, letter_id)
    return FirmWordsView(
        follow_ups(node, session, letter_id),
        None if withdrawal is None else withdrawal.reason_text,
        _withdrawal_delivery(session, letter_id),
    )


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
