"""The lifecycle module (node_gateway.protocol.lifecycle) read against the contracts themselves.

The gateway, the bank adapter and the verifier follow the module; ConfirmationRegistry enforces
its own code. Here the two are held together from the sources and the built ABI: the enums in
their order, and for every action its function, the states its guard allows, the status it
sets, the party it checks and the event it emits. The behaviour on chain is compared with the
same module by the lifecycle table (test_lifecycle.py) and the state machine test.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from node_gateway.chain.artifacts import load_artifact
from node_gateway.protocol.lifecycle import (
    AWAITING,
    BY_EVENT,
    FINAL,
    STATUS_AFTER,
    TRANSITIONS,
    Action,
    LetterStatus,
    Role,
    is_overdue,
    only_after,
    open_to,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
# The helper each side's functions go through: it checks the caller is the letter's firm or bank.
PARTY_HELPERS = {"_letterOfCallingFirm": Role.AUDIT_FIRM, "_letterOfCallingBank": Role.BANK}


def _source(name: str) -> str:
    return (CONTRACTS / f"{name}.sol").read_text(encoding="utf-8")


def _enum(source: str, name: str) -> list[str]:
    match = re.search(rf"enum {name} \{{([^}}]*)\}}", source)
    assert match is not None, f"no enum {name}"
    return [item.strip() for item in match.group(1).split(",") if item.strip()]


def _python_name(solidity: str) -> str:
    """``AuditFirm`` -> ``AUDIT_FIRM``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", solidity).upper()


@cache
def _functions() -> dict[str, str]:
    """ConfirmationRegistry's functions by name: their bodies, braces matched."""
    source = _source("ConfirmationRegistry")
    bodies: dict[str, str] = {}
    for match in re.finditer(r"function (\w+)\(", source):
        start = source.index("{", match.end())
        depth, end = 0, start
        for end in range(start, len(source)):
            depth += {"{": 1, "}": -1}.get(source[end], 0)
            if depth == 0:
                break
        bodies[match.group(1)] = source[start + 1 : end]
    return bodies


def _with_helpers(body: str) -> str:
    """A body with the bodies of the private helpers it calls, recursively."""
    functions = _functions()
    seen: set[str] = set()
    pending = [body]
    found = []
    while pending:
        text = pending.pop()
        found.append(text)
        for called in re.findall(r"\b(_\w+)\(", text):
            if called in functions and called not in seen:
                seen.add(called)
                pending.append(functions[called])
    return "\n".join(found)


def _states(expression: str) -> set[LetterStatus]:
    return {LetterStatus[_python_name(name)] for name in re.findall(r"Status\.(\w+)", expression)}


def _constant(name: str) -> str:
    match = re.search(rf"{name} =([^;]*);", _source("ConfirmationRegistry"))
    assert match is not None, f"no constant {name}"
    return match.group(1)


def _guarded_states(function: str) -> set[LetterStatus]:
    """The states the guard lets ``function`` start from: what its calls to ``_requireStatus``,
    or to the party helpers that call it, are given (``_encode(Status.X)`` or a constant)."""
    body = _with_helpers(_functions()[function])
    allowed: set[LetterStatus] = set()
    for helper in ("_requireStatus", *PARTY_HELPERS):
        for argument in re.findall(rf"{helper}\(([^;]*)\);", body):
            last = argument.rsplit(",", 1)[-1].strip()
            if last == "allowed":  # the helper's own parameter, given by the caller
                continue
            allowed |= _states(last) if "Status." in last else _states(_constant(last))
    return allowed


def _set_status(function: str) -> LetterStatus | None:
    found = _states(" ".join(re.findall(r"letter\.status = ([^;]*);", _functions()[function])))
    assert len(found) <= 1, found
    return next(iter(found), None)


def _actor(function: str) -> Role | None:
    body = _functions()[function]
    roles = {role for helper, role in PARTY_HELPERS.items() if f"{helper}(" in body}
    roles |= {
        Role[_python_name(name)]
        for name in re.findall(r"requireActiveAccount\(msg\.sender, IMemberRegistry\.Role\.(\w+)\)", body)
    }
    assert len(roles) <= 1, roles
    return next(iter(roles), None)


def _events(function: str) -> list[str]:
    return re.findall(r"emit (\w+)\(", _functions()[function])


# --- the enums ---------------------------------------------------------------------------------


def test_letter_status_is_the_contract_enum_in_its_order() -> None:
    names = _enum(_source("IConfirmationRegistry"), "Status")
    assert [_python_name(name) for name in names] == [status.name for status in LetterStatus]


