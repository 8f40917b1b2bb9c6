"""Maker–checker approval of reply drafts, the approval policies, and the decision log.

A draft names its preparer (经办人): the system drafter for drafts made on arrival, or the officer
who drafted by hand. A reviewer (复核人) approves it, which makes the reply, or returns it with a
note; the reviewer is never the preparer. A letter has one live draft at a time: a new version
supersedes the one before.

Policies: ``manual`` — a person reviews every draft; ``straight_through`` — a draft the system
made on arrival with no exception, nothing flagged for attention and every amount within its own
currency's limit (a currency without a limit never goes straight through; amounts are never
compared across currencies) is approved at once by the system reviewer
(``system:straight-through``), so the reply records a system preparer and a distinct system
reviewer. Everything else waits for a person.

Who signs off a reply (``check_sign_offs``, on every approval): two active users of this gateway,
a preparer (the ``preparer`` role) who drafted it — the decision log holds their ``drafted`` entry
for that very draft — and another, a reviewer (the ``reviewer`` role). The only stand-in is the
bank's declared automated control: the system drafter and the straight-through reviewer, for a
draft the straight-through policy lets through. A system draft that waits for a person is no
preparer's sign-off: a preparer drafts it again as their own before another officer approves it.

Every decision (compliance, drafting, approval, return, rejection) is logged with who and when.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from bank_adapter.drafting import Draft
from bank_adapter.errors import (
    DraftNotPending,
    OfficerUnnamed,
    PreparerDidNotAct,
    PreparerNotOfficer,
    ReviewerNotOfficer,
    SameOfficer,
    SystemSignOff,
)
from bank_adapter.models import DecisionRow, DraftRow
from node_gateway.protocol.documents import (
    AMOUNT_FIELDS as AMOUNT_FIELDS,  # the schema's money fields, re-exported
)
from node_gateway.protocol.documents import (
    AutomatedControl,
    ConfirmationLetter,
    ConfirmationReply,
    Entry,
    Officer,
    Person,
    conclusion_of,
    quoted_number,
)
from node_gateway.services.facade import active_user
from node_gateway.storage.memo import transaction_memo
from node_gateway.storage.models import UserRow, utcnow
from node_gateway.storage.vault import StoredDocument, Vault

SYSTEM_PREFIX = "system:"
SYSTEM_COMPLIANCE = Officer(officer_id="system:compliance", name="合规检查(系统)")
SYSTEM_DRAFTER = Officer(officer_id="system:drafter", name="自动制函(系统)")
STRAIGHT_THROUGH = Officer(officer_id="system:straight-through", name="直通复核(系统)")
STRAIGHT_THROUGH_CONTROL_NAME = "直通式回函自动复核控制(无差异、无待关注事项、金额在限额内)"
SYSTEM_WORKFLOW = Officer(officer_id="system:workflow", name="流程(系统)")  # housekeeping of drafts
# The user roles that sign off a reply: its preparer's (经办) and its reviewer's (复核).
PREPARER_ROLE, REVIEWER_ROLE = "preparer", "reviewer"


class DraftStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    RETURNED = "returned"  # sent back to the preparers with a note
    APPROVED = "approved"  # the reply was made from it
    SUPERSEDED = "superseded"  # a newer version replaced it, or the letter ended otherwise


class Action(StrEnum):
    COMPLIANCE_PASSED = "compliance_passed"
    REJECTED = "rejected"
    DRAFTED = "drafted"
    APPROVED = "approved"
    RETURNED = "returned"
    SUPERSEDED = "superseded"


# The money fields whose currency is not the entry's ``currency`` (an FX contract's two legs).
_AMOUNT_CURRENCY = {"bought_amount": "bought_currency", "sold_amount": "sold_currency"}


@functools.cache
def _money_fields(entry_type: type[Entry]) -> tuple[tuple[str, str], ...]:
    """The kind of entry's money fields, each with the field of its currency (asked once a kind:
    a round asks for every entry of every letter)."""
    names = sorted(AMOUNT_FIELDS & entry_type.model_fields.keys())
    return tuple((name, _AMOUNT_CURRENCY.get(name, "currency")) for name in names)


def amounts_by_currency(entries: Iterable[Entry]) -> dict[str, Decimal]:
    """The largest amount of money among ``entries`` in each currency they state."""
    largest: dict[str, Decimal] = {}
    for entry in entries:
        for name, currency_field in _money_fields(type(entry)):
            value = getattr(entry, name)
            currency = getattr(entry, currency_field, None)
            if value is not None and currency is not None:
                largest[currency] = max(largest.get(currency, Decimal(0)), abs(value))
    return largest


def over_limit(amounts: Mapping[str, Decimal], limits: Mapping[str, Decimal]) -> str | None:
    """The first amount a straight-through reply may not state: above its currency's limit, or in
    a currency without one (amounts are never compared across currencies). None if all fit."""
    for currency, amount in sorted(amounts.items()):
        if currency not in limits:
            return f"an amount in {currency}, which has no straight-through limit"
        if amount > limits[currency]:
            return f"an amount above the straight-through limit of {limits[currency]} {currency}"
    return None


def _entries(letter: ConfirmationLetter, content: Draft) -> list[Entry]:
    stated = [entry for _, item in letter.items.by_key() for entry in item.entries]
    return stated + [entry for _, item in content.items.by_key() for entry in item.entries]


@dataclass(frozen=True)
class ApprovalPolicy:
    """Which drafts need a person; ``limit`` caps any single amount in a straight-through reply,
    per currency (None: no cap in any currency)."""

    mode: Literal["manual", "straight_through"] = "manual"
    limit: Mapping[str, Decimal] | None = None
    # The automated control a straight-through reply names, with the person accountable for it.
    control: AutomatedControl | None = None

    def needs_review(self, letter: ConfirmationLetter, content: Draft, preparer_id: str) -> str | None:
        """Why the draft waits for a reviewer, or None if it may go straight through."""
        if self.mode == "manual":
            return "the policy is manual: every draft is reviewed"
        if preparer_id != SYSTEM_DRAFTER.officer_id:
            return "an officer drafted it: a person reviews what a person wrote"
        if content.no_relationship:
            return "the bank's records know no such customer: a person confirms there is no relationship"
        if content.exceptions:
            return f"{content.exceptions} item(s) with exceptions"
        if content.attention:
            return f"{len(content.attention)} point(s) for attention"
        if self.limit is not None:
            return over_limit(amounts_by_currency(_entries(letter, content)), self.limit)
        return None


MANUAL = ApprovalPolicy()


def straight_through_control(
    accountable_name: str | None, accountable_title: str | None
) -> AutomatedControl | None:
    """The straight-through control as a reply names it, or None without its accountable person."""
    if not accountable_name or not accountable_title:
        return None
    return AutomatedControl(
        control_id=STRAIGHT_THROUGH.officer_id,
        name=STRAIGHT_THROUGH_CONTROL_NAME,
        accountable=Person(name=accountable_name, title=accountable_title),
    )


def officer_of(row: DraftRow, *, reviewer: bool = False) -> Officer:
    if reviewer:
        if row.reviewer_id is None or row.reviewer_name is None:
            raise ValueError(f"draft {row.id} has no reviewer")
        return Officer(officer_id=row.reviewer_id, name=row.reviewer_name)
    return Officer(officer_id=row.preparer_id, name=row.preparer_name)


# --- who signs off -----------------------------------------------------------------------------


def is_system(officer_id: str) -> bool:
    """Whether ``officer_id`` is one of the system's own sign-offs, never a person's."""
    return officer_id.casefold().startswith(SYSTEM_PREFIX)


def _person(session: Session, officer_id: str, role: str) -> bool:
    if is_system(officer_id):
        raise SystemSignOff(
            f"{officer_id!r} is one of the system's sign-offs: people sign off replies, the system only "
            "a clean reply under the straight-through policy"
        )
    user = active_user(session, officer_id)
    return user is not None and user.has(role)


def person(session: Session, officer_id: str) -> Officer:
    """The officer as the bank's user records name them: their name and title (职务), never only
    the user name they sign in with."""
    row = session.scalar(select(UserRow).where(UserRow.name == officer_id, UserRow.revoked_at.is_(None)))
    if row is None or not row.display_name or not row.title:
        raise OfficerUnnamed(
            f"the bank's user records hold no name and title for {officer_id!r}: an admin records them "
            "(PUT /v1/bank/officers/{name}) before they sign off a reply"
        )
    return Officer(officer_id=officer_id, name=row.display_name, title=row.title)


def check_preparer(session: Session, officer_id: str) -> None:
    """A reply's preparer is an active user of this gateway with the preparer role."""
    if not _person(session, officer_id, PREPARER_ROLE):
        raise PreparerNotOfficer(
            f"the preparer {officer_id!r} is no active user of this gateway with the {PREPARER_ROLE!r} role"
        )


