"""The bank officers' API for the reply workflow: letters and their stage, drafts, approval,
return, rejection, deadlines and the decision log (the roles: ``deps``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bank_adapter import approval
from bank_adapter.api.deps import AnyBankUser, BankOfficer, Preparer, Reviewer, officer
from bank_adapter.approval import DraftStatus, current_draft, decision_note, open_content, return_draft
from bank_adapter.deadlines import NEAR_DUE_WORKING_DAYS, Deadlines, Urgency, official, today, urgency
from bank_adapter.drafting import Draft
from bank_adapter.errors import DraftChanged, DraftInconsistent, DraftNotPending
from bank_adapter.models import ComplianceCheckRow, DecisionRow, DraftRow
from bank_adapter.workflow import (
    PASSED,
    RoundReads,
    approved_reply,
    core_for,
    draft_from_core,
    draftable_letter,
    reject_letter,
    store_draft,
)
from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.types import LetterId, Version
from node_gateway.chain.contracts import LetterStatus
from node_gateway.errors import NotFound
from node_gateway.node import Node
from node_gateway.protocol.documents import (
    ConfirmationLetter,
    DifferenceReason,
    ItemReply,
    ItemStatus,
    Note,
    Officer,
    RejectionReason,
    ReplyItems,
)
from node_gateway.protocol.lifecycle import only_after
from node_gateway.protocol.wire import FollowUpOut
from node_gateway.services.facade import LetterRecord, Letters
from node_gateway.services.notices import firm_words

router = APIRouter(
    prefix="/v1/bank",
    tags=["bank workflow"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
)

# --- models ---------------------------------------------------------------------------------------


class Stage(StrEnum):
    AWAITING_CHECK = "awaiting_check"
    REJECTED = "rejected"
    AWAITING_DRAFT = "awaiting_draft"
    AWAITING_REVIEW = "awaiting_review"
    RETURNED = "returned"
    REPLIED = "replied"
    ENDED = "ended"  # withdrawn, or otherwise no longer the bank's to answer


_OPEN_STAGES = {Stage.AWAITING_CHECK, Stage.AWAITING_DRAFT, Stage.AWAITING_REVIEW, Stage.RETURNED}


class DraftSummary(BaseModel):
    version: int
    status: DraftStatus
    exceptions: int
    attention: int
    preparer: Officer
    reviewer: Officer | None
    created_at: datetime
    decided_at: datetime | None


class CaseSummary(BaseModel):
    letter_id: str
    firm: int
    status: str
    stage: Stage
    received_on: date
    compliance_due: date
    reply_due: date
    due: date | None = Field(description="The deadline that matters at this stage, if any")
    urgency: Urgency | None
    draft: DraftSummary | None


class ComplianceOut(BaseModel):
    outcome: str
    reason: RejectionReason | None
    detail: str
    decided_by: str
    checked_at: datetime


class DraftDetail(DraftSummary):
    items: ReplyItems
    attention_points: tuple[str, ...]
    remarks: str | None
    no_relationship: bool = Field(description="The bank holds no relationship with the auditee")


class DecisionOut(BaseModel):
    id: int
    letter_id: str
    draft_version: int | None
    action: approval.Action
    actor_id: str
    actor_name: str
    reason: int | None
    note: str | None
    at: datetime


class CaseDetail(CaseSummary):
    letter: ConfirmationLetter
    compliance: ComplianceOut | None
    current_draft: DraftDetail | None
    drafts: list[DraftSummary]
    decisions: list[DecisionOut]
    follow_ups: list[FollowUpOut] = Field(description="The firm's follow-ups (催函), with its messages")
    withdrawal_reason: str | None = Field(description="The firm's reason for withdrawing the letter")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DraftIn(_In):
    """Without ``items``: draft again from the core. With them: the preparer's own answers."""

    items: ReplyItems | None = None
    remarks: Note | None = None


class ReviewIn(_In):
    draft_version: Version | None = Field(
        None, description="The version reviewed; refused if a newer one exists"
    )


class ReturnIn(ReviewIn):
    note: Note


class RejectLetterIn(_In):
    reason: RejectionReason
    note: Note | None = None


class ReviewOut(BaseModel):
    letter_id: str
    draft_version: int
    status: DraftStatus
    preparer: Officer
    reviewer: Officer


class Deadlined(BaseModel):
    letter_id: str
    stage: Stage
    due: date
    working_day_rule: str


