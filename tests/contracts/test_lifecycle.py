"""The letter lifecycle on both backends: every transition, the party × state × action table,
overdue letters, invalid requests and Multicall."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from lifecycle_rules import (
    EVENT,
    Actor,
    LetterFacts,
    action_call,
    expected_outcome,
)

from node_gateway.chain.contracts import status_bitmap
from node_gateway.chain.errors import (
    ConfirmationInvalidRequest,
    ConfirmationUnexpectedStatus,
    MemberRegistryUnknownMember,
    MemberRegistryWrongRole,
)
from node_gateway.protocol.lifecycle import Action, LetterStatus, Role

if TYPE_CHECKING:
    from conftest import Deployment, LetterRef, Party

HOUR = 3600
DAY = 24 * HOUR

PARTIES = ("firm", "firm2", "bank", "bank2", "regulator", "operator", "stranger")
PARTY_LABELS = {
    "firm": "requesting_firm",
    "firm2": "other_firm",
    "bank": "addressed_bank",
    "bank2": "other_bank",
    "regulator": "regulator",
    "operator": "operator",
    "stranger": "unknown_account",
}


def actor(party: Party) -> Actor:
    return Actor(address=party.address, member_id=party.member_id, role=party.role)


def facts(letter: LetterRef, status: LetterStatus) -> LetterFacts:
    if status == LetterStatus.NONE:
        return LetterFacts(letter.letter_id, status, 0, 0)
    return LetterFacts(letter.letter_id, status, letter.firm, letter.bank)


@pytest.fixture(scope="module")
def letter_per_state(deployment: Deployment) -> dict[LetterStatus, LetterRef]:
    """One letter from `firm` to `bank` in every state; the table only estimates calls on them."""
    return {status: deployment.letter_in(status) for status in LetterStatus}


# --- the table ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("state", list(LetterStatus), ids=lambda state: state.name.lower())
@pytest.mark.parametrize("party_name", PARTIES, ids=PARTY_LABELS.get)
def test_table(
    deployment: Deployment,
    letter_per_state: dict[LetterStatus, LetterRef],
    party_name: str,
    state: LetterStatus,
    action: Action,
) -> None:
    party = deployment.parties[party_name]
    letter = letter_per_state[state]
    expected = expected_outcome(
        action, actor(party), facts(letter, state), request_bank=actor(deployment.bank)
    )
    if not expected.ok:
        assert expected.error is not None
        call, _ = action_call(deployment, action, letter)
        deployment.assert_reverts(party, call, expected.error, *expected.values)
        assert deployment.status(letter) == state
        return
    # Allowed: done for real on a fresh letter in the same state.
    fresh = deployment.letter_in(state)
    call, extra = action_call(deployment, action, fresh)
    receipt = deployment.send(party, call)
    firm = party.member_id if action == Action.REQUEST else fresh.firm
    assert deployment.single_event(receipt, EVENT[action]) == {
        "letterId": fresh.letter_id,
        "firm": firm,
        "bank": fresh.bank,
        **extra,
    }
    assert deployment.status(fresh) == expected.status


def test_table_model_allows_each_transition_only_to_its_party() -> None:
    """The model itself: who may do what from where (a sanity check of the table's oracle)."""
    firm = Actor("0x" + "11" * 20, 2, Role.AUDIT_FIRM)
    bank = Actor("0x" + "22" * 20, 4, Role.BANK)
    allowed = {
        (action, status)
        for action in Action
        for status in LetterStatus
        for who in (firm, bank)
        if expected_outcome(
            action,
            who,
            LetterFacts(b"\x01" * 32, status, 2 if status else 0, 4 if status else 0),
            request_bank=bank,
        ).ok
    }
    assert allowed == {
        (Action.REQUEST, LetterStatus.NONE),
        (Action.AUTHORISE, LetterStatus.REQUESTED),
        (Action.REFUSE, LetterStatus.REQUESTED),
        (Action.ACCEPT, LetterStatus.AUTHORISED),
        (Action.REJECT, LetterStatus.AUTHORISED),
        (Action.REPLY, LetterStatus.ACCEPTED),
        (Action.CLOSE, LetterStatus.REPLIED),
        *(
            (Action.WITHDRAW, s)
            for s in (LetterStatus.REQUESTED, LetterStatus.AUTHORISED, LetterStatus.ACCEPTED)
        ),
        *(
            (Action.FOLLOW_UP, s)
            for s in (LetterStatus.REQUESTED, LetterStatus.AUTHORISED, LetterStatus.ACCEPTED)
        ),
    }


# --- the happy path, field by field ------------------------------------------------------------


def test_complete_letter_records_hashes_and_emits_one_event_per_step(deployment: Deployment) -> None:
    d = deployment
    c = d.confirmations
    letter = d.plan_letter(due_in=10 * DAY)
    names: list[str] = []

    requested = d.send(d.firm, d.request_call(letter))
    names += [e.name for e in d.events(requested)]
    stored = c.get_letter(letter.letter_id)
    assert (stored.status, stored.firm, stored.bank) == (
        LetterStatus.REQUESTED,
        d.firm.member_id,
        d.bank.member_id,
    )
    # The auditee's reference comes with the authorisation: zero until then.
    assert (stored.auditee_ref, stored.letter_hash, stored.due_at) == (
        bytes(32),
        letter.letter_hash,
        letter.due_at,
    )
    assert stored.reply_hash == bytes(32)

    names += [e.name for e in d.events(d.send(d.firm, c.follow_up(letter.letter_id)))]
    names += [e.name for e in d.events(d.send(d.stranger, d.authorise_call(letter)))]
    names += [e.name for e in d.events(d.send(d.firm, c.follow_up(letter.letter_id)))]
    names += [e.name for e in d.events(d.send(d.bank, c.accept(letter.letter_id)))]
    reply_hash = os.urandom(32)
    names += [e.name for e in d.events(d.send(d.bank, c.reply(letter.letter_id, reply_hash)))]
    assert c.get_letter(letter.letter_id).reply_hash == reply_hash
    names += [e.name for e in d.events(d.send(d.firm, c.close(letter.letter_id)))]

    assert names == [
        "LetterRequested",
        "LetterFollowedUp",
        "LetterAuthorised",
        "LetterFollowedUp",
        "LetterAccepted",
        "LetterReplied",
        "LetterClosed",
    ]
    assert d.status(letter) == LetterStatus.CLOSED
    # The events are all there is to read back later, e.g. for statistics.
    history = [
        e.name for e in c.get_events(requested["blockNumber"]) if e.args.get("letterId") == letter.letter_id
    ]
    assert history == names


# --- requests that are not valid ---------------------------------------------------------------


def test_request_with_due_time_not_in_future_reverts(deployment: Deployment) -> None:
    d = deployment
    letter = d.plan_letter()
    for due_at in (d.now() - 1, d.now(), 0):
        call = d.confirmations.request(
            letter_id=letter.letter_id,
            bank=letter.bank,
            letter_hash=letter.letter_hash,
            due_at=due_at,
        )
        d.assert_reverts(d.firm, call, ConfirmationInvalidRequest, letter.letter_id)


def test_request_with_zero_hash_reverts(deployment: Deployment) -> None:
    d = deployment
    letter = d.plan_letter()
    call = d.confirmations.request(
        letter_id=letter.letter_id, bank=letter.bank, letter_hash=bytes(32), due_at=letter.due_at
    )
    d.assert_reverts(d.firm, call, ConfirmationInvalidRequest, letter.letter_id)


def test_request_to_a_member_that_is_not_a_bank_reverts(deployment: Deployment) -> None:
    d = deployment
    for addressee in (d.firm2, d.regulator, d.operator):
        letter = d.plan_letter(bank=addressee)
        d.assert_reverts(
            d.firm,
            d.request_call(letter),
            MemberRegistryWrongRole,
            addressee.member_id,
            Role.BANK,
            addressee.role,
        )


def test_request_to_an_unknown_member_reverts(deployment: Deployment) -> None:
    d = deployment
    unknown = d.members.member_count() + 100
    call = d.confirmations.request(
        letter_id=os.urandom(32),
        bank=unknown,
        letter_hash=os.urandom(32),
        due_at=d.now() + DAY,
    )
    d.assert_reverts(d.firm, call, MemberRegistryUnknownMember, unknown)


def test_reply_with_zero_hash_reverts(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.ACCEPTED)
    d.assert_reverts(
        d.bank,
        d.confirmations.reply(letter.letter_id, bytes(32)),
        ConfirmationInvalidRequest,
        letter.letter_id,
    )


def test_letter_id_cannot_be_reused_after_a_final_state(deployment: Deployment) -> None:
    d = deployment
    for state in (LetterStatus.CLOSED, LetterStatus.WITHDRAWN, LetterStatus.REFUSED, LetterStatus.REJECTED):
        letter = d.letter_in(state)
        again = d.plan_letter()
        call = d.confirmations.request(
            letter_id=letter.letter_id,
            bank=again.bank,
            letter_hash=again.letter_hash,
            due_at=again.due_at,
        )
        d.assert_reverts(
            d.firm2,
            call,
            ConfirmationUnexpectedStatus,
            letter.letter_id,
            state,
            status_bitmap(LetterStatus.NONE),
        )


# --- overdue -----------------------------------------------------------------------------------


def test_overdue_is_derived_from_the_due_time(deployment: Deployment) -> None:
    d = deployment
    letters = {
        state: d.letter_in(state, due_in=2 * HOUR) for state in LetterStatus if state != LetterStatus.NONE
    }
    unknown = d.plan_letter(due_in=2 * HOUR)
    assert not any(d.confirmations.is_overdue(letter.letter_id) for letter in letters.values())

    d.advance(3 * HOUR)

    overdue = {state for state, letter in letters.items() if d.confirmations.is_overdue(letter.letter_id)}
    assert overdue == {LetterStatus.REQUESTED, LetterStatus.AUTHORISED, LetterStatus.ACCEPTED}
    assert not d.confirmations.is_overdue(unknown.letter_id)
    # Overdue is no state of its own: the stored status is unchanged and the bank may still reply.
    accepted = letters[LetterStatus.ACCEPTED]
    assert d.status(accepted) == LetterStatus.ACCEPTED
    d.send(d.bank, d.confirmations.reply(accepted.letter_id, os.urandom(32)))
    assert not d.confirmations.is_overdue(accepted.letter_id)
    d.send(d.firm, d.confirmations.close(accepted.letter_id))
    assert not d.confirmations.is_overdue(accepted.letter_id)


def test_letter_is_not_overdue_before_its_due_time(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.AUTHORISED, due_in=5 * HOUR)
    d.advance(4 * HOUR)
    assert not d.confirmations.is_overdue(letter.letter_id)
    d.advance(2 * HOUR)
    assert d.confirmations.is_overdue(letter.letter_id)


# --- multicall ---------------------------------------------------------------------------------


def test_multicall_bank_accepts_and_replies_in_one_transaction(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.AUTHORISED)
    reply_hash = os.urandom(32)
    receipt = d.send(
        d.bank,
        d.confirmations.multicall(
            [d.confirmations.accept(letter.letter_id), d.confirmations.reply(letter.letter_id, reply_hash)]
        ),
    )
    events = d.events(receipt)
    assert [e.name for e in events] == ["LetterAccepted", "LetterReplied"]
    assert events[1].args == {
        "letterId": letter.letter_id,
        "firm": d.firm.member_id,
        "bank": d.bank.member_id,
        "replyHash": reply_hash,
    }
    assert d.status(letter) == LetterStatus.REPLIED


def test_multicall_firm_requests_ten_letters_at_once(deployment: Deployment) -> None:
    d = deployment
    letters = [d.plan_letter(bank=d.bank if i % 2 else d.bank2) for i in range(10)]
    receipt = d.send(d.firm, d.confirmations.multicall([d.request_call(letter) for letter in letters]))
    events = d.events(receipt)
    assert [e.name for e in events] == ["LetterRequested"] * 10
    assert [(e.args["letterId"], e.args["firm"], e.args["bank"]) for e in events] == [
        (letter.letter_id, d.firm.member_id, letter.bank) for letter in letters
    ]
    assert {d.status(letter) for letter in letters} == {LetterStatus.REQUESTED}


def test_multicall_reverts_as_a_whole_with_the_inner_error(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.AUTHORISED)
    not_accepted = d.letter_in(LetterStatus.AUTHORISED)
    call = d.confirmations.multicall(
        [
            d.confirmations.accept(letter.letter_id),
            d.confirmations.reply(not_accepted.letter_id, os.urandom(32)),
        ]
    )
    expected = (not_accepted.letter_id, LetterStatus.AUTHORISED, status_bitmap(LetterStatus.ACCEPTED))
    d.assert_reverts(d.bank, call, ConfirmationUnexpectedStatus, *expected)

    # Sent with a fixed gas limit, so it is mined (on anvil) and reverts there; the first step is undone.
    with pytest.raises(ConfirmationUnexpectedStatus) as caught:
        d.bank.sender.send(call, gas=500_000)
    assert caught.value.values == expected
    assert d.status(letter) == LetterStatus.AUTHORISED
    assert d.status(not_accepted) == LetterStatus.AUTHORISED
    # The bank's nonce is still right afterwards.
    d.send(d.bank, d.confirmations.accept(letter.letter_id))
    assert d.status(letter) == LetterStatus.ACCEPTED


def test_multicall_keeps_the_sender_so_parties_cannot_borrow_rights(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.AUTHORISED)
    call = d.confirmations.multicall(
        [d.confirmations.follow_up(letter.letter_id), d.confirmations.accept(letter.letter_id)]
    )
    d.assert_reverts(d.firm, call, MemberRegistryWrongRole, d.firm.member_id, Role.BANK, Role.AUDIT_FIRM)


def test_a_revert_decodes_the_same_on_every_path(deployment: Deployment) -> None:
    """eth_call, the gas estimate, and a transaction mined with a fixed gas limit all raise the
    contract's own error with its arguments."""
    d = deployment
    letter = d.letter_in(LetterStatus.REQUESTED)
    call = d.confirmations.close(letter.letter_id)
    expected = (letter.letter_id, LetterStatus.REQUESTED, status_bitmap(LetterStatus.REPLIED))
    d.assert_reverts(d.firm, call, ConfirmationUnexpectedStatus, *expected)
    with pytest.raises(ConfirmationUnexpectedStatus) as estimated:
        d.firm.sender.estimate_gas(call)
    with pytest.raises(ConfirmationUnexpectedStatus) as mined:
        d.firm.sender.send(call, gas=200_000)
    assert estimated.value.values == mined.value.values == expected
    assert d.status(letter) == LetterStatus.REQUESTED
