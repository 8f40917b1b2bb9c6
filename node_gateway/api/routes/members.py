"""The network's members as the registry holds them: the operator manages them, a firm's auditors
address letters to its banks (the registry is public on chain; this reads it for them)."""

from __future__ import annotations

from fastapi import APIRouter

from node_gateway.api.deps import MemberReader, NodeDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import MemberOut
from node_gateway.chain.contracts import Member
from node_gateway.protocol.hashing import to_hex

router = APIRouter(
    prefix="/v1/members",
    tags=["members"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 422, 502, 503),
)


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        member_id=member.member_id,
        role=member.role.name.lower(),
        status=member.status.name.lower(),
        account=member.account,
        org_id=to_hex(member.org_id),
        display_name=member.display_name,
        endpoint=member.endpoint,
    )


@router.get("", response_model=list[MemberOut], summary="All members, as the registry holds them now")
def list_members(node: NodeDep, _: MemberReader) -> list[MemberOut]:
    count = node.network.members.member_count()
    return [member_out(node.member(member_id, fresh=True)) for member_id in range(1, count + 1)]