def test_role_is_the_member_registry_enum_in_its_order() -> None:
    names = _enum(_source("IMemberRegistry"), "Role")
    assert [_python_name(name) for name in names] == [role.name for role in Role]


def test_the_abi_returns_the_status_enum() -> None:
    (get_letter,) = [
        item
        for item in load_artifact("ConfirmationRegistry").abi
        if item["type"] == "function" and item["name"] == "getLetter"
    ]
    status = get_letter["outputs"][0]["components"][0]
    assert (status["name"], status["type"]) == ("status", "uint8")
    assert status["internalType"] == "enum IConfirmationRegistry.Status"


# --- every action against its function ---------------------------------------------------------


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_each_action_is_a_function_of_the_abi_emitting_its_event(action: Action) -> None:
    abi = load_artifact("ConfirmationRegistry").abi
    functions = {item["name"] for item in abi if item["type"] == "function"}
    events = {item["name"]: item for item in abi if item["type"] == "event"}
    transition = TRANSITIONS[action]
    assert action.value in functions
    event = events[transition.event]
    indexed = [i["name"] for i in event["inputs"] if i["indexed"]]
    assert indexed == ["letterId", "firm", "bank"]


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_each_action_matches_its_function_in_the_source(action: Action) -> None:
    transition = TRANSITIONS[action]
    function = action.value
    assert _guarded_states(function) == transition.allowed_from, "the states its guard allows"
    assert _set_status(function) == transition.leads_to, "the status it sets"
    assert _actor(function) == transition.actor, "the party it checks"
    assert _events(function) == [transition.event], "the event it emits"


def test_every_transition_function_is_an_action() -> None:
    """No function of the contract sets a letter's status but the lifecycle's actions."""
    setting = {name for name, body in _functions().items() if "letter.status = " in body}
    assert setting == {action.value for action in Action if TRANSITIONS[action].leads_to is not None}


def test_overdue_is_awaiting_past_the_due_time_as_is_overdue() -> None:
    body = _functions()["isOverdue"]
    (constant,) = re.findall(r"& (_\w+) != 0", body)
    assert _states(_constant(constant)) == AWAITING
    assert "block.timestamp > letter.dueAt" in body
    assert is_overdue(LetterStatus.ACCEPTED, due_at=10, now=11)
    assert not is_overdue(LetterStatus.ACCEPTED, due_at=10, now=10)
    assert not is_overdue(LetterStatus.REPLIED, due_at=10, now=11)


# --- what the module derives -------------------------------------------------------------------


def test_derived_tables() -> None:
    assert dict(STATUS_AFTER) == {
        t.event: t.leads_to for t in TRANSITIONS.values() if t.action != Action.FOLLOW_UP
    }
    assert set(BY_EVENT) == {t.event for t in TRANSITIONS.values()}
    assert {
        LetterStatus.REJECTED,
        LetterStatus.CLOSED,
        LetterStatus.WITHDRAWN,
        LetterStatus.REFUSED,
    } == FINAL
    assert open_to(Role.BANK) == {LetterStatus.AUTHORISED, LetterStatus.ACCEPTED}
    assert only_after(LetterStatus.AUTHORISED) == {
        LetterStatus.AUTHORISED,
        LetterStatus.ACCEPTED,
        LetterStatus.REJECTED,
        LetterStatus.REPLIED,
        LetterStatus.CLOSED,
    }
    assert only_after(LetterStatus.ACCEPTED) == {
        LetterStatus.ACCEPTED,
        LetterStatus.REPLIED,
        LetterStatus.CLOSED,
    }
    assert only_after(LetterStatus.REPLIED) == {LetterStatus.REPLIED, LetterStatus.CLOSED}
    assert [t.party for t in TRANSITIONS.values()] == [
        "firm",
        None,
        None,
        "bank",
        "bank",
        "bank",
        "firm",
        "firm",
        "firm",
    ]


def test_only_after_follows_every_path() -> None:
    """Each state ``only_after(s)`` names is reached from NONE only through ``s``: walked here by
    every path of the transitions, not by the module's own search."""

    def paths(to: LetterStatus) -> list[list[LetterStatus]]:
        found: list[list[LetterStatus]] = []
        stack: list[list[LetterStatus]] = [[LetterStatus.NONE]]
        while stack:
            path = stack.pop()
            if path[-1] == to:
                found.append(path)
            for t in TRANSITIONS.values():
                if t.allows(path[-1]) and t.leads_to is not None and t.leads_to not in path:
                    stack.append([*path, t.leads_to])
        return found

    for status in LetterStatus:
        expected = {s for s in LetterStatus if paths(s) and all(status in p for p in paths(s))}
        assert only_after(status) == expected | {status}, status.name
