"""The bank's user API: the inbox, accept or reject, reply, and the mandates of its customers."""

from __future__ import annotations

import time

from fastapi import APIRouter, status
from sqlalchemy import select

from bank_adapter.workflow import approve_posted_reply
from node_gateway.api.deps import NodeDep, Officer, Reviewer, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import (
    Accepted,
    CustomerReference,
    LetterSummary,
    MandateIn,
    MandateOut,
    RejectIn,
    ReplyIn,
)
from node_gateway.api.routes.letters import summary
from node_gateway.api.types import Address, LetterId, RegistrationCode
from node_gateway.chain.contracts import LetterStatus
from node_gateway.errors import Forbidden, InvalidRequest
from node_gateway.services import letters
from node_gateway.storage.models import LetterRow, MandateRow

router = APIRouter(
    prefix="/v1",
    tags=["bank"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
)


@router.get(
    "/inbox",
    response_model=list[LetterSummary],
    summary="Received letters awaiting acceptance or a reply, the earliest due first",
)
def inbox(node: NodeDep, session: SessionDep, _: Officer) -> list[LetterSummary]:
    rows = session.scalars(
        select(LetterRow)
        .where(
            LetterRow.bank == node.member_id(),
            LetterRow.letter_sealed.is_not(None),
            LetterRow.reply_sealed.is_(None),
            LetterRow.status.in_([LetterStatus.AUTHORISED.name, LetterStatus.ACCEPTED.name]),
        )
        .order_by(LetterRow.due_at)
    )
    now = int(time.time())
    return [summary(row, now) for row in rows]


@router.post("/letters/{letter_id}/accept", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def accept(letter_id: LetterId, node: NodeDep, session: SessionDep, _: Officer) -> Accepted:
    letters.accept(node, session, letter_id)
    return Accepted(letter_id=letter_id, queued="accept")


@router.post("/letters/{letter_id}/reject", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def reject(letter_id: LetterId, body: RejectIn, node: NodeDep, session: SessionDep, _: Officer) -> Accepted:
    letters.reject(node, session, letter_id, body.reason)
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


@router.get(
    "/customers/{registration_code}/reference",
    response_model=CustomerReference,
    summary="The customer's auditee reference and its salt, to hand to the customer",
)
def customer_reference(registration_code: RegistrationCode, node: NodeDep, _: Officer) -> CustomerReference:
    salt, ref = letters.customer_reference(node, registration_code)
    return CustomerReference(registration_code=registration_code, salt="0x" + salt.hex(), auditee_ref=ref)


@router.post(
    "/mandates",
    response_model=MandateOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Let a signer authorise letters for a customer",
)
def register_mandate(body: MandateIn, node: NodeDep, session: SessionDep, _: Officer) -> MandateOut:
    ref = letters.register_mandate(node, session, body.registration_code, body.signer, body.valid_until)
    return MandateOut(auditee_ref=ref, signer=body.signer, valid_until=body.valid_until)


@router.delete(
    "/mandates/{registration_code}/{signer}", response_model=MandateOut, status_code=status.HTTP_202_ACCEPTED
)
def revoke_mandate(
    registration_code: RegistrationCode, signer: Address, node: NodeDep, session: SessionDep, _: Officer
) -> MandateOut:
    ref = letters.revoke_mandate(node, session, registration_code, signer)
    return MandateOut(auditee_ref=ref, signer=signer, revoked=True)


@router.get("/mandates", response_model=list[MandateOut])
def list_mandates(session: SessionDep, _: Officer) -> list[MandateOut]:
    rows = session.scalars(select(MandateRow).order_by(MandateRow.created_at))
    return [
        MandateOut(auditee_ref=r.auditee_ref, signer=r.signer, valid_until=r.valid_until, revoked=r.revoked)
        for r in rows
    ]
