"""The gateway's letters as a role extension sees them (see ``node_gateway.plugins``).

An extension (the bank adapter) never reads the gateway's rows nor its outbox keys. It reads
letters as ``LetterRecord`` values, asks how a letter's chain step stands (``step_state``), and acts
through the operations the gateway's own routes use (accept, reject, submit a reply, mandates),
all in the caller's session: the extension's own rows change in the same database transaction
as the letter's step, and the same row locks hold.

Where a query combines the letters' state with the extension's own records, the extension hands
in a subquery of letter ids from its own tables (``among``, ``excluding``): one statement, and the
gateway's rows stay here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypedDict, TypeVar, Unpack, overload

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from node_gateway.chain.signers import signer_id
from node_gateway.core.security import User
from node_gateway.node import Node
from node_gateway.protocol.documents import ConfirmationLetter, ConfirmationReply
from node_gateway.protocol.hashing import Salt, from_hex, to_hex
from node_gateway.protocol.lifecycle import Role, open_to
from node_gateway.services import letters
from node_gateway.storage.db import in_batches
from node_gateway.storage.models import ChainEventRow, LetterRow, MandateRow, OutboxTransaction, UserRow

# The chain steps a member records on one letter (the outbox's steps that name a letter).
LetterStep = Literal["request", "authorise", "refuse", "accept", "reject", "reply", "close", "withdraw"]
# The states in which a letter still takes its bank's answer (accepted or not yet): AUTHORISED, ACCEPTED.
_TAKES_REPLY = tuple(sorted(status.name for status in open_to(Role.BANK)))


class StepState(StrEnum):
    """How a chain step in the outbox stands: waiting to be (re)sent, on chain, or refused for good."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class LetterRecord:
    """A letter as this gateway holds it: the chain's view and which documents are here."""

    letter_id: str
    firm: int
    bank: int
    # The reference under which the bank mandated the signer who authorised (or refused) the
    # letter, from the chain; None until then.
    auditee_ref: str | None
    letter_hash: str
    due_at: int
    # The chain's status as this gateway last saw it (a ``LetterStatus`` name), or ``PENDING`` for
    # a firm's letter whose request is not on chain yet.
    status: str
    has_letter: bool
    has_reply: bool
    reply_hash: str | None
    reply_verified: bool
    reason: int | None  # the rejection's or refusal's code
    received_at: datetime | None  # when the letter's document arrived here
    created_at: datetime

    @property
    def arrived_at(self) -> datetime:
        """When the letter arrived here (when it was recorded, for a letter stored before it came)."""
        return self.received_at or self.created_at

    @property
    def takes_reply(self) -> bool:
        """Whether its bank may still answer it: authorised or accepted, and no reply stored."""
        return not self.has_reply and self.status in _TAKES_REPLY

    def overdue(self, now: int) -> bool:
        """Past its due time while it awaits the auditee or the bank (derived, never stored)."""
        return self.status in letters.AWAITING_BANK and now > self.due_at


@dataclass(frozen=True)
class Mandate:
    """A signer this bank registered for one of its customers."""

    auditee_ref: str
    signer: str
    valid_until: int
    revoked: bool
    created_at: datetime


def _record(row: LetterRow) -> LetterRecord:
    return LetterRecord(
        letter_id=row.letter_id,
        firm=row.firm,
        bank=row.bank,
        auditee_ref=row.auditee_ref,
        letter_hash=row.letter_hash,
        due_at=row.due_at,
        status=row.status,
        has_letter=row.letter_sealed is not None,
        has_reply=row.reply_sealed is not None,
        reply_hash=row.reply_hash,
        reply_verified=row.reply_verified,
        reason=row.reason,
        received_at=row.received_at,
        created_at=row.created_at,
    )


