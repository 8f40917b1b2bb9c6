"""The consortium operator's changes to the member registry: admit, suspend, reinstate, revoke.

Each is queued as a chain step in the outbox (``services/outbox.py``); one the registry would
refuse is refused here, never queued. The operator's API (``api/routes/operator.py``) and its web
pages (``web/operator.py``) both call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web3 import Web3

from node_gateway.chain.contracts import MemberStatus, Role
from node_gateway.core.config import MemberRole
from node_gateway.errors import Conflict, InvalidRequest, NotFound
from node_gateway.node import Node
from node_gateway.peer.endpoints import check_endpoint
from node_gateway.protocol.hashing import from_hex, organisation_id, to_hex
from node_gateway.services.outbox import enqueue_step
from node_gateway.storage.models import OutboxTransaction

StatusChange = Literal["suspend", "reinstate", "revoke"]


@dataclass(frozen=True)
class Admission:
    """A member to admit, as the registry records it."""

    account: str
    role: MemberRole
    registration_code: str
    display_name: str
    endpoint: str = ""
    encryption_keys: str = "0x"  # the member's encryptionKeys blob (hex)


def admit(node: Node, session: Session, admission: Admission) -> str:
    """Queues the admission; returns what was queued."""
    if admission.role is MemberRole.OPERATOR:
        raise InvalidRequest(
            "no single operator admits an operator: propose it on chain (MemberRegistry."
            "proposeOperatorAdmission), have a quorum of the other operators approve it and execute it "
            "once the governance delay has passed (docs/SECURITY.md, Governance)"
        )
    if not Web3.is_address(admission.account):
        raise InvalidRequest(f"{admission.account} is not an account address")
    if admission.endpoint:  # resolved again at each delivery: a name may point elsewhere later
        check_endpoint(admission.endpoint, node.network_file.peer_endpoints, resolve=None)
    try:
        keys = from_hex(admission.encryption_keys)
    except ValueError as exc:
        raise InvalidRequest("encryption_keys is not hex") from exc
    account = Web3.to_checksum_address(admission.account)
    enqueue_step(
        session,
        key=f"admit:{account}",
        step="admit",
        payload={
            "account": account,
            "role": int(admission.role.chain_role),
            "org_id": to_hex(organisation_id(admission.registration_code)),
            "display_name": admission.display_name,
            "endpoint": admission.endpoint,
            "encryption_keys": to_hex(keys),
        },
    )
    return f"admit {account}"


# Which status each change starts from, and where it leads (as MemberRegistry's guards have it).
CHANGES: dict[StatusChange, tuple[frozenset[MemberStatus], MemberStatus]] = {
    "suspend": (frozenset({MemberStatus.ACTIVE}), MemberStatus.SUSPENDED),
    "reinstate": (frozenset({MemberStatus.SUSPENDED}), MemberStatus.ACTIVE),
    "revoke": (frozenset({MemberStatus.ACTIVE, MemberStatus.SUSPENDED}), MemberStatus.REVOKED),
}


def change_status(node: Node, session: Session, member_id: int, step: StatusChange) -> str:
    """Queues a change the chain will accept; returns what was queued."""
    if not 0 < member_id <= node.network.members.member_count():
        raise NotFound(f"no member {member_id}")
    allowed, after = CHANGES[step]
    # The queue first, then the chain: a step the outbox finishes between the two reads is on
    # chain by then (it is done only once mined), so neither read misses it.
    queued = status_after_queued(session, member_id)
    member = node.member(member_id, fresh=True)
    if member.role is Role.OPERATOR:
        raise InvalidRequest(
            f"no single operator can {step} an operator: propose it on chain (MemberRegistry."
            "proposeOperatorStatusChange) for a quorum of the other operators (docs/SECURITY.md, Governance)"
        )
    status = queued or member.status
    if status not in allowed:
        raise Conflict(f"member {member_id} is {status.name.lower()}: it cannot be {after.name.lower()}")
    enqueue_step(
        session,
        key=f"{step}:{member_id}:{_generation(session, member_id)}",
        step=step,
        payload={"member_id": member_id},
    )
    return f"{step} member {member_id}"


def status_after_queued(session: Session, member_id: int) -> MemberStatus | None:
    """The status a member will have once its queued changes are on chain; None if none is queued."""
    last = session.scalars(
        select(OutboxTransaction.step)
        .where(
            OutboxTransaction.step.in_(CHANGES),
            OutboxTransaction.state == "pending",
            OutboxTransaction.payload["member_id"].as_integer() == member_id,
        )
        .order_by(OutboxTransaction.id.desc())
        .limit(1)
    ).first()
    return None if last is None else CHANGES[last][1]  # type: ignore[index]


def _generation(session: Session, member_id: int) -> int:
    # A member may be suspended and reinstated many times; each change is its own outbox step.
    return (
        session.scalar(
            select(func.count()).where(
                OutboxTransaction.step.in_(CHANGES),
                OutboxTransaction.payload["member_id"].as_integer() == member_id,
            )
        )
        or 0
    )
