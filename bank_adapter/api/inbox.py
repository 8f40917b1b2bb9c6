"""The bank's letters as chain steps: the inbox, accept or reject, and the reviewer's reply."""

from __future__ import annotations

import time

from fastapi import APIRouter, status

from bank_adapter.api.deps import BankOfficer, Reviewer, officer
from bank_adapter.workflow import approve_posted_reply, reject_letter
from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import Accepted, LetterSummary, RejectIn, ReplyIn
from node_gateway.api.types import LetterId
from node_gateway.errors import Forbidden, InvalidRequest, NotFound
from node_gateway.protocol.documents import REJECTION_TITLES, RejectionReason
from node_gateway.services.facade import LetterRecord, Letters

router = APIRouter(
    prefix="/v1",
    tags=["bank"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
)


def summary(record: LetterRecord, now: int) -> LetterSummary:
    return LetterSummary(
        letter_id=record.letter_id,
        firm=record.firm,
        bank=record.bank,
        status=record.status,
        overdue=record.overdue(now),
        due_at=record.due_at,
        letter_hash=record.letter_hash,
        reply_hash=record.reply_hash,
        has_letter=record.has_letter,
        has_reply=record.has_reply,
        reply_verified=record.reply_verified,
        reason=record.reason,
        created_at=record.created_at,
    )


@router.get(
    "/inbox",
    response_model=list[LetterSummary],
    summary="Received letters awaiting acceptance or a reply, the earliest due first",
)
def inbox(node: NodeDep, session: SessionDep, _: BankOfficer) -> list[LetterSummary]:
    now = int(time.time())
    return [summary(record, now) for record in Letters(node).received(session, open_only=True)]


@router.post("/letters/{letter_id}/accept", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def accept(letter_id: LetterId, node: NodeDep, session: SessionDep, _: BankOfficer) -> Accepted:
    Letters(node).accept(session, letter_id)
    return Accepted(letter_id=letter_id, queued="accept")


@router.post("/letters/{letter_id}/reject", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def reject(
    letter_id: LetterId, body: RejectIn, node: NodeDep, session: SessionDep, user: BankOfficer
) -> Accepted:
    """Rejects the letter as not compliant, as ``/v1/bank/letters/{id}/reject`` does with a note:
    the check, the decision and the firm's notice (the reason in words) are recorded alike."""
    if body.reason not in RejectionReason._value2member_map_:
        raise InvalidRequest(f"unknown rejection reason {body.reason}")
    reason = RejectionReason(body.reason)
    row = Letters(node).get(session, letter_id.lower(), for_update=True)
    if row.bank != node.member_id():
        raise NotFound(f"this bank has received no letter {letter_id}")
    reject_letter(node, session, row, reason, by=officer(user, session), detail=REJECTION_TITLES[reason])
    return Accepted(letter_id=letter_id, queued="reject")


@router.post(
    "/letters/{letter_id}/reply",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Approve, as its reviewer, the reply a preparer drafted; it is delivered once its hash is on chain",
)
def reply(letter_id: LetterId, body: ReplyIn, node: NodeDep, session: SessionDep, user: Reviewer) -> Accepted:
    if body.reply.letter_id != letter_id.lower():
        raise InvalidRequest("the reply answers another letter than the one in the path")
    # Maker–checker: the caller is the checker, and the reply must name them as its reviewer. Its
    # preparer is another user who drafted exactly this reply (POST /v1/bank/letters/{id}/draft);
    # the reply is that draft approved, through the bank adapter's one approval path.
    if body.reply.reviewer.officer_id != user.name:
        raise Forbidden(f"user {user.name!r} may only record a reply that names them as its reviewer")
    approve_posted_reply(node, session, body.reply)
    return Accepted(letter_id=letter_id.lower(), queued="reply")
