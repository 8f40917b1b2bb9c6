"""A small Python model of ConfirmationRegistry's rules: the lifecycle module's, with the errors.

The lifecycle (who acts, from which states, to which) is node_gateway.protocol.lifecycle's, the
one the gateway itself follows. For an action by an actor on a letter, the model names the
outcome: the next status, or the custom error and its arguments. Checks run in the contract's
order: the acting member (known, Active, right role) → the letter exists → it is the acting
member's letter → the state guard. The lifecycle table and the state machine test compare the
contracts against it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from node_gateway.chain.contracts import MemberStatus, status_bitmap
from node_gateway.chain.errors import (
    ConfirmationNotAddressedBank,
    ConfirmationNotRequestingFirm,
    ConfirmationUnexpectedStatus,
    ConfirmationUnknownLetter,
    ContractRevert,
    MemberRegistryMemberNotActive,
    MemberRegistryUnknownAccount,
    MemberRegistryUnknownMember,
    MemberRegistryWrongRole,
)
from node_gateway.chain.signers import signer_id
from node_gateway.chain.transactions import Call
from node_gateway.protocol.lifecycle import AWAITING, TRANSITIONS, Action, LetterStatus, Role

if TYPE_CHECKING:
    from conftest import Deployment, LetterRef


# The lifecycle's tables (node_gateway.protocol.lifecycle), in the shapes the tests use.
AWAITING_BANK = tuple(sorted(AWAITING))
ALLOWED: dict[Action, tuple[LetterStatus, ...]] = {
    action: tuple(sorted(t.allowed_from)) for action, t in TRANSITIONS.items()
}
NEXT: dict[Action, LetterStatus | None] = {action: t.leads_to for action, t in TRANSITIONS.items()}
ACTING_ROLE: dict[Action, Role | None] = {action: t.actor for action, t in TRANSITIONS.items()}
# The event each action emits; every one also carries letterId, firm and bank.
EVENT: dict[Action, str] = {action: t.event for action, t in TRANSITIONS.items()}


@dataclass(frozen=True)
class Actor:
    """Who sends the transaction, as the member registry sees it."""

    address: str
    member_id: int  # 0: no member
    role: Role
    status: MemberStatus = MemberStatus.ACTIVE


@dataclass(frozen=True)
class LetterFacts:
    """A letter as the contract stores it (firm and bank 0 when it does not exist)."""

    letter_id: bytes
    status: LetterStatus
    firm: int
    bank: int


@dataclass(frozen=True)
class Outcome:
    """Either ``error(*values)`` or success leading to ``status``."""

    status: LetterStatus | None = None
    error: type[ContractRevert] | None = None
    values: tuple[object, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        if self.error is None:
            return f"ok → {self.status.name if self.status is not None else '?'}"
        return f"{self.error.__name__}{self.values}"


def _fail(error: type[ContractRevert], *values: object) -> Outcome:
    return Outcome(error=error, values=values)


def _active_account(actor: Actor, role: Role) -> Outcome | None:
    """MemberRegistry.requireActiveAccount: known, then Active, then the role."""
    if actor.member_id == 0:
        return _fail(MemberRegistryUnknownAccount, actor.address.lower())
    if actor.status != MemberStatus.ACTIVE:
        return _fail(MemberRegistryMemberNotActive, actor.member_id, int(actor.status))
    if actor.role != role:
        return _fail(MemberRegistryWrongRole, actor.member_id, int(role), int(actor.role))
    return None


def _guard(letter: LetterFacts, action: Action) -> Outcome:
    allowed = ALLOWED[action]
    if letter.status not in allowed:
        return _fail(
            ConfirmationUnexpectedStatus, letter.letter_id, int(letter.status), status_bitmap(*allowed)
        )
    return Outcome(status=NEXT[action] or letter.status)


def expected_outcome(
    action: Action,
    actor: Actor,
    letter: LetterFacts,
    *,
    request_bank: Actor | None = None,
) -> Outcome:
    """What the contract does when ``actor`` takes ``action`` on ``letter``.

    For ``request``, ``request_bank`` is the bank the request addresses. For ``authorise`` and
    ``refuse`` the model assumes a signature by a mandated signer that covers the letter.
    """
    role = ACTING_ROLE[action]
    if action == Action.REQUEST:
        assert request_bank is not None
        failure = _active_account(actor, Role.AUDIT_FIRM)
        if failure is None and request_bank.member_id == 0:
            failure = _fail(MemberRegistryUnknownMember, 0)
        if failure is None and request_bank.status != MemberStatus.ACTIVE:
            failure = _fail(MemberRegistryMemberNotActive, request_bank.member_id, int(request_bank.status))
        if failure is None and request_bank.role != Role.BANK:
            failure = _fail(
                MemberRegistryWrongRole, request_bank.member_id, int(Role.BANK), int(request_bank.role)
            )
        return failure or _guard(letter, action)
    if role is not None:
        failure = _active_account(actor, role)
        if failure is not None:
            return failure
    if letter.status == LetterStatus.NONE:
        return _fail(ConfirmationUnknownLetter, letter.letter_id)
    if role == Role.BANK and letter.bank != actor.member_id:
        return _fail(ConfirmationNotAddressedBank, letter.letter_id, actor.address.lower())
    if role == Role.AUDIT_FIRM and letter.firm != actor.member_id:
        return _fail(ConfirmationNotRequestingFirm, letter.letter_id, actor.address.lower())
    return _guard(letter, action)


def action_call(deployment: Deployment, action: Action, letter: LetterRef) -> tuple[Call, dict[str, object]]:
    """The call that takes ``action`` on ``letter`` and the arguments its event should carry
    besides letterId, firm and bank. Authorisations and refusals are signed by the mandated signer.
    """
    c = deployment.confirmations
    lid = letter.letter_id
    if action == Action.REQUEST:
        extra: dict[str, object] = {
            "letterHash": letter.letter_hash,
            "dueAt": letter.due_at,
        }
        return deployment.request_call(letter), extra
    if action == Action.AUTHORISE:
        signed = deployment.sign_authorisation([letter])
        root = signed.message.requests_root
        return deployment.authorise_call(letter, signed), {
            "auditeeRef": letter.auditee_ref,
            "signerId": signer_id(deployment.signer.address),
            "requestsRoot": root,
        }
    if action == Action.REFUSE:
        signed = deployment.sign_refusal([letter], reason=3)
        return deployment.refuse_call(letter, signed), {
            "auditeeRef": letter.auditee_ref,
            "signerId": signer_id(deployment.signer.address),
            "reason": 3,
        }
    if action == Action.REJECT:
        return c.reject(lid, 11), {"reason": 11}
    if action == Action.REPLY:
        reply_hash = os.urandom(32)
        return c.reply(lid, reply_hash), {"replyHash": reply_hash}
    simple = {
        Action.ACCEPT: c.accept,
        Action.CLOSE: c.close,
        Action.WITHDRAW: c.withdraw,
        Action.FOLLOW_UP: c.follow_up,
    }
    return simple[action](lid), {}
