"""The chain steps a gateway records, each as an encoded call and a test of whether it is done.

Checking the chain before sending is what makes the outbox idempotent: a step that a crash left
half-done (sent but not marked), or that another relayer already recorded, counts as done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node_gateway.chain.contracts import Authorisation, LetterStatus, MemberStatus, Refusal
from node_gateway.chain.network import Network
from node_gateway.chain.transactions import Call
from node_gateway.protocol.hashing import from_hex
from node_gateway.protocol.lifecycle import only_after

# A letter in one of these has been authorised (accepted): the step is on chain.
_AFTER_AUTHORISED = only_after(LetterStatus.AUTHORISED)
_AFTER_ACCEPTED = only_after(LetterStatus.ACCEPTED)


@dataclass(frozen=True)
class StepKind:
    build: Callable[[Network, dict[str, Any]], Call]
    # None when the chain keeps no trace to check (a follow-up is an event only).
    is_done: Callable[[Network, dict[str, Any]], bool] | None
    # A step that answers or ends a letter under way: the outbox sends its letter first.
    finishes: bool = False


def _status(network: Network, payload: dict[str, Any]) -> LetterStatus:
    return network.confirmations.get_letter(from_hex(payload["letter_id"])).status


def _authorisation(payload: dict[str, Any]) -> Authorisation:
    auth = payload["authorisation"]
    return Authorisation(from_hex(auth["requests_root"]), auth["firm"], auth["valid_until"], auth["nonce"])


def _refusal(payload: dict[str, Any]) -> Refusal:
    refusal = payload["refusal"]
    return Refusal(
        from_hex(refusal["requests_root"]),
        refusal["firm"],
        refusal["reason"],
        refusal["valid_until"],
        refusal["nonce"],
    )


def _letter_call(method: str) -> Callable[[Network, dict[str, Any]], Call]:
    def build(network: Network, payload: dict[str, Any]) -> Call:
        function: Callable[[bytes], Call] = getattr(network.confirmations, method)
        return function(from_hex(payload["letter_id"]))

    return build


def _in_states(*states: LetterStatus) -> Callable[[Network, dict[str, Any]], bool]:
    return lambda network, payload: _status(network, payload) in states


def _member_status(status: MemberStatus) -> Callable[[Network, dict[str, Any]], bool]:
    return lambda network, payload: network.members.get_member(payload["member_id"]).status == status


STEPS: dict[str, StepKind] = {
    "request": StepKind(
        build=lambda n, p: n.confirmations.request(
            letter_id=from_hex(p["letter_id"]),
            bank=p["bank"],
            letter_hash=from_hex(p["letter_hash"]),
            due_at=p["due_at"],
        ),
        is_done=lambda n, p: (
            n.confirmations.get_letter(from_hex(p["letter_id"])).letter_hash == from_hex(p["letter_hash"])
        ),
    ),
    "authorise": StepKind(
        build=lambda n, p: n.confirmations.authorise(
            from_hex(p["letter_id"]),
            _authorisation(p),
            from_hex(p["auditee_ref"]),
            p["signer"],
            from_hex(p["signature"]),
            [from_hex(x) for x in p["proof"]],
        ),
        is_done=lambda n, p: _status(n, p) in _AFTER_AUTHORISED,
    ),
    "refuse": StepKind(
        build=lambda n, p: n.confirmations.refuse_authorisation(
            from_hex(p["letter_id"]),
            _refusal(p),
            from_hex(p["auditee_ref"]),
            p["signer"],
            from_hex(p["signature"]),
            [from_hex(x) for x in p["proof"]],
        ),
        is_done=_in_states(LetterStatus.REFUSED),
    ),
    "accept": StepKind(
        build=_letter_call("accept"), is_done=lambda n, p: _status(n, p) in _AFTER_ACCEPTED, finishes=True
    ),
    "reject": StepKind(
        build=lambda n, p: n.confirmations.reject(from_hex(p["letter_id"]), p["reason"]),
        is_done=_in_states(LetterStatus.REJECTED),
        finishes=True,
    ),
    "reply": StepKind(
        build=lambda n, p: n.confirmations.reply(from_hex(p["letter_id"]), from_hex(p["reply_hash"])),
        is_done=lambda n, p: (
            n.confirmations.get_letter(from_hex(p["letter_id"])).reply_hash == from_hex(p["reply_hash"])
        ),
        finishes=True,
    ),
    "close": StepKind(build=_letter_call("close"), is_done=_in_states(LetterStatus.CLOSED), finishes=True),
    "withdraw": StepKind(
        build=_letter_call("withdraw"), is_done=_in_states(LetterStatus.WITHDRAWN), finishes=True
    ),
    "follow_up": StepKind(build=_letter_call("follow_up"), is_done=None),
    "register_mandate": StepKind(
        build=lambda n, p: n.confirmations.register_mandate(
            from_hex(p["auditee_ref"]), p["signer"], p["valid_until"]
        ),
        is_done=lambda n, p: (
            n.confirmations.mandate_valid_until(p["bank"], from_hex(p["auditee_ref"]), p["signer"])
            == p["valid_until"]
        ),
    ),
    "revoke_mandate": StepKind(
        build=lambda n, p: n.confirmations.revoke_mandate(from_hex(p["auditee_ref"]), p["signer"]),
        is_done=lambda n, p: (
            n.confirmations.mandate_valid_until(p["bank"], from_hex(p["auditee_ref"]), p["signer"]) == 0
        ),
    ),
    "admit": StepKind(
        build=lambda n, p: n.members.admit(
            account=p["account"],
            role=p["role"],
            org_id=from_hex(p["org_id"]),
            display_name=p["display_name"],
            endpoint=p["endpoint"],
            encryption_keys=from_hex(p["encryption_keys"]),
        ),
        is_done=lambda n, p: n.members.member_id_of(p["account"]) != 0,
    ),
    "suspend": StepKind(
        build=lambda n, p: n.members.suspend(p["member_id"]), is_done=_member_status(MemberStatus.SUSPENDED)
    ),
    "reinstate": StepKind(
        build=lambda n, p: n.members.reinstate(p["member_id"]), is_done=_member_status(MemberStatus.ACTIVE)
    ),
    "revoke": StepKind(
        build=lambda n, p: n.members.revoke(p["member_id"]), is_done=_member_status(MemberStatus.REVOKED)
    ),
    "update_endpoint": StepKind(
        build=lambda n, p: n.members.update_endpoint(p["endpoint"], from_hex(p["encryption_keys"])),
        is_done=lambda n, p: (
            (member := n.members.get_member(p["member_id"])).endpoint == p["endpoint"]
            and member.encryption_keys == from_hex(p["encryption_keys"])
        ),
    ),
}