def check_reviewer(session: Session, officer_id: str) -> None:
    """A reply's reviewer is an active user of this gateway with the reviewer role."""
    if not _person(session, officer_id, REVIEWER_ROLE):
        raise ReviewerNotOfficer(
            f"the reviewer {officer_id!r} is no active user of this gateway with the {REVIEWER_ROLE!r} role"
        )


_DRAFTED_HERE = "bank_adapter.approval.drafted"
"""The memo (``transaction_memo``) of the drafts this transaction wrote and logged drafting, by
draft id: their preparer and content. A round approves the drafts it has just written without
reading their log entries back or opening their sealed content again."""


def _drafted_here(session: Session) -> dict[int, tuple[str, Draft]]:
    return transaction_memo(session, _DRAFTED_HERE, dict[int, tuple[str, Draft]])


def prepared(session: Session, row: DraftRow) -> bool:
    """Whether the decision log records the draft's preparer drafting it."""
    logged = _drafted_here(session).get(row.id)
    if logged is not None and logged[0] == row.preparer_id:
        return True
    found = session.scalar(
        select(DecisionRow.id)
        .where(
            DecisionRow.draft_id == row.id,
            DecisionRow.action == Action.DRAFTED.value,
            DecisionRow.actor_id == row.preparer_id,
        )
        .limit(1)
    )
    return found is not None


