"""The consortium operator's user API: admit, suspend, reinstate and revoke members (the work is
``services/membership.py``'s, shared with the operator's web pages)."""

from __future__ import annotations

from fastapi import APIRouter, status

from node_gateway.api.deps import NodeDep, OperatorUser, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import Accepted, AdmitIn
from node_gateway.api.types import MemberId
from node_gateway.core.config import MemberRole
from node_gateway.services import membership
from node_gateway.services.membership import Admission

router = APIRouter(
    prefix="/v1/members",
    tags=["operator"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
)


@router.post("", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED, summary="Admit a member")
def admit(body: AdmitIn, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    admission = Admission(
        account=body.account,
        role=MemberRole(body.role),
        registration_code=body.registration_code,
        display_name=body.display_name,
        endpoint=body.endpoint,
        encryption_keys=body.encryption_keys,
    )
    return Accepted(letter_id="", queued=membership.admit(node, session, admission))


@router.post("/{member_id}/suspend", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def suspend(member_id: MemberId, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    return Accepted(letter_id="", queued=membership.change_status(node, session, member_id, "suspend"))


@router.post("/{member_id}/reinstate", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def reinstate(member_id: MemberId, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    return Accepted(letter_id="", queued=membership.change_status(node, session, member_id, "reinstate"))


@router.post("/{member_id}/revoke", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def revoke(member_id: MemberId, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    return Accepted(letter_id="", queued=membership.change_status(node, session, member_id, "revoke"))
