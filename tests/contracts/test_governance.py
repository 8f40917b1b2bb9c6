"""MemberRegistry's governance: no single operator key changes the operators.

Admitting an operator and suspending, reinstating or revoking one take a proposal, the approval of
a strict majority of the other active operators (the proposer's counts) and the governance delay;
audit firms, banks and regulators stay a single operator's business. Each test deploys its own
network with a one-hour delay, since operators change the quorum for everything after them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from eth_account import Account

from node_gateway.chain.contracts import (
    MemberStatus,
    OperatorAction,
    ProposalState,
    Role,
    proposal_state_bitmap,
)
from node_gateway.chain.errors import (
    MemberRegistryAccountInUse,
    MemberRegistryConcernedOperator,
    MemberRegistryInvalidStatusChange,
    MemberRegistryOperatorChangeNeedsProposal,
    MemberRegistryOrganisationInUse,
    MemberRegistryProposalAlreadyApproved,
    MemberRegistryQuorumNotReached,
    MemberRegistryUnauthorized,
    MemberRegistryUnexpectedProposalState,
    MemberRegistryWrongRole,
)

if TYPE_CHECKING:
    from conftest import Chain, Deployment, Party
    from web3.types import TxReceipt

DELAY = 3600
READY = proposal_state_bitmap(ProposalState.READY)
OPEN = proposal_state_bitmap(ProposalState.WAITING, ProposalState.READY)
ACTIVE, SUSPENDED, REVOKED = MemberStatus.ACTIVE, MemberStatus.SUSPENDED, MemberStatus.REVOKED


@pytest.fixture
def governed(chain: Chain) -> Deployment:
    """A network of its own, with one operator and a one-hour governance delay."""
    return chain.deploy(governance_delay=DELAY)


def _proposal_id(d: Deployment, receipt: TxReceipt) -> int:
    (proposed,) = [e for e in d.events(receipt) if e.name == "OperatorChangeProposed"]
    return int(proposed.args["proposalId"])


def _propose_admission(d: Deployment, proposer: Party, name: str) -> tuple[int, Party]:
    """A proposal by ``proposer`` to admit a fresh account as operator ``name``; the would-be party."""
    from conftest import Party

    (sender,) = d.chain.new_senders(1)
    call = d.members.propose_operator_admission(
        account=sender.address, org_id=os.urandom(32), display_name=name
    )
    proposal_id = _proposal_id(d, d.send(proposer, call))
    return proposal_id, Party(name, sender, 0, Role.OPERATOR)


def _execute(d: Deployment, executor: Party, proposal_id: int) -> TxReceipt:
    receipt = d.send(executor, d.members.execute_proposal(proposal_id))
    assert d.members.get_proposal(proposal_id).state == ProposalState.EXECUTED
    return receipt


def _admitted(d: Deployment, proposal_id: int, party: Party) -> Party:
    """``party`` with the member number its executed admission gave it."""
    return type(party)(party.name, party.sender, d.members.get_proposal(proposal_id).member_id, Role.OPERATOR)


def _add_operator(d: Deployment, name: str, approvers: tuple[Party, ...] = ()) -> Party:
    """An operator admitted the governed way: proposed, approved, and executed after the delay."""
    proposal_id, party = _propose_admission(d, d.operator, name)
    for approver in approvers:
        d.send(approver, d.members.approve_proposal(proposal_id))
    d.advance(DELAY)
    _execute(d, d.operator, proposal_id)
    return _admitted(d, proposal_id, party)


def _propose_status(d: Deployment, proposer: Party, member: Party, status: MemberStatus) -> int:
    receipt = d.send(proposer, d.members.propose_operator_status_change(member.member_id, status))
    return _proposal_id(d, receipt)


# --- one operator key alone ------------------------------------------------------------------


def test_one_operator_alone_cannot_admit_an_operator(governed: Deployment) -> None:
    d = governed
    call = d.members.admit(
        account=Account.create().address, role=Role.OPERATOR, org_id=os.urandom(32), display_name="B"
    )
    d.assert_reverts(d.operator, call, MemberRegistryOperatorChangeNeedsProposal, 0)
    assert d.members.active_operator_count() == 1


def test_the_takeover_admit_b_then_b_suspends_a_is_refused(governed: Deployment) -> None:
    d = governed
    a = d.operator
    # A cannot make B an operator by itself at once ...
    proposal_id, b = _propose_admission(d, a, "operator B")
    d.assert_reverts(
        a,
        d.members.execute_proposal(proposal_id),
        MemberRegistryUnexpectedProposalState,
        proposal_id,
        ProposalState.WAITING,
        READY,
    )
    # ... only once every member has had the delay to see it coming.
    d.advance(DELAY)
    _execute(d, a, proposal_id)
    b = _admitted(d, proposal_id, b)
    # B cannot suspend, revoke or otherwise remove A by itself ...
    for call in (d.members.suspend(a.member_id), d.members.revoke(a.member_id)):
        d.assert_reverts(b, call, MemberRegistryOperatorChangeNeedsProposal, a.member_id)
    # ... and its proposal to do so waits out the delay, in the open.
    suspension = _propose_status(d, b, a, SUSPENDED)
    d.assert_reverts(
        b,
        d.members.execute_proposal(suspension),
        MemberRegistryUnexpectedProposalState,
        suspension,
        ProposalState.WAITING,
        READY,
    )
    assert d.members.get_member(a.member_id).status == ACTIVE


def test_bootstrap_the_sole_operator_admits_a_second_after_the_delay(governed: Deployment) -> None:
    d = governed
    m = d.members
    assert m.governance_delay() == DELAY
    (sender,) = d.chain.new_senders(1)
    org_id = os.urandom(32)
    call = m.propose_operator_admission(
        account=sender.address, org_id=org_id, display_name="Operator B", endpoint="https://op-b.example"
    )
    receipt = d.send(d.operator, call)
    proposal_id = m.proposal_count()
    ready_at = d.now() + DELAY
    assert [(e.name, e.args) for e in d.events(receipt)] == [
        (
            "OperatorChangeProposed",
            {
                "proposalId": proposal_id,
                "action": OperatorAction.ADMIT,
                "memberId": 0,
                "account": sender.address,
                "orgId": org_id,
                "proposer": d.operator.member_id,
                "readyAt": ready_at,
            },
        ),
        (
            "OperatorChangeApproved",
            {"proposalId": proposal_id, "approver": d.operator.member_id, "approvals": 1},
        ),
    ]
    proposal = m.get_proposal(proposal_id)
    assert (proposal.action, proposal.state, proposal.proposer, proposal.ready_at, proposal.approvers) == (
        OperatorAction.ADMIT,
        ProposalState.WAITING,
        d.operator.member_id,
        ready_at,
        (d.operator.member_id,),
    )
    assert proposal.candidate is not None
    assert (proposal.candidate.account, proposal.candidate.org_id, proposal.candidate.status) == (
        sender.address,
        org_id,
        MemberStatus.NONE,
    )
    assert m.proposal_approvals(proposal_id) == (1, 1)  # the quorum of one operator is that one
    assert m.has_approved(proposal_id, d.operator.member_id)

    d.advance(DELAY)
    assert m.get_proposal(proposal_id).state == ProposalState.READY
    receipt = d.send(d.operator, m.execute_proposal(proposal_id))
    member_id = m.member_count()
    assert [(e.name, e.args) for e in d.events(receipt)] == [
        (
            "MemberAdmitted",
            {"memberId": member_id, "account": sender.address, "role": Role.OPERATOR, "orgId": org_id},
        ),
        (
            "MemberEndpointUpdated",
            {"memberId": member_id, "endpoint": "https://op-b.example", "encryptionKeys": b""},
        ),
        (
            "OperatorChangeExecuted",
            {"proposalId": proposal_id, "memberId": member_id, "by": d.operator.address},
        ),
    ]
    assert m.get_member(member_id).role == Role.OPERATOR
    assert m.active_operator_count() == 2
    proposal = m.get_proposal(proposal_id)
    assert (proposal.state, proposal.member_id) == (ProposalState.EXECUTED, member_id)
    # Executed once, never again.
    d.assert_reverts(
        d.operator,
        m.execute_proposal(proposal_id),
        MemberRegistryUnexpectedProposalState,
        proposal_id,
        ProposalState.EXECUTED,
        READY,
    )


def test_with_a_quorum_and_the_delay_operators_suspend_reinstate_and_revoke_one(governed: Deployment) -> None:
    d = governed
    m = d.members
    a = d.operator
    b = _add_operator(d, "operator B")
    c = _add_operator(d, "operator C", approvers=(b,))  # two operators: a majority of two is two
    assert m.active_operator_count() == 3

    # B wants A out: the others are B and C, and a majority of two is two.
    suspension = _propose_status(d, b, a, SUSPENDED)
    d.advance(DELAY)
    d.assert_reverts(b, m.execute_proposal(suspension), MemberRegistryQuorumNotReached, suspension, 1, 2)
    d.send(c, m.approve_proposal(suspension))
    assert m.proposal_approvals(suspension) == (2, 2)
    receipt = d.send(b, m.execute_proposal(suspension))
    assert [e.name for e in d.events(receipt)] == ["MemberStatusChanged", "OperatorChangeExecuted"]
    assert m.get_member(a.member_id).status == SUSPENDED
    assert m.active_operator_count() == 2
    d.assert_reverts(
        a,
        m.admit(account=Account.create().address, role=Role.BANK, org_id=os.urandom(32), display_name="x"),
        MemberRegistryUnauthorized,
        a.address,
    )

    # Reinstating A: the others are B and C again (A, suspended, counts for nothing).
    reinstatement = _propose_status(d, c, a, ACTIVE)
    assert m.proposal_approvals(reinstatement) == (1, 2)
    d.send(b, m.approve_proposal(reinstatement))
    d.advance(DELAY)
    _execute(d, c, reinstatement)
    assert (m.get_member(a.member_id).status, m.active_operator_count()) == (ACTIVE, 3)

    # Revoking C: A and B agree; revoked is final.
    revocation = _propose_status(d, a, c, REVOKED)
    d.send(b, m.approve_proposal(revocation))
    d.advance(DELAY)
    _execute(d, a, revocation)
    assert (m.get_member(c.member_id).status, m.active_operator_count()) == (REVOKED, 2)
    d.assert_reverts(
        a,
        m.propose_operator_status_change(c.member_id, ACTIVE),
        MemberRegistryInvalidStatusChange,
        c.member_id,
        REVOKED,
        ACTIVE,
    )


def test_approvals_of_operators_no_longer_active_do_not_count(governed: Deployment) -> None:
    d = governed
    m = d.members
    b = _add_operator(d, "operator B")
    c = _add_operator(d, "operator C", approvers=(b,))
    # B proposes admitting D (quorum: two of three) and then is suspended by A and C.
    admission, _ = _propose_admission(d, b, "operator D")
    suspension = _propose_status(d, d.operator, b, SUSPENDED)
    d.send(c, m.approve_proposal(suspension))
    d.advance(DELAY)
    _execute(d, d.operator, suspension)
    # Two operators are active now (A, C): the quorum is two, and B's approval no longer counts.
    assert m.proposal_approvals(admission) == (0, 2)
    d.assert_reverts(
        d.operator, m.execute_proposal(admission), MemberRegistryQuorumNotReached, admission, 0, 2
    )


# --- refused steps -----------------------------------------------------------------------------


def test_approving_twice_as_a_non_operator_or_as_the_concerned_operator_is_refused(
    governed: Deployment,
) -> None:
    d = governed
    m = d.members
    b = _add_operator(d, "operator B")
    suspension = _propose_status(d, d.operator, b, SUSPENDED)
    d.assert_reverts(
        d.operator,
        m.approve_proposal(suspension),
        MemberRegistryProposalAlreadyApproved,
        suspension,
        d.operator.member_id,
    )
    for party in (d.bank, d.firm, d.regulator, d.stranger):
        d.assert_reverts(party, m.approve_proposal(suspension), MemberRegistryUnauthorized, party.address)
    # An operator approves neither its own suspension nor proposes it.
    d.assert_reverts(
        b, m.approve_proposal(suspension), MemberRegistryConcernedOperator, suspension, b.member_id
    )
    d.assert_reverts(
        b,
        m.propose_operator_status_change(b.member_id, REVOKED),
        MemberRegistryConcernedOperator,
        suspension + 1,
        b.member_id,
    )
    # Nor may any but an active operator propose or execute.
    for party in (d.bank, d.stranger):
        for call in (
            m.propose_operator_status_change(b.member_id, SUSPENDED),
            m.propose_operator_admission(account=party.address, org_id=os.urandom(32), display_name="x"),
            m.execute_proposal(suspension),
            m.cancel_proposal(suspension),
        ):
            d.assert_reverts(party, call, MemberRegistryUnauthorized, party.address)


def test_unknown_and_cancelled_proposals(governed: Deployment) -> None:
    d = governed
    m = d.members
    b = _add_operator(d, "operator B")
    unknown = m.proposal_count() + 1
    for call in (m.approve_proposal(unknown), m.cancel_proposal(unknown)):
        d.assert_reverts(
            d.operator, call, MemberRegistryUnexpectedProposalState, unknown, ProposalState.NONE, OPEN
        )
    d.assert_reverts(
        d.operator,
        m.execute_proposal(unknown),
        MemberRegistryUnexpectedProposalState,
        unknown,
        ProposalState.NONE,
        READY,
    )
    assert m.get_proposal(unknown).state == ProposalState.NONE

    suspension = _propose_status(d, d.operator, b, SUSPENDED)
    # Only its proposer withdraws a proposal.
    d.assert_reverts(b, m.cancel_proposal(suspension), MemberRegistryUnauthorized, b.address)
    receipt = d.send(d.operator, m.cancel_proposal(suspension))
    assert d.single_event(receipt, "OperatorChangeCancelled") == {
        "proposalId": suspension,
        "proposer": d.operator.member_id,
    }
    d.advance(DELAY)
    cancelled = (suspension, ProposalState.CANCELLED)
    d.assert_reverts(
        d.operator, m.execute_proposal(suspension), MemberRegistryUnexpectedProposalState, *cancelled, READY
    )
    d.assert_reverts(
        d.operator, m.cancel_proposal(suspension), MemberRegistryUnexpectedProposalState, *cancelled, OPEN
    )
    assert m.get_member(b.member_id).status == ACTIVE


def test_proposals_are_checked_when_made_and_again_when_executed(governed: Deployment) -> None:
    d = governed
    m = d.members
    b = _add_operator(d, "operator B")
    d.assert_reverts(
        d.operator,
        m.propose_operator_status_change(d.bank.member_id, SUSPENDED),
        MemberRegistryWrongRole,
        d.bank.member_id,
        Role.OPERATOR,
        Role.BANK,
    )
    d.assert_reverts(
        d.operator,
        m.propose_operator_status_change(b.member_id, ACTIVE),
        MemberRegistryInvalidStatusChange,
        b.member_id,
        ACTIVE,
        ACTIVE,
    )
    d.assert_reverts(
        d.operator,
        m.propose_operator_admission(account=d.bank.address, org_id=os.urandom(32), display_name="x"),
        MemberRegistryAccountInUse,
        d.bank.address,
    )
    # Two proposals for the same account: the second finds it taken when executed.
    account, org_id = Account.create().address, os.urandom(32)
    first, second = (
        _proposal_id(
            d,
            d.send(
                d.operator,
                m.propose_operator_admission(account=account, org_id=org_id, display_name=f"twice {n}"),
            ),
        )
        for n in range(2)
    )
    for proposal_id in (first, second):
        d.send(b, m.approve_proposal(proposal_id))
    d.advance(DELAY)
    _execute(d, b, first)
    d.assert_reverts(b, m.execute_proposal(second), MemberRegistryAccountInUse, account)
    assert m.get_proposal(second).state == ProposalState.READY
    d.assert_reverts(
        d.operator,
        m.propose_operator_admission(account=Account.create().address, org_id=org_id, display_name="x"),
        MemberRegistryOrganisationInUse,
        org_id,
    )


# --- ordinary members stay a single operator's business -----------------------------------------


def test_any_one_operator_still_admits_and_suspends_ordinary_members(governed: Deployment) -> None:
    d = governed
    m = d.members
    b = _add_operator(d, "operator B")
    for operator in (d.operator, b):
        bank = d.new_member(Role.BANK, "bank-g")
        receipt = d.send(
            operator,
            m.admit(
                account=Account.create().address, role=Role.REGULATOR, org_id=os.urandom(32), display_name="r"
            ),
        )
        assert [e.name for e in d.events(receipt)] == ["MemberAdmitted"]
        for call, status in (
            (m.suspend(bank.member_id), SUSPENDED),
            (m.reinstate(bank.member_id), ACTIVE),
            (m.revoke(bank.member_id), REVOKED),
        ):
            d.send(operator, call)
            assert m.get_member(bank.member_id).status == status
    assert m.proposal_count() == 1  # B's admission, nothing else
    assert m.active_operator_count() == 2


def test_operators_status_changes_go_only_through_proposals(governed: Deployment) -> None:
    d = governed
    m = d.members
    b = _add_operator(d, "operator B")
    for call in (m.suspend(b.member_id), m.revoke(b.member_id), m.reinstate(b.member_id)):
        d.assert_reverts(d.operator, call, MemberRegistryOperatorChangeNeedsProposal, b.member_id)
    suspension = _propose_status(d, d.operator, b, SUSPENDED)
    d.advance(DELAY)
    _execute(d, d.operator, suspension)
    # Suspended, B cannot act as operator; A cannot reinstate it alone either.
    d.assert_reverts(b, m.reinstate(b.member_id), MemberRegistryUnauthorized, b.address)
    d.assert_reverts(
        d.operator, m.reinstate(b.member_id), MemberRegistryOperatorChangeNeedsProposal, b.member_id
    )
    reinstatement = _propose_status(d, d.operator, b, ACTIVE)
    d.advance(DELAY)
    _execute(d, d.operator, reinstatement)
    # Reinstated, it acts as operator again for ordinary members.
    d.send(
        b, m.admit(account=Account.create().address, role=Role.BANK, org_id=os.urandom(32), display_name="y")
    )