def check_sign_offs(session: Session, row: DraftRow, reviewer: Officer, *, automated: bool) -> None:
    """Refuses the sign-offs of a reply made from ``row`` unless they are two active users, its
    preparer (who drafted it, as the decision log records) and another, its reviewer; or, when
    ``automated`` (the straight-through policy lets the draft through), the system drafter and the
    straight-through reviewer. The caller has checked the reviewer is not the preparer."""
    if is_system(row.preparer_id) or is_system(reviewer.officer_id):
        control = (SYSTEM_DRAFTER.officer_id, STRAIGHT_THROUGH.officer_id)
        if not automated or (row.preparer_id, reviewer.officer_id) != control:
            raise SystemSignOff(
                f"draft {row.version} of letter {row.letter_id} is prepared by {row.preparer_id} and "
                f"would be reviewed by {reviewer.officer_id}: the system signs off only a clean reply "
                "under the straight-through policy; otherwise a preparer drafts the reply as their own "
                "and another officer reviews it"
            )
    else:
        check_preparer(session, row.preparer_id)
        check_reviewer(session, reviewer.officer_id)
    if not prepared(session, row):
        raise PreparerDidNotAct(
            f"the decision log has no draft {row.version} of letter {row.letter_id} by {row.preparer_id}"
        )


# --- the decision log -------------------------------------------------------------------------

_NOTE_KIND = "decision-note"
_DECISIONS = cast(Table, DecisionRow.__table__)


@dataclass(frozen=True)
class Decision:
    """An entry for the decision log (``log_decisions``)."""

    letter_id: str
    action: Action
    actor: Officer
    draft_id: int | None = None
    reason: int | None = None
    note: str | None = None


def log_decision(
    session: Session,
    vault: Vault,
    *,
    letter_id: str,
    action: Action,
    actor: Officer,
    draft_id: int | None = None,
    reason: int | None = None,
    note: str | None = None,
) -> None:
    """Writes an entry to the log (``log_decisions`` of one)."""
    log_decisions(session, vault, [Decision(letter_id, action, actor, draft_id, reason, note)])


def log_decisions(session: Session, vault: Vault, entries: Sequence[Decision]) -> None:
    """Writes the entries to the log now, in the order given, in one statement: a round's entries
    together rather than an ORM object each, flushed with the rest."""
    if not entries:
        return
    session.execute(
        _DECISIONS.insert(),
        [
            {
                "letter_id": entry.letter_id,
                "draft_id": entry.draft_id,
                "action": entry.action.value,
                "actor_id": entry.actor.officer_id,
                "actor_name": entry.actor.name,
                "reason": entry.reason,
                "note_sealed": None
                if entry.note is None
                else vault.seal(entry.letter_id, _NOTE_KIND, StoredDocument(entry.note.encode(), b"")),
                "at": utcnow(),
            }
            for entry in entries
        ],
    )


