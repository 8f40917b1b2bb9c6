"""The network's members as the auditor's bulk upload checks them: read from the chain through a
node, so a sheet naming a member that is no active bank is refused before anything is sent."""

from __future__ import annotations

from web3 import Web3

from node_gateway.chain.contracts import MemberRegistry
from node_gateway.protocol.workbook import MemberInfo, MemberLookup


def registry_lookup(w3: Web3, member_registry: str) -> MemberLookup:
    """Members read from the network's MemberRegistry contract (at ``member_registry``) through a
    node; raises ChainError if the node does not answer."""
    registry = MemberRegistry(w3, member_registry)
    registry.member_count()  # a node that does not answer, or no registry there, fails here

    def lookup(number: int) -> MemberInfo | None:
        if not 1 <= number <= registry.member_count():
            return None
        member = registry.get_member(number)
        return MemberInfo(member.role.name.lower(), member.status.name.lower(), member.display_name)

    return lookup
