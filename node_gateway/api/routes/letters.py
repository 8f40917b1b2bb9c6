"""Letters as both parties see them: a list with filters, one letter with its chain history, and
the letter and its reply as PDFs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import ColumnElement, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from node_gateway.api.deps import LetterReader, NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import (
    ChainStep,
    FollowUpOut,
    LetterDetail,
    LetterPage,
    LetterSummary,
    OutboxStep,
)
from node_gateway.api.types import LetterId, MemberId, Offset, UnixTime
from node_gateway.errors import NotFound
from node_gateway.node import Node
from node_gateway.services.letters import AWAITING_BANK, letter_row, stored_letter
from node_gateway.services.notices import firm_words, refusal_words
from node_gateway.services.printouts import Printout, letter_printout, reply_printout
from node_gateway.storage.models import ChainEventRow, LetterRow, OutboxTransaction, UtcDateTime

router = APIRouter(
    prefix="/v1/letters",
    tags=["letters"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 422, 503),
)


# What a summary shows of a letter as stored; of its documents only whether they are here, so that
# a list reads neither of them.
_SUMMARY_FIELDS = (
    "letter_id",
    "confirmation_no",
    "firm",
    "bank",
    "status",
    "due_at",
    "letter_hash",
    "reply_hash",
    "reply_verified",
    "reason",
    "created_at",
    "prepared_by",
    "reviewed_by",
    "accepted_by",
    "returned",
)
_SUMMARY_COLUMNS = (
    *(getattr(LetterRow, name) for name in _SUMMARY_FIELDS),
    LetterRow.letter_sealed.is_not(None).label("has_letter"),
    LetterRow.reply_sealed.is_not(None).label("has_reply"),
)


def summary(row: LetterRow, now: int) -> LetterSummary:
    return _summary(
        {name: getattr(row, name) for name in _SUMMARY_FIELDS}
        | {"has_letter": row.letter_sealed is not None, "has_reply": row.reply_sealed is not None},
        now,
    )


def _summary(values: Mapping[Any, Any], now: int) -> LetterSummary:
    """The summary of a letter from its ``_SUMMARY_COLUMNS``."""
    return LetterSummary(**values, overdue=values["status"] in AWAITING_BANK and now > values["due_at"])


def _mine(node: Node) -> ColumnElement[bool]:
    me = node.member_id()
    return or_(LetterRow.firm == me, LetterRow.bank == me)


@router.get("", response_model=LetterPage, summary="List this member's letters")
def list_letters(
    node: NodeDep,
    session: SessionDep,
    _: LetterReader,
    status: Annotated[
        list[str] | None, Query(max_length=16, description="Only these statuses (e.g. REPLIED)")
    ] = None,
    overdue: bool | None = None,
    due_before: UnixTime | None = None,
    due_after: UnixTime | None = None,
    counterparty: MemberId | None = None,
    reply_verified: Annotated[
        bool | None, Query(description="Only letters whose reply this gateway has verified (or not)")
    ] = None,
    after: Annotated[
        LetterId | None,
        Query(
            description="Only letters after this one in the list's order (oldest first): the next "
            "page after a page that ended with it. Unlike offset, no letter is skipped when letters "
            "leave the filter between two pages. 404 not_found if this member holds no such letter."
        ),
    ] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> LetterPage:
    now = int(time.time())
    query = select(*_SUMMARY_COLUMNS).where(_mine(node))
    if status:
        query = query.where(LetterRow.status.in_([s.upper() for s in status]))
    if overdue is not None:
        late = LetterRow.status.in_(AWAITING_BANK) & (LetterRow.due_at < now)
        query = query.where(late if overdue else ~late)
    if due_before is not None:
        query = query.where(LetterRow.due_at < due_before)
    if due_after is not None:
        query = query.where(LetterRow.due_at >= due_after)
    if counterparty is not None:
        query = query.where(or_(LetterRow.firm == counterparty, LetterRow.bank == counterparty))
    if reply_verified is not None:
        query = query.where(LetterRow.reply_verified.is_(reply_verified))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if after is not None:
        query = query.where(_after(node, session, after))
    rows = session.execute(query.order_by(*_LIST_ORDER).offset(offset).limit(limit)).mappings()
    return LetterPage(items=[_summary(row, now) for row in rows], total=total, offset=offset, limit=limit)


_LIST_ORDER = (LetterRow.created_at, LetterRow.letter_id)


def _after(node: Node, session: Session, letter_id: str) -> ColumnElement[bool]:
    """The letters after ``letter_id`` in the list's order."""
    created_at = session.scalar(
        select(LetterRow.created_at).where(LetterRow.letter_id == letter_id.lower(), _mine(node))
    )
    if created_at is None:
        raise NotFound(f"no letter {letter_id} here")
    return tuple_(*_LIST_ORDER) > tuple_(literal(created_at, UtcDateTime()), literal(letter_id.lower()))


def letter_detail(node: Node, session: Session, letter_id: str) -> LetterDetail:
    row = letter_row(session, letter_id)
    me = node.member_id()
    if me not in (row.firm, row.bank):
        raise NotFound(f"no letter {letter_id} here")
    events = session.scalars(
        select(ChainEventRow)
        .where(ChainEventRow.letter_id == row.letter_id)
        .order_by(ChainEventRow.block_number, ChainEventRow.log_index)
    )
    steps = session.scalars(
        select(OutboxTransaction)
        .where(OutboxTransaction.letter_id == row.letter_id)
        .order_by(OutboxTransaction.id)
    )
    base = summary(row, int(time.time()))
    words = firm_words(node, session, row.letter_id)
    return LetterDetail(
        **base.model_dump(),
        auditee_ref=row.auditee_ref,
        letter=stored_letter(node, row) if row.letter_sealed is not None else None,
        authorisation=row.authorisation,
        refusal_text=refusal_words(node, session, row.letter_id),
        follow_ups=[FollowUpOut(**vars(f)) for f in words.follow_ups],
        withdrawal_reason=words.withdrawal_reason,
        withdrawal_delivery=words.withdrawal_delivery,
        history=[
            ChainStep(
                name=e.name,
                block_number=e.block_number,
                block_timestamp=e.block_timestamp,
                transaction_hash=e.transaction_hash,
                args=e.args,
            )
            for e in events
        ],
        pending_steps=[
            OutboxStep(
                step=s.step,
                state=s.state,
                attempts=s.attempts,
                transaction_hash=s.transaction_hash,
                error_code=s.error_code,
                error_message=s.error_message,
            )
            for s in steps
        ],
    )


@router.get("/{letter_id}", response_model=LetterDetail, summary="One letter, its document and chain history")
def show_letter(letter_id: LetterId, node: NodeDep, session: SessionDep, _: LetterReader) -> LetterDetail:
    return letter_detail(node, session, letter_id)


_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "The PDF"}}


def _pdf(printout: Printout) -> Response:
    return Response(
        printout.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{printout.filename}"'},
    )


@router.get(
    "/{letter_id}/letter.pdf",
    response_class=Response,
    responses=_PDF,
    summary="The letter (询证函) as a PDF, with the QR code of its chain record",
)
def letter_pdf(letter_id: LetterId, node: NodeDep, session: SessionDep, _: LetterReader) -> Response:
    return _pdf(letter_printout(node, session, letter_id))


@router.get(
    "/{letter_id}/reply.pdf",
    response_class=Response,
    responses=_PDF,
    summary="The reply (回函) as a PDF, the firm's checked against the chain first",
)
def reply_pdf(letter_id: LetterId, node: NodeDep, session: SessionDep, _: LetterReader) -> Response:
    return _pdf(reply_printout(node, session, letter_id))
