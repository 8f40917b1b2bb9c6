"""The consortium operator's user API: admit, suspend, reinstate and revoke members."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web3 import Web3

from node_gateway.api.deps import NodeDep, OperatorUser, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import Accepted, AdmitIn
from node_gateway.api.types import MemberId
from node_gateway.chain.contracts import MemberStatus, Role
from node_gateway.core.config import MemberRole
from node_gateway.errors import Conflict, InvalidRequest, NotFound
from node_gateway.node import Node
from node_gateway.peer.endpoints import check_endpoint
from node_gateway.protocol.hashing import from_hex, organisation_id, to_hex
from node_gateway.services.outbox import enqueue_step
from node_gateway.storage.models import OutboxTransaction

router = APIRouter(
    prefix="/v1/members",
    tags=["operator"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
)


@router.post("", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED, summary="Admit a member")
def admit(body: AdmitIn, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    if MemberRole(body.role) is MemberRole.OPERATOR:
        raise InvalidRequest(
            "no single operator admits an operator: propose it on chain (MemberRegistry."
            "proposeOperatorAdmission), have a quorum of the other operators approve it and execute it "
            "once the governance delay has passed (docs/SECURITY.md, Governance)"
        )
    if not Web3.is_address(body.account):
        raise InvalidRequest(f"{body.account} is not an account address")
    if body.endpoint:  # resolved again at each delivery: a name may point elsewhere later
        check_endpoint(body.endpoint, node.network_file.peer_endpoints, resolve=None)
    try:
        keys = from_hex(body.encryption_keys)
    except ValueError as exc:
        raise InvalidRequest("encryption_keys is not hex") from exc
    account = Web3.to_checksum_address(body.account)
    enqueue_step(
        session,
        key=f"admit:{account}",
        step="admit",
        payload={
            "account": account,
            "role": int(MemberRole(body.role).chain_role),
            "org_id": to_hex(organisation_id(body.registration_code)),
            "display_name": body.display_name,
            "endpoint": body.endpoint,
            "encryption_keys": to_hex(keys),
        },
    )
    return Accepted(letter_id="", queued=f"admit {account}")


# Which status each change starts from, and where it leads (as MemberRegistry's guards have it).
_CHANGES: dict[str, tuple[frozenset[MemberStatus], MemberStatus]] = {
    "suspend": (frozenset({MemberStatus.ACTIVE}), MemberStatus.SUSPENDED),
    "reinstate": (frozenset({MemberStatus.SUSPENDED}), MemberStatus.ACTIVE),
    "revoke": (frozenset({MemberStatus.ACTIVE, MemberStatus.SUSPENDED}), MemberStatus.REVOKED),
}


def _status_change(
    node: Node, session: Session, member_id: int, step: Literal["suspend", "reinstate", "revoke"]
) -> Accepted:
    """Queues a change the chain will accept; one it would refuse is refused here, never queued."""
    if not 0 < member_id <= node.network.members.member_count():
        raise NotFound(f"no member {member_id}")
    allowed, after = _CHANGES[step]
    member = node.member(member_id, fresh=True)
    if member.role is Role.OPERATOR:
        raise InvalidRequest(
            f"no single operator can {step} an operator: propose it on chain (MemberRegistry."
            "proposeOperatorStatusChange) for a quorum of the other operators (docs/SECURITY.md, Governance)"
        )
    status = _status_after_queued(session, member_id) or member.status
    if status not in allowed:
        raise Conflict(f"member {member_id} is {status.name.lower()}: it cannot be {after.name.lower()}")
    enqueue_step(
        session,
        key=f"{step}:{member_id}:{_generation(session, member_id)}",
        step=step,
        payload={"member_id": member_id},
    )
    return Accepted(letter_id="", queued=f"{step} member {member_id}")


def _status_after_queued(session: Session, member_id: int) -> MemberStatus | None:
    """The status a member will have once its queued changes are on chain; None if none is queued."""
    last = session.scalars(
        select(OutboxTransaction.step)
        .where(
            OutboxTransaction.step.in_(_CHANGES),
            OutboxTransaction.state == "pending",
            OutboxTransaction.payload["member_id"].as_integer() == member_id,
        )
        .order_by(OutboxTransaction.id.desc())
        .limit(1)
    ).first()
    return None if last is None else _CHANGES[last][1]


def _generation(session: SessionDep, member_id: int) -> int:
    # A member may be suspended and reinstated many times; each change is its own outbox step.
    return (
        session.scalar(
            select(func.count()).where(
                OutboxTransaction.step.in_(_CHANGES),
                OutboxTransaction.payload["member_id"].as_integer() == member_id,
            )
        )
        or 0
    )


@router.post("/{member_id}/suspend", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def suspend(member_id: MemberId, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    return _status_change(node, session, member_id, "suspend")


@router.post("/{member_id}/reinstate", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def reinstate(member_id: MemberId, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    return _status_change(node, session, member_id, "reinstate")


@router.post("/{member_id}/revoke", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def revoke(member_id: MemberId, node: NodeDep, session: SessionDep, _: OperatorUser) -> Accepted:
    return _status_change(node, session, member_id, "revoke")