def decision_note(vault: Vault, row: DecisionRow) -> str | None:
    if row.note_sealed is None:
        return None
    return vault.open(row.letter_id, _NOTE_KIND, row.note_sealed).canonical.decode()


def decisions(session: Session, letter_id: str | None = None, *, limit: int = 1000) -> list[DecisionRow]:
    query = select(DecisionRow).order_by(DecisionRow.id.desc()).limit(limit)
    if letter_id is not None:
        query = query.where(DecisionRow.letter_id == letter_id)
    return list(reversed(session.scalars(query).all()))


# --- drafts -----------------------------------------------------------------------------------


def _kind(version: int) -> str:
    return f"draft/{version}"


def open_content(vault: Vault, row: DraftRow) -> Draft:
    stored = vault.open(row.letter_id, _kind(row.version), row.content_sealed)
    return Draft.model_validate_json(stored.canonical)


def current_draft(session: Session, letter_id: str) -> DraftRow | None:
    """The letter's live draft: its newest version unless superseded."""
    row = session.scalars(
        select(DraftRow).where(DraftRow.letter_id == letter_id).order_by(DraftRow.version.desc()).limit(1)
    ).first()
    return None if row is None or row.status == DraftStatus.SUPERSEDED else row


def _decide(
    session: Session,
    vault: Vault,
    row: DraftRow,
    status: DraftStatus,
    actor: Officer,
    *,
    note: str | None = None,
    as_reviewer: bool = False,
    log: list[Decision] | None = None,
) -> None:
    """Moves the draft to ``status`` and logs who did it (as its reviewer, when they review); into
    ``log``, if given, for the caller to write with others (``log_decisions``)."""
    row.status = status
    row.decided_at = utcnow()
    if as_reviewer:
        row.reviewer_id, row.reviewer_name = actor.officer_id, actor.name
    action = {
        DraftStatus.SUPERSEDED: Action.SUPERSEDED,
        DraftStatus.APPROVED: Action.APPROVED,
        DraftStatus.RETURNED: Action.RETURNED,
    }[status]
    entry = Decision(row.letter_id, action, actor, draft_id=row.id, note=note)
    if log is None:
        log_decisions(session, vault, [entry])
    else:
        log.append(entry)


def supersede(session: Session, vault: Vault, row: DraftRow, *, actor: Officer, why: str) -> None:
    _decide(session, vault, row, DraftStatus.SUPERSEDED, actor, note=why)


def save_draft(
    session: Session,
    vault: Vault,
    *,
    letter_id: str,
    letter_hash: str,
    bank_member_no: int,
    content: Draft,
    preparer: Officer,
) -> DraftRow:
    """Stores a new version of the letter's draft, superseding the live one."""
    live = current_draft(session, letter_id)
    if live is not None:
        if live.status == DraftStatus.APPROVED:
            raise DraftNotPending(f"letter {letter_id} already has an approved reply")
        supersede(
            session, vault, live, actor=preparer, why=f"replaced by a new draft from {preparer.officer_id}"
        )
    version = (
        session.scalar(select(func.max(DraftRow.version)).where(DraftRow.letter_id == letter_id)) or 0
    ) + 1
    draft = NewDraft(letter_id, letter_hash, bank_member_no, content)
    return _add_drafts(session, vault, [draft], preparer, version)[0]


@dataclass(frozen=True)
class NewDraft:
    letter_id: str
    letter_hash: str
    bank_member_no: int
    content: Draft


def save_first_drafts(
    session: Session, vault: Vault, drafts: Sequence[NewDraft], preparer: Officer
) -> list[DraftRow]:
    """Stores the first draft of each letter (the caller has seen it has none): the drafts in one
    flush, then their log entries, so that a round's drafts are written together."""
    return _add_drafts(session, vault, drafts, preparer, 1)


