"""A letter's lifecycle: the states, the actions between them, who takes each, and what follows.

ConfirmationRegistry enforces these rules on chain; this module is their one statement off chain,
for the gateway's checks before it sends a step, its indexer, the bank adapter and the offline
verifier. ``tests/contracts/test_lifecycle_module.py`` holds it against the contract: its enum,
each function's guard, the status it sets, the party it checks and the event it emits.

    NONE ─request─▶ REQUESTED ─authorise─▶ AUTHORISED ─accept─▶ ACCEPTED ─reply─▶ REPLIED ─close─▶ CLOSED
                        │                      │
                        │                      └─reject─▶ REJECTED
                        └─refuseAuthorisation─▶ REFUSED

    withdraw    REQUESTED, AUTHORISED or ACCEPTED ─▶ WITHDRAWN
    followUp    REQUESTED, AUTHORISED or ACCEPTED, unchanged (an event only)

Who acts: the requesting audit firm requests, closes, withdraws and follows up; the addressed bank
accepts, rejects and replies; anyone relays the auditee's signed authorisation or refusal (the
signature is what counts). Only Active members act (MemberRegistry). ``Overdue`` is derived,
never stored: a letter awaiting the auditee or the bank (:data:`AWAITING`) past its due time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import MappingProxyType


class LetterStatus(IntEnum):
    """The stored state of a letter (``IConfirmationRegistry.Status``, in its order)."""

    NONE = 0
    REQUESTED = 1
    AUTHORISED = 2
    ACCEPTED = 3
    REJECTED = 4
    REPLIED = 5
    CLOSED = 6
    WITHDRAWN = 7
    REFUSED = 8


class Role(IntEnum):
    """A member's role (``IMemberRegistry.Role``, in its order): who may take which step."""

    NONE = 0
    OPERATOR = 1
    AUDIT_FIRM = 2
    BANK = 3
    REGULATOR = 4


class Action(StrEnum):
    """A step on a letter; the value is the contract function that takes it."""

    REQUEST = "request"
    AUTHORISE = "authorise"
    REFUSE = "refuseAuthorisation"
    ACCEPT = "accept"
    REJECT = "reject"
    REPLY = "reply"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    FOLLOW_UP = "followUp"


# The letter's party that each acting role must be; the name is the event argument that holds it.
_PARTY = {Role.AUDIT_FIRM: "firm", Role.BANK: "bank"}


@dataclass(frozen=True)
class Transition:
    """One action: who takes it, from which states, where it leads, and the event it emits."""

    action: Action
    actor: Role | None  # the letter's own firm or bank; None: relayed, anyone sends the signature
    allowed_from: frozenset[LetterStatus]
    leads_to: LetterStatus | None  # None: the status does not change
    event: str

    @property
    def party(self) -> str | None:
        """The letter's party that must send it, as the event names it ("firm" or "bank")."""
        return None if self.actor is None else _PARTY[self.actor]

    def allows(self, status: LetterStatus) -> bool:
        return status in self.allowed_from

    def after(self, status: LetterStatus) -> LetterStatus:
        """The status a letter in ``status`` is in once the action is done."""
        return status if self.leads_to is None else self.leads_to


AWAITING: frozenset[LetterStatus] = frozenset(
    {LetterStatus.REQUESTED, LetterStatus.AUTHORISED, LetterStatus.ACCEPTED}
)
"""Awaiting the auditee or the bank: the due time runs (overdue after it), the firm may withdraw
the letter or follow it up (the contract's ``_AWAITING_BANK``)."""


_S = LetterStatus
TRANSITIONS: Mapping[Action, Transition] = MappingProxyType(
    {
        t.action: t
        for t in (
            Transition(
                Action.REQUEST, Role.AUDIT_FIRM, frozenset({_S.NONE}), _S.REQUESTED, "LetterRequested"
            ),
            Transition(Action.AUTHORISE, None, frozenset({_S.REQUESTED}), _S.AUTHORISED, "LetterAuthorised"),
            Transition(Action.REFUSE, None, frozenset({_S.REQUESTED}), _S.REFUSED, "AuthorisationRefused"),
            Transition(Action.ACCEPT, Role.BANK, frozenset({_S.AUTHORISED}), _S.ACCEPTED, "LetterAccepted"),
            Transition(Action.REJECT, Role.BANK, frozenset({_S.AUTHORISED}), _S.REJECTED, "LetterRejected"),
            Transition(Action.REPLY, Role.BANK, frozenset({_S.ACCEPTED}), _S.REPLIED, "LetterReplied"),
            Transition(Action.CLOSE, Role.AUDIT_FIRM, frozenset({_S.REPLIED}), _S.CLOSED, "LetterClosed"),
            Transition(Action.WITHDRAW, Role.AUDIT_FIRM, AWAITING, _S.WITHDRAWN, "LetterWithdrawn"),
            Transition(Action.FOLLOW_UP, Role.AUDIT_FIRM, AWAITING, None, "LetterFollowedUp"),
        )
    }
)
"""Every action on a letter, in the order of the lifecycle."""

BY_EVENT: Mapping[str, Transition] = MappingProxyType({t.event: t for t in TRANSITIONS.values()})
"""The transition each letter event records."""

STATUS_AFTER: Mapping[str, LetterStatus] = MappingProxyType(
    {t.event: t.leads_to for t in TRANSITIONS.values() if t.leads_to is not None}
)
"""The status a letter is in after each event that changes it (a follow-up changes nothing)."""

FINAL: frozenset[LetterStatus] = frozenset(
    set(LetterStatus) - {LetterStatus.NONE} - {s for t in TRANSITIONS.values() for s in t.allowed_from}
)
"""The states no action leaves: rejected, closed, withdrawn, refused."""


def open_to(role: Role) -> frozenset[LetterStatus]:
    """The states in which the letter's party of ``role`` can still take a step that changes it:
    for a bank, AUTHORISED and ACCEPTED."""
    return frozenset(
        status
        for t in TRANSITIONS.values()
        if t.actor == role and t.leads_to is not None
        for status in t.allowed_from
        if status != LetterStatus.NONE
    )


def only_after(status: LetterStatus) -> frozenset[LetterStatus]:
    """The states a letter can only be in once it has been in ``status`` (``status`` included):
    whatever path led there passed through it. A letter REPLIED or CLOSED has been ACCEPTED; a
    WITHDRAWN one may never have been, so WITHDRAWN is not among ACCEPTED's."""
    return frozenset(s for s in LetterStatus if s == status or s not in _reachable(avoiding=status))


def _reachable(*, avoiding: LetterStatus) -> set[LetterStatus]:
    """The states reachable from NONE without passing through ``avoiding``."""
    if avoiding == LetterStatus.NONE:
        return set()
    seen = {LetterStatus.NONE}
    frontier = [LetterStatus.NONE]
    while frontier:
        current = frontier.pop()
        for t in TRANSITIONS.values():
            following = t.after(current)
            if t.allows(current) and following != avoiding and following not in seen:
                seen.add(following)
                frontier.append(following)
    return seen


def is_overdue(status: LetterStatus, due_at: int, now: int) -> bool:
    """Overdue: awaiting the auditee or the bank past the due time (``isOverdue``); never stored."""
    return status in AWAITING and now > due_at