def _mandate(row: MandateRow) -> Mandate:
    return Mandate(
        auditee_ref=row.auditee_ref,
        signer=row.signer,
        valid_until=row.valid_until,
        revoked=row.revoked,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class Letters:
    """This gateway's letters, for a role extension running in ``node``."""

    node: Node

    # --- reading ------------------------------------------------------------------------------

    def get(self, session: Session, letter_id: str, *, for_update: bool = False) -> LetterRecord:
        """The letter (``NotFound`` if this gateway holds none); ``for_update`` locks its row until
        the session's transaction ends, as the gateway's own operations on it do."""
        return _record(letters.letter_row(session, letter_id, for_update=for_update))

    def lock(self, session: Session, letter_ids: Sequence[str]) -> list[LetterRecord]:
        """Those of the letters held here, in the order given, their rows locked until the session's
        transaction ends: ``get(for_update=True)`` of each, in one query."""
        rows = letters.letter_rows(session, letter_ids, for_update=True)
        return [_record(rows[lid]) for letter_id in letter_ids if (lid := letter_id.lower()) in rows]

    def document(self, session: Session, letter_id: str) -> ConfirmationLetter:
        """The letter's document (``NotFound`` until it has arrived)."""
        return letters.stored_letter(self.node, letters.letter_row(session, letter_id))

    @overload
    def received(
        self,
        session: Session,
        *,
        open_only: bool,
        ids: Literal[False] = False,
        **narrowing: Unpack[Narrowing],
    ) -> list[LetterRecord]: ...

    @overload
    def received(
        self, session: Session, *, open_only: bool, ids: Literal[True], **narrowing: Unpack[Narrowing]
    ) -> list[str]: ...

    def received(
        self, session: Session, *, open_only: bool, ids: bool = False, **narrowing: Unpack[Narrowing]
    ) -> list[LetterRecord] | list[str]:
        """The letters addressed to this member whose document arrived, the earliest due (or
        received) first; ``open_only``: those that still take its reply; ``ids``: their ids only,
        without loading their rows. ``narrowing`` as ``Narrowing`` says."""
        bank = self.node.member_id()
        if ids:
            return list(session.scalars(_received(select(LetterRow.letter_id), bank, open_only, **narrowing)))
        return [
            _record(row)
            for row in session.scalars(_received(select(LetterRow), bank, open_only, **narrowing))
        ]

    def ended(self, session: Session, among: Select[str], *, limit: int) -> list[str]:
        """Those of the letter ids ``among`` selects that take no reply any more: answered, or in a
        state past the bank's turn (rejected, withdrawn, closed)."""
        return list(
            session.scalars(
                select(LetterRow.letter_id)
                .where(
                    LetterRow.letter_id.in_(among),
                    LetterRow.reply_sealed.is_not(None) | LetterRow.status.not_in(_TAKES_REPLY),
                )
                .order_by(LetterRow.letter_id)
                .limit(limit)
            )
        )

    def step_state(self, session: Session, letter_id: str, step: LetterStep) -> StepState | None:
        """How this member's ``step`` on the letter stands in its outbox, None if it never queued one
        (a step queued in this session counts)."""
        state = session.scalar(
            select(OutboxTransaction.state)
            .where(OutboxTransaction.letter_id == letter_id, OutboxTransaction.step == step)
            .order_by(OutboxTransaction.id.desc())
            .limit(1)
        )
        return None if state is None else StepState(state)

    def queued_steps(self, session: Session, letter_ids: Sequence[str]) -> dict[str, set[str]]:
        """The steps this member has queued on each of the letters, whatever their state (those
        ``step_state`` is not None for), in one query per IN list; a letter with none is left out."""
        found: dict[str, set[str]] = {}
        for batch in in_batches(sorted(set(letter_ids))):
            query = select(OutboxTransaction.letter_id, OutboxTransaction.step).where(
                OutboxTransaction.letter_id.in_(batch)
            )
            for letter_id, step in session.execute(query):
                found.setdefault(str(letter_id), set()).add(step)
        return found

    def authorising_signer(self, session: Session, letter_id: str) -> str | None:
        """The signer of the letter's latest authorisation on chain as this gateway indexed it, None
        until it has indexed one. The event names the signer by its id (keccak256 of its ERC-7913
        bytes): this bank's mandate for the letter's auditee with that id gives its text form (an
        account's checksummed address); a signer this bank never mandated stays its ``0x``-id."""
        return self.authorising_signers(session, [letter_id]).get(letter_id)

    def authorising_signers(self, session: Session, letter_ids: Sequence[str]) -> dict[str, str]:
        """``authorising_signer`` of each of the letters, in one query for their events and one for
        the mandates (per IN list); a letter with no authorisation indexed yet is left out."""
        latest: dict[str, tuple[bytes, str]] = {}  # letter -> the signer's id, the reference
        for batch in in_batches(sorted(set(letter_ids))):
            events = session.execute(
                select(ChainEventRow.letter_id, ChainEventRow.args)
                .where(ChainEventRow.letter_id.in_(batch), ChainEventRow.name == "LetterAuthorised")
                .order_by(ChainEventRow.id)
            )
            for letter_id, args in events:  # the latest last
                # The reference the signer's mandate is under.
                latest[str(letter_id)] = (from_hex(str(args["signerId"])), str(args["auditeeRef"]))
        mandated: dict[tuple[str, bytes], str] = {
            (mandate.auditee_ref, signer_id(mandate.signer)): mandate.signer
            for mandate in self.mandates(session, sorted({ref for _, ref in latest.values()}))
        }
        return {
            letter_id: mandated.get((ref, chain_id), to_hex(chain_id))
            for letter_id, (chain_id, ref) in latest.items()
        }

    # --- the bank's steps ---------------------------------------------------------------------

    def accept(self, session: Session, letter_id: str) -> None:
        """Queues ``accept`` (a letter accepted or answered already is left as it is)."""
        letters.accept(self.node, session, letter_id)

    def accept_many(self, session: Session, letter_ids: Sequence[str]) -> None:
        """``accept`` of each letter, all or none, in one query for the steps (a round's accepts)."""
        letters.accept_many(self.node, session, letter_ids)

    def reject(self, session: Session, letter_id: str, reason: int) -> None:
        """Queues ``reject(reason)``."""
        letters.reject(self.node, session, letter_id, reason)

    def submit_reply(self, session: Session, reply: ConfirmationReply) -> None:
        """Stores the approved reply and queues its hash; delivery follows once it is on chain. The
        same reply again is a retry; another is refused."""
        letters.submit_reply(self.node, session, reply)

    def submit_replies(self, session: Session, replies: Sequence[ConfirmationReply]) -> None:
        """``submit_reply`` of each reply, all or none, in fewer queries (a round's replies)."""
        letters.submit_replies(self.node, session, replies)

    # --- customers and mandates ---------------------------------------------------------------

    def customer_reference(self, registration_code: str) -> tuple[Salt, str]:
        """The customer's auditee reference at this bank, and its salt."""
        return letters.customer_reference(self.node, registration_code)

    def register_mandate(
        self, session: Session, registration_code: str, signer: str, valid_until: int
    ) -> str:
        """Lets ``signer`` authorise the customer's letters and queues it; the auditee reference."""
        return letters.register_mandate(self.node, session, registration_code, signer, valid_until)

    def revoke_mandate(self, session: Session, registration_code: str, signer: str) -> str:
        """Revokes the signer's mandate and queues it; the auditee reference."""
        return letters.revoke_mandate(self.node, session, registration_code, signer)

    def mandate(self, session: Session, auditee_ref: str, signer: str) -> Mandate | None:
        row = session.get(MandateRow, (auditee_ref, signer))
        return None if row is None else _mandate(row)

    def mandates(self, session: Session, auditee_refs: Sequence[str] | None = None) -> list[Mandate]:
        """Every mandate this bank registered (under ``auditee_refs`` only, if given), the oldest
        first."""
        query = select(MandateRow).order_by(MandateRow.created_at)
        if auditee_refs is None:
            return [_mandate(row) for row in session.scalars(query)]
        found = [
            _mandate(row)
            for batch in in_batches(auditee_refs)
            for row in session.scalars(query.where(MandateRow.auditee_ref.in_(batch)))
        ]
        return sorted(found, key=lambda mandate: mandate.created_at)


def active_user(session: Session, name: str) -> User | None:
    """The user of this gateway named ``name``, unless there is none or their key is revoked."""
    row = session.scalar(select(UserRow).where(UserRow.name == name, UserRow.revoked_at.is_(None)))
    return None if row is None else User(id=row.id, name=row.name, roles=frozenset(row.roles.split()))


_T = TypeVar("_T", bound=Any)


class Narrowing(TypedDict, total=False):
    """How ``Letters.received`` narrows the letters: ``earliest`` orders them by their due time
    (the default) or by when they arrived; at most ``limit`` of them; ``among`` and ``excluding``
    keep, or drop, the letter ids the given subquery selects."""

    earliest: Literal["due", "received"]
    limit: int | None
    among: Select[str] | None
    excluding: Select[str] | None


def _received(
    query: Select[_T],
    bank: int,
    open_only: bool,
    earliest: Literal["due", "received"] = "due",
    limit: int | None = None,
    among: Select[str] | None = None,
    excluding: Select[str] | None = None,
) -> Select[_T]:
    """``query`` narrowed to the letters ``Letters.received`` gives, in its order."""
    query = query.where(LetterRow.bank == bank, LetterRow.letter_sealed.is_not(None))
    if open_only:
        query = query.where(LetterRow.reply_sealed.is_(None), LetterRow.status.in_(_TAKES_REPLY))
    if among is not None:
        query = query.where(LetterRow.letter_id.in_(among))
    if excluding is not None:
        query = query.where(LetterRow.letter_id.not_in(excluding))
    first = LetterRow.due_at if earliest == "due" else LetterRow.received_at
    return query.order_by(first, LetterRow.letter_id).limit(limit)