class DeadlineLists(BaseModel):
    today: date
    official_calendar: bool = Field(description="False when the year's official calendar is not known yet")
    near_due_within_working_days: int
    overdue: list[Deadlined]
    near_due: list[Deadlined]


# --- views ----------------------------------------------------------------------------------------


def _draft_summary(row: DraftRow) -> DraftSummary:
    return DraftSummary(
        version=row.version,
        status=DraftStatus(row.status),
        exceptions=row.exceptions,
        attention=row.attention,
        preparer=approval.officer_of(row),
        reviewer=approval.officer_of(row, reviewer=True) if row.reviewer_id else None,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


_REPLIED = {status.name for status in only_after(LetterStatus.REPLIED)}  # replied, maybe closed since


def _stage(row: LetterRecord, check: ComplianceCheckRow | None, draft: DraftRow | None) -> Stage:
    if check is not None and check.outcome != PASSED:
        return Stage.REJECTED
    if row.has_reply or row.status in _REPLIED:
        return Stage.REPLIED
    if not row.takes_reply:
        return Stage.REJECTED if row.status == LetterStatus.REJECTED.name else Stage.ENDED
    if check is None and row.status == LetterStatus.AUTHORISED.name:
        return Stage.AWAITING_CHECK
    if draft is None:
        return Stage.AWAITING_DRAFT
    return {DraftStatus.PENDING_REVIEW: Stage.AWAITING_REVIEW, DraftStatus.RETURNED: Stage.RETURNED}.get(
        DraftStatus(draft.status), Stage.REPLIED
    )


def _summary(
    session: Session, row: LetterRecord, on: date, near_days: int = NEAR_DUE_WORKING_DAYS
) -> CaseSummary:
    check = session.get(ComplianceCheckRow, row.letter_id)
    draft = current_draft(session, row.letter_id)
    deadlines = Deadlines.for_receipt(row.arrived_at)
    stage = _stage(row, check, draft)
    due = (
        deadlines.compliance_due
        if stage is Stage.AWAITING_CHECK
        else deadlines.reply_due
        if stage in _OPEN_STAGES
        else None
    )
    return CaseSummary(
        letter_id=row.letter_id,
        firm=row.firm,
        status=row.status,
        stage=stage,
        received_on=deadlines.received_on,
        compliance_due=deadlines.compliance_due,
        reply_due=deadlines.reply_due,
        due=due,
        urgency=None if due is None else urgency(due, on, near_days=near_days),
        draft=None if draft is None else _draft_summary(draft),
    )


def _received(
    node: Node, session: Session, *, open_only: bool, limit: int | None = None
) -> Iterable[LetterRecord]:
    return Letters(node).received(session, open_only=open_only, limit=limit)


def _own_letter(node: Node, session: Session, letter_id: str) -> LetterRecord:
    row = Letters(node).get(session, letter_id.lower())
    if row.bank != node.member_id() or not row.has_letter:
        raise NotFound(f"this bank has received no letter {letter_id}")
    return row


def _compliance_out(check: ComplianceCheckRow) -> ComplianceOut:
    return ComplianceOut(
        outcome=check.outcome,
        reason=None if check.reason is None else RejectionReason(check.reason),
        detail=check.detail,
        decided_by=check.decided_by,
        checked_at=check.checked_at,
    )


def _decision_out(node: Node, session: Session, row: DecisionRow) -> DecisionOut:
    version = None
    if row.draft_id is not None:
        version = session.scalar(select(DraftRow.version).where(DraftRow.id == row.draft_id))
    return DecisionOut(
        id=row.id,
        letter_id=row.letter_id,
        draft_version=version,
        action=approval.Action(row.action),
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        reason=row.reason,
        note=decision_note(node.vault, row),
        at=row.at,
    )


# --- routes ---------------------------------------------------------------------------------------


@router.get(
    "/letters", response_model=list[CaseSummary], summary="Received letters with their stage and deadlines"
)
def list_cases(
    node: NodeDep,
    session: SessionDep,
    _: AnyBankUser,
    stage: Annotated[list[Stage] | None, Query(description="Only these stages")] = None,
    open_only: Annotated[bool, Query(alias="open", description="Only letters still to answer")] = True,
    limit: Annotated[
        int, Query(ge=1, le=10_000, description="At most this many letters, earliest due first")
    ] = 1000,
) -> list[CaseSummary]:
    on = today()
    cases = [_summary(session, row, on) for row in _received(node, session, open_only=open_only, limit=limit)]
    return [c for c in cases if not stage or c.stage in stage]


@router.get("/drafts", response_model=list[CaseSummary], summary="Letters whose draft awaits a reviewer")
def list_drafts(node: NodeDep, session: SessionDep, user: AnyBankUser) -> list[CaseSummary]:
    return list_cases(node, session, user, stage=[Stage.AWAITING_REVIEW], open_only=True, limit=10_000)


@router.get(
    "/letters/{letter_id}", response_model=CaseDetail, summary="A letter, its check, drafts and decisions"
)
def show_case(letter_id: LetterId, node: NodeDep, session: SessionDep, _: AnyBankUser) -> CaseDetail:
    row = _own_letter(node, session, letter_id)
    summary = _summary(session, row, today())
    check = session.get(ComplianceCheckRow, row.letter_id)
    drafts = session.scalars(
        select(DraftRow).where(DraftRow.letter_id == row.letter_id).order_by(DraftRow.version)
    )
    live = current_draft(session, row.letter_id)
    detail = None
    if live is not None:
        content = open_content(node.vault, live)
        detail = DraftDetail(
            **_draft_summary(live).model_dump(),
            items=content.items,
            attention_points=content.attention,
            remarks=content.remarks,
            no_relationship=content.no_relationship,
        )
    words = firm_words(node, session, row.letter_id)
    return CaseDetail(
        **summary.model_dump(),
        letter=Letters(node).document(session, row.letter_id),
        compliance=None if check is None else _compliance_out(check),
        current_draft=detail,
        drafts=[_draft_summary(d) for d in drafts],
        decisions=[_decision_out(node, session, d) for d in approval.decisions(session, row.letter_id)],
        follow_ups=[FollowUpOut(**vars(f)) for f in words.follow_ups],
        withdrawal_reason=words.withdrawal_reason,
    )


def _check_manual_draft(letter: ConfirmationLetter, items: ReplyItems) -> None:
    """A preparer's answers must fit the letter: the items of its format (a 验资 letter's
    contributions, or the standard items), every entry the letter lists answered, nothing
    confirmed of an item the letter marks not applicable (the bank may only state what it holds
    there, as not_listed_by_auditor differences), differences that name entries that exist."""
    if items.capital != letter.items.capital:
        raise DraftInconsistent("the answers are to the items of another format than the letter's")
    problems = []
    for (key, item), (_, answer) in zip(letter.items.by_key(), items.by_key(), strict=True):
        for difference in answer.differences:
            if difference.entry is not None and difference.entry >= len(item.entries):
                problems.append(
                    f"{key.value}: a difference names entry {difference.entry}, the letter has {len(item.entries)}"
                )
            if difference.reason is DifferenceReason.NOT_LISTED_BY_AUDITOR and not answer.entries:
                problems.append(f"{key.value}: a not_listed_by_auditor difference without the bank's entries")
        if item.entries and answer.status is ItemStatus.NOT_APPLICABLE:
            problems.append(f"{key.value}: the auditor listed entries; answer them, not 'not applicable'")
        if item.not_applicable and not _only_what_the_bank_holds(answer):
            problems.append(
                f"{key.value}: the letter marks the item not applicable and asks nothing of it; answer "
                "'not applicable', or state what the bank holds as not_listed_by_auditor differences"
            )
    if problems:
        raise DraftInconsistent("; ".join(problems))


def _only_what_the_bank_holds(answer: ItemReply[Any]) -> bool:
    """Whether the answer to an item the letter does not ask is none, or only the bank's own entries
    the auditor did not list (an auditor who marked deposits not applicable learns of an account)."""
    if answer.status is ItemStatus.NOT_APPLICABLE:
        return True
    return answer.status is ItemStatus.EXCEPTION and all(
        d.reason is DifferenceReason.NOT_LISTED_BY_AUDITOR for d in answer.differences
    )


@router.post(
    "/letters/{letter_id}/draft",
    response_model=DraftSummary,
    status_code=status.HTTP_201_CREATED,
    summary="Draft the reply: again from the core, or with the preparer's own answers",
)
def draft(
    letter_id: LetterId, body: DraftIn, node: NodeDep, session: SessionDep, user: Preparer
) -> DraftSummary:
    preparer = officer(user, session)
    row = draftable_letter(node, session, letter_id.lower())
    if body.items is None:
        content = draft_from_core(
            node, session, row, core_for(node.settings.core_banking_url), RoundReads(node)
        )
        if body.remarks is not None:
            content = content.model_copy(update={"remarks": body.remarks})
    else:
        _check_manual_draft(Letters(node).document(session, row.letter_id), body.items)
        content = Draft(items=body.items, remarks=body.remarks)
    return _draft_summary(store_draft(node, session, row, content, preparer))


def _live_draft(node: Node, session: Session, letter_id: str, version: int | None) -> DraftRow:
    """The letter's live draft, if it is the version the reviewer saw."""
    row = draftable_letter(node, session, letter_id.lower())
    live = current_draft(session, row.letter_id)
    if live is None:
        raise DraftNotPending(f"letter {row.letter_id} has no draft")
    if version is not None and version != live.version:
        raise DraftChanged(f"draft {version} of letter {row.letter_id} was replaced by draft {live.version}")
    return live


def _reviewed(row: DraftRow) -> ReviewOut:
    return ReviewOut(
        letter_id=row.letter_id,
        draft_version=row.version,
        status=DraftStatus(row.status),
        preparer=approval.officer_of(row),
        reviewer=approval.officer_of(row, reviewer=True),
    )


@router.post(
    "/letters/{letter_id}/approve",
    response_model=ReviewOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Approve the draft; the reply is recorded on chain and delivered",
)
def approve(
    letter_id: LetterId, body: ReviewIn, node: NodeDep, session: SessionDep, user: Reviewer
) -> ReviewOut:
    live = _live_draft(node, session, letter_id, body.draft_version)
    Letters(node).submit_reply(session, approved_reply(node, session, live, officer(user, session)))
    return _reviewed(live)


@router.post("/letters/{letter_id}/return", response_model=ReviewOut, summary="Return the draft with a note")
def return_(
    letter_id: LetterId, body: ReturnIn, node: NodeDep, session: SessionDep, user: Reviewer
) -> ReviewOut:
    live = _live_draft(node, session, letter_id, body.draft_version)
    return_draft(session, node.vault, live, officer(user, session), note=body.note)
    return _reviewed(live)


@router.post(
    "/letters/{letter_id}/reject",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ComplianceOut,
    summary="Reject the letter as not compliant, with its reason code",
)
def reject(
    letter_id: LetterId, body: RejectLetterIn, node: NodeDep, session: SessionDep, user: BankOfficer
) -> ComplianceOut:
    by = officer(user, session)
    row = Letters(node).get(session, letter_id.lower(), for_update=True)
    if row.bank != node.member_id():
        raise NotFound(f"this bank has received no letter {letter_id}")
    reject_letter(node, session, row, body.reason, by=by, detail=body.note or f"rejected by {by.officer_id}")
    return _compliance_out(session.get_one(ComplianceCheckRow, row.letter_id))


@router.get(
    "/deadlines", response_model=DeadlineLists, summary="Overdue and near-due letters, in working days"
)
def deadlines(
    node: NodeDep,
    session: SessionDep,
    _: AnyBankUser,
    within: Annotated[
        int, Query(ge=0, le=30, description="Near due: due within this many working days")
    ] = NEAR_DUE_WORKING_DAYS,
    on: Annotated[date | None, Query(description="As of this day (default today, in China)")] = None,
) -> DeadlineLists:
    day = on or today()
    overdue, near = [], []
    for row in _received(node, session, open_only=True):
        case = _summary(session, row, day, within)
        if case.due is None or case.urgency is None:
            continue
        rule = (
            "3 working days to reject" if case.stage is Stage.AWAITING_CHECK else "10 working days to reply"
        )
        item = Deadlined(letter_id=case.letter_id, stage=case.stage, due=case.due, working_day_rule=rule)
        if case.urgency is Urgency.OVERDUE:
            overdue.append(item)
        elif case.urgency is Urgency.NEAR_DUE:
            near.append(item)
    key = lambda d: (d.due, d.letter_id)  # noqa: E731
    return DeadlineLists(
        today=day,
        official_calendar=official(day),
        near_due_within_working_days=within,
        overdue=sorted(overdue, key=key),
        near_due=sorted(near, key=key),
    )


@router.get("/decisions", response_model=list[DecisionOut], summary="The decision log, oldest first")
def decision_log(
    node: NodeDep,
    session: SessionDep,
    _: AnyBankUser,
    letter_id: LetterId | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[DecisionOut]:
    rows = approval.decisions(session, letter_id, limit=limit)
    return [_decision_out(node, session, row) for row in rows]