def _add_drafts(
    session: Session, vault: Vault, drafts: Sequence[NewDraft], preparer: Officer, version: int
) -> list[DraftRow]:
    rows = [
        DraftRow(
            letter_id=draft.letter_id,
            version=version,
            status=DraftStatus.PENDING_REVIEW,
            letter_hash=draft.letter_hash,
            bank_member_no=draft.bank_member_no,
            content_sealed=vault.seal(
                draft.letter_id, _kind(version), StoredDocument(draft.content.model_dump_json().encode(), b"")
            ),
            exceptions=draft.content.exceptions,
            attention=len(draft.content.attention),
            preparer_id=preparer.officer_id,
            preparer_name=preparer.name,
            created_at=utcnow(),
        )
        for draft in drafts
    ]
    session.add_all(rows)
    session.flush()  # their ids, for the log
    log_decisions(
        session, vault, [Decision(row.letter_id, Action.DRAFTED, preparer, draft_id=row.id) for row in rows]
    )
    # Approving them in this transaction finds their drafting in the memo, without reading the
    # log back.
    _drafted_here(session).update(
        (row.id, (preparer.officer_id, draft.content)) for row, draft in zip(rows, drafts, strict=True)
    )
    return rows


def _review(row: DraftRow, reviewer: Officer) -> None:
    if row.status != DraftStatus.PENDING_REVIEW:
        raise DraftNotPending(
            f"draft {row.version} of letter {row.letter_id} is {row.status}, not awaiting review"
        )
    if reviewer.officer_id.casefold() == row.preparer_id.casefold():
        raise SameOfficer(
            f"{reviewer.officer_id} prepared draft {row.version}; another officer must review it"
        )


def reply_of(
    row: DraftRow,
    content: Draft,
    *,
    preparer: Officer,
    reviewer: Officer,
    replied_on: date,
    confirmation_no: str,
    control: AutomatedControl | None = None,
) -> ConfirmationReply:
    """The reply that approving the draft (its ``content``) makes, signed off by ``preparer`` and
    ``reviewer`` (or by ``control``, the automated control that approved it)."""
    return ConfirmationReply(
        letter_id=row.letter_id,
        confirmation_no=confirmation_no,
        letter_hash=row.letter_hash,
        bank_member_no=row.bank_member_no,
        replied_on=replied_on,
        conclusion=conclusion_of(content.items),
        no_relationship=content.no_relationship,
        items=content.items,
        preparer=preparer,
        reviewer=reviewer,
        automated_control=control,
        remarks=content.remarks,
    )


def signatories(
    session: Session, row: DraftRow, reviewer: Officer, control: AutomatedControl | None
) -> tuple[Officer, Officer]:
    """Who a reply made from ``row`` names as its preparer and reviewer: the system's sign-offs
    under an automated ``control``, otherwise the people as the user records name them."""
    if control is not None:
        return officer_of(row), reviewer
    return person(session, row.preparer_id), person(session, reviewer.officer_id)


def approve(
    session: Session,
    vault: Vault,
    row: DraftRow,
    reviewer: Officer,
    *,
    replied_on: date,
    policy: ApprovalPolicy = MANUAL,
    letter: ConfirmationLetter | None = None,
    log: list[Decision] | None = None,
) -> ConfirmationReply:
    """Approves the draft and returns the reply made from it (the caller submits it).

    The sign-offs are checked (``check_sign_offs``); the system's stand in only where ``policy``
    lets the draft of ``letter`` straight through. ``log``: where the approval's log entry goes for
    the caller to write with others of its round (``log_decisions``); else it is written at once.
    """
    _review(row, reviewer)
    # What this transaction sealed into the draft, if it wrote it; a draft is never changed after.
    logged = _drafted_here(session).get(row.id)
    content = open_content(vault, row) if logged is None else logged[1]
    automated = (
        (is_system(row.preparer_id) or is_system(reviewer.officer_id))
        and policy.control is not None
        and letter is not None
        and letter.letter_id == row.letter_id
        and policy.needs_review(letter, content, row.preparer_id) is None
    )
    check_sign_offs(session, row, reviewer, automated=automated)
    control = policy.control if automated else None
    preparer, named_reviewer = signatories(session, row, reviewer, control)
    made = reply_of(
        row,
        content,
        preparer=preparer,
        reviewer=named_reviewer,
        replied_on=replied_on,
        confirmation_no=row.letter_id if letter is None else quoted_number(letter),
        control=control,
    )
    _decide(session, vault, row, DraftStatus.APPROVED, reviewer, as_reviewer=True, log=log)
    return made


def return_draft(session: Session, vault: Vault, row: DraftRow, reviewer: Officer, *, note: str) -> None:
    """Sends the draft back to the preparers with the reviewer's note."""
    _review(row, reviewer)
    _decide(session, vault, row, DraftStatus.RETURNED, reviewer, note=note, as_reviewer=True)
