"""MemberRegistry: admission, suspension, reinstatement, revocation, endpoints, account rotation,
and what members that are not Active can no longer do."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from eth_account import Account

from node_gateway.chain.contracts import LetterStatus, MemberStatus, Role
from node_gateway.chain.errors import (
    ConfirmationSignerNotMandated,
    ContractRevert,
    MemberRegistryAccountInUse,
    MemberRegistryInvalidAdmission,
    MemberRegistryInvalidStatusChange,
    MemberRegistryMemberNotActive,
    MemberRegistryOperatorChangeNeedsProposal,
    MemberRegistryOrganisationInUse,
    MemberRegistryUnauthorized,
    MemberRegistryUnknownAccount,
    MemberRegistryUnknownMember,
    MemberRegistryWrongRole,
)
from node_gateway.chain.signers import signer_id

if TYPE_CHECKING:
    from conftest import Deployment, Party

DAY = 24 * 3600
ZERO_ADDRESS = "0x" + "00" * 20
ACTIVE, SUSPENDED, REVOKED = MemberStatus.ACTIVE, MemberStatus.SUSPENDED, MemberStatus.REVOKED


# --- admission ---------------------------------------------------------------------------------


def test_operator_admits_a_member_with_its_record_and_events(deployment: Deployment) -> None:
    d = deployment
    account = Account.create().address
    org_id = os.urandom(32)
    count = d.members.member_count()
    receipt = d.send(
        d.operator,
        d.members.admit(
            account=account,
            role=Role.REGULATOR,
            org_id=org_id,
            display_name="Regulator B",
            endpoint="https://reg-b.example",
            encryption_keys=b"\x04" * 65,
        ),
    )
    member_id = count + 1
    assert [(e.name, e.args) for e in d.events(receipt)] == [
        (
            "MemberAdmitted",
            {"memberId": member_id, "account": account, "role": Role.REGULATOR, "orgId": org_id},
        ),
        (
            "MemberEndpointUpdated",
            {"memberId": member_id, "endpoint": "https://reg-b.example", "encryptionKeys": b"\x04" * 65},
        ),
    ]
    assert d.members.member_count() == member_id
    assert d.members.member_id_of(account) == member_id
    member = d.members.get_member(member_id)
    assert (member.role, member.status, member.account, member.org_id) == (
        Role.REGULATOR,
        MemberStatus.ACTIVE,
        account,
        org_id,
    )
    assert (member.display_name, member.endpoint, member.encryption_keys) == (
        "Regulator B",
        "https://reg-b.example",
        b"\x04" * 65,
    )
    assert d.members.require_active_account(account, Role.REGULATOR) == member_id


def test_admission_without_endpoint_emits_only_member_admitted(deployment: Deployment) -> None:
    d = deployment
    receipt = d.send(
        d.operator,
        d.members.admit(
            account=Account.create().address, role=Role.BANK, org_id=os.urandom(32), display_name="B"
        ),
    )
    assert [e.name for e in d.events(receipt)] == ["MemberAdmitted"]


def test_standard_parties_are_admitted(deployment: Deployment) -> None:
    d = deployment
    for party in d.parties.values():
        assert d.members.member_id_of(party.address) == party.member_id
        if party.member_id:
            member = d.members.get_member(party.member_id)
            assert (member.role, member.status, member.account) == (
                party.role,
                MemberStatus.ACTIVE,
                party.address,
            )
    assert d.members.get_member(1).role == Role.OPERATOR
    assert d.confirmations.member_registry() == d.members.address


@pytest.mark.parametrize("caller", ["firm", "bank", "regulator", "stranger"])
def test_only_the_operator_admits_suspends_reinstates_and_revokes(
    deployment: Deployment, caller: str
) -> None:
    d = deployment
    party = d.parties[caller]
    m = d.members
    calls = [
        m.admit(account=Account.create().address, role=Role.BANK, org_id=os.urandom(32), display_name="x"),
        m.suspend(d.bank2.member_id),
        m.reinstate(d.bank2.member_id),
        m.revoke(d.bank2.member_id),
    ]
    for call in calls:
        d.assert_reverts(party, call, MemberRegistryUnauthorized, party.address)


@pytest.mark.parametrize("case", ["zero_account", "zero_org", "no_role", "account_in_use", "org_in_use"])
def test_admission_errors(deployment: Deployment, case: str) -> None:
    d = deployment
    account, role, org_id = Account.create().address, Role.BANK, os.urandom(32)
    error: type[ContractRevert] = MemberRegistryInvalidAdmission
    values: tuple[object, ...] = ()
    if case == "zero_account":
        account = ZERO_ADDRESS
    elif case == "zero_org":
        org_id = bytes(32)
    elif case == "no_role":
        role = Role.NONE
    elif case == "account_in_use":
        account, error, values = d.bank.address, MemberRegistryAccountInUse, (d.bank.address,)
    else:
        org_id = d.members.get_member(d.bank.member_id).org_id
        error, values = MemberRegistryOrganisationInUse, (org_id,)
    call = d.members.admit(account=account, role=role, org_id=org_id, display_name="x")
    d.assert_reverts(d.operator, call, error, *values)


# --- status changes ----------------------------------------------------------------------------


def _status(d: Deployment, party: Party) -> MemberStatus:
    return d.members.get_member(party.member_id).status


def test_suspend_reinstate_revoke_transitions_and_events(deployment: Deployment) -> None:
    d = deployment
    m = d.members
    member = d.new_member(Role.AUDIT_FIRM, "firm-s")
    for call, status in [
        (m.suspend(member.member_id), MemberStatus.SUSPENDED),
        (m.reinstate(member.member_id), MemberStatus.ACTIVE),
        (m.suspend(member.member_id), MemberStatus.SUSPENDED),
        (m.revoke(member.member_id), MemberStatus.REVOKED),
    ]:
        receipt = d.send(d.operator, call)
        assert d.single_event(receipt, "MemberStatusChanged") == {
            "memberId": member.member_id,
            "status": status,
            "by": d.operator.address,
        }
        assert _status(d, member) == status
    # Revoked straight from Active, too.
    other = d.new_member(Role.BANK, "bank-r")
    d.send(d.operator, m.revoke(other.member_id))
    assert _status(d, other) == MemberStatus.REVOKED


def test_status_change_errors(deployment: Deployment) -> None:
    d = deployment
    m = d.members
    suspended = d.new_member(Role.BANK, "bank-s")
    d.send(d.operator, m.suspend(suspended.member_id))
    revoked = d.new_member(Role.BANK, "bank-r")
    d.send(d.operator, m.revoke(revoked.member_id))
    active = d.bank2
    cases = [
        (m.suspend(suspended.member_id), (suspended.member_id, SUSPENDED, SUSPENDED)),
        (m.reinstate(active.member_id), (active.member_id, ACTIVE, ACTIVE)),
        (m.reinstate(revoked.member_id), (revoked.member_id, REVOKED, ACTIVE)),  # revoked is final
        (m.suspend(revoked.member_id), (revoked.member_id, REVOKED, SUSPENDED)),
        (m.revoke(revoked.member_id), (revoked.member_id, REVOKED, REVOKED)),
    ]
    for call, values in cases:
        d.assert_reverts(d.operator, call, MemberRegistryInvalidStatusChange, *values)
    # An operator's status, its own included, is changed only by proposal (test_governance).
    for call in (m.suspend(d.operator.member_id), m.revoke(d.operator.member_id)):
        d.assert_reverts(d.operator, call, MemberRegistryOperatorChangeNeedsProposal, d.operator.member_id)
    for unknown in (0, m.member_count() + 1):
        for call in (m.suspend(unknown), m.reinstate(unknown), m.revoke(unknown)):
            d.assert_reverts(d.operator, call, MemberRegistryUnknownMember, unknown)
        with pytest.raises(MemberRegistryUnknownMember):
            m.get_member(unknown)


# --- members that are not Active cannot act ----------------------------------------------------


def _mandated_bank(d: Deployment, name: str) -> Party:
    bank = d.new_member(Role.BANK, name)
    d.register_mandate(bank, d.auditee_ref, d.signer.address)
    return bank


def test_suspended_firm_cannot_request_and_reinstated_firm_can(deployment: Deployment) -> None:
    d = deployment
    firm = d.new_member(Role.AUDIT_FIRM, "firm-s")
    d.send(d.operator, d.members.suspend(firm.member_id))
    letter = d.plan_letter(firm=firm)
    d.assert_reverts(
        firm, d.request_call(letter), MemberRegistryMemberNotActive, firm.member_id, MemberStatus.SUSPENDED
    )
    d.send(d.operator, d.members.reinstate(firm.member_id))
    d.send(firm, d.request_call(letter))
    assert d.status(letter) == LetterStatus.REQUESTED


def test_suspended_firm_cannot_close_withdraw_or_follow_up(deployment: Deployment) -> None:
    d = deployment
    c = d.confirmations
    firm = d.new_member(Role.AUDIT_FIRM, "firm-s")
    replied = d.letter_in(LetterStatus.REPLIED, firm=firm)
    waiting = d.letter_in(LetterStatus.REQUESTED, firm=firm)
    d.send(d.operator, d.members.suspend(firm.member_id))
    for call in (c.close(replied.letter_id), c.withdraw(waiting.letter_id), c.follow_up(waiting.letter_id)):
        d.assert_reverts(firm, call, MemberRegistryMemberNotActive, firm.member_id, MemberStatus.SUSPENDED)
    d.send(d.operator, d.members.reinstate(firm.member_id))
    d.send(firm, c.close(replied.letter_id))
    assert d.status(replied) == LetterStatus.CLOSED


def test_suspended_bank_cannot_accept_reply_or_be_addressed_and_reinstated_bank_can(
    deployment: Deployment,
) -> None:
    d = deployment
    c = d.confirmations
    bank = _mandated_bank(d, "bank-s")
    authorised = d.letter_in(LetterStatus.AUTHORISED, bank=bank)
    accepted = d.letter_in(LetterStatus.ACCEPTED, bank=bank)
    d.send(d.operator, d.members.suspend(bank.member_id))
    not_active = (bank.member_id, MemberStatus.SUSPENDED)
    for call in (
        c.accept(authorised.letter_id),
        c.reject(authorised.letter_id, 1),
        c.reply(accepted.letter_id, os.urandom(32)),
        c.register_mandate(d.auditee_ref, Account.create().address, d.now() + DAY),
        c.revoke_mandate(d.auditee_ref, d.signer.address),
    ):
        d.assert_reverts(bank, call, MemberRegistryMemberNotActive, *not_active)
    # Nor may a firm address a new letter to it.
    d.assert_reverts(
        d.firm, d.request_call(d.plan_letter(bank=bank)), MemberRegistryMemberNotActive, *not_active
    )

    d.send(d.operator, d.members.reinstate(bank.member_id))
    d.send(bank, c.multicall([c.accept(authorised.letter_id), c.reply(accepted.letter_id, os.urandom(32))]))
    assert (d.status(authorised), d.status(accepted)) == (LetterStatus.ACCEPTED, LetterStatus.REPLIED)
    d.request(bank=bank)


def test_revoked_members_can_never_act_again(deployment: Deployment) -> None:
    d = deployment
    firm = d.new_member(Role.AUDIT_FIRM, "firm-r")
    bank = _mandated_bank(d, "bank-r")
    letter = d.letter_in(LetterStatus.AUTHORISED, firm=firm, bank=bank)
    for member in (firm, bank):
        d.send(d.operator, d.members.revoke(member.member_id))
    revoked = MemberStatus.REVOKED
    d.assert_reverts(
        bank, d.confirmations.accept(letter.letter_id), MemberRegistryMemberNotActive, bank.member_id, revoked
    )
    d.assert_reverts(
        firm,
        d.confirmations.withdraw(letter.letter_id),
        MemberRegistryMemberNotActive,
        firm.member_id,
        revoked,
    )
    d.assert_reverts(
        firm, d.request_call(d.plan_letter(firm=firm)), MemberRegistryMemberNotActive, firm.member_id, revoked
    )
    d.assert_reverts(
        firm,
        d.members.update_endpoint("https://x", b""),
        MemberRegistryMemberNotActive,
        firm.member_id,
        revoked,
    )
    # Its account and organisation stay taken.
    org_id = d.members.get_member(firm.member_id).org_id
    d.assert_reverts(
        d.operator,
        d.members.admit(
            account=firm.address, role=Role.AUDIT_FIRM, org_id=os.urandom(32), display_name="again"
        ),
        MemberRegistryAccountInUse,
        firm.address,
    )
    d.assert_reverts(
        d.operator,
        d.members.admit(
            account=Account.create().address, role=Role.AUDIT_FIRM, org_id=org_id, display_name="again"
        ),
        MemberRegistryOrganisationInUse,
        org_id,
    )


def test_require_active_views(deployment: Deployment) -> None:
    d = deployment
    m = d.members
    assert m.require_active_account(d.bank.address, Role.BANK) == d.bank.member_id
    m.require_active_member(d.bank.member_id, Role.BANK)
    with pytest.raises(MemberRegistryWrongRole) as wrong:
        m.require_active_member(d.bank.member_id, Role.AUDIT_FIRM)
    assert wrong.value.values == (d.bank.member_id, Role.AUDIT_FIRM, Role.BANK)
    with pytest.raises(MemberRegistryUnknownAccount):
        m.require_active_account(d.stranger.address, Role.BANK)
    with pytest.raises(MemberRegistryUnknownMember):
        m.require_active_member(0, Role.BANK)


# --- endpoints and account rotation ------------------------------------------------------------


def test_member_updates_its_endpoint_and_keys(deployment: Deployment) -> None:
    d = deployment
    member = d.new_member(Role.BANK, "bank-e")
    receipt = d.send(member, d.members.update_endpoint("https://gw.bank-e.example:8443", b"\x01\x02"))
    assert d.single_event(receipt, "MemberEndpointUpdated") == {
        "memberId": member.member_id,
        "endpoint": "https://gw.bank-e.example:8443",
        "encryptionKeys": b"\x01\x02",
    }
    record = d.members.get_member(member.member_id)
    assert (record.endpoint, record.encryption_keys) == ("https://gw.bank-e.example:8443", b"\x01\x02")
    d.assert_reverts(
        d.stranger,
        d.members.update_endpoint("https://x", b""),
        MemberRegistryUnknownAccount,
        d.stranger.address,
    )
    d.send(d.operator, d.members.suspend(member.member_id))
    d.assert_reverts(
        member,
        d.members.update_endpoint("https://x", b""),
        MemberRegistryMemberNotActive,
        member.member_id,
        MemberStatus.SUSPENDED,
    )


def test_account_rotation_keeps_the_history(deployment: Deployment) -> None:
    d = deployment
    c = d.confirmations
    firm = d.new_member(Role.AUDIT_FIRM, "firm-rot")
    letter = d.letter_in(LetterStatus.REPLIED, firm=firm)
    (new_sender,) = d.chain.new_senders(1)
    receipt = d.send(firm, d.members.rotate_account(new_sender.address))
    assert d.single_event(receipt, "MemberAccountRotated") == {
        "memberId": firm.member_id,
        "previousAccount": firm.address,
        "newAccount": new_sender.address,
    }
    assert d.members.member_id_of(firm.address) == 0
    assert d.members.member_id_of(new_sender.address) == firm.member_id
    assert d.members.get_member(firm.member_id).account == new_sender.address

    # The old account can no longer act.
    d.assert_reverts(firm, c.close(letter.letter_id), MemberRegistryUnknownAccount, firm.address)
    d.assert_reverts(
        firm, d.request_call(d.plan_letter(firm=firm)), MemberRegistryUnknownAccount, firm.address
    )
    # The new account closes the letter the old account requested: letters name the member.
    rotated = type(firm)(firm.name, new_sender, firm.member_id, firm.role)
    event = d.single_event(d.send(rotated, c.close(letter.letter_id)), "LetterClosed")
    assert event["firm"] == firm.member_id
    assert d.status(letter) == LetterStatus.CLOSED


def test_account_rotation_errors(deployment: Deployment) -> None:
    d = deployment
    member = d.new_member(Role.BANK, "bank-rot")
    m = d.members
    d.assert_reverts(member, m.rotate_account(ZERO_ADDRESS), MemberRegistryInvalidAdmission)
    d.assert_reverts(member, m.rotate_account(d.firm.address), MemberRegistryAccountInUse, d.firm.address)
    d.assert_reverts(member, m.rotate_account(member.address), MemberRegistryAccountInUse, member.address)
    d.assert_reverts(
        d.stranger,
        m.rotate_account(Account.create().address),
        MemberRegistryUnknownAccount,
        d.stranger.address,
    )
    d.send(d.operator, m.suspend(member.member_id))
    d.assert_reverts(
        member,
        m.rotate_account(Account.create().address),
        MemberRegistryMemberNotActive,
        member.member_id,
        MemberStatus.SUSPENDED,
    )


# --- mandates belong to the bank that registers them -------------------------------------------


def test_a_banks_mandate_authorises_only_its_own_letters(deployment: Deployment) -> None:
    d = deployment
    auditee_ref = os.urandom(32)
    signer = Account.create()
    d.register_mandate(d.bank2, auditee_ref, signer.address)
    assert d.confirmations.mandate_valid_until(d.bank2.member_id, auditee_ref, signer.address) > d.now()
    assert d.confirmations.mandate_valid_until(d.bank.member_id, auditee_ref, signer.address) == 0

    to_bank = d.request(bank=d.bank, auditee_ref=auditee_ref)
    to_bank2 = d.request(bank=d.bank2, auditee_ref=auditee_ref)
    signed = d.sign_authorisation([to_bank, to_bank2], signer=signer)
    d.assert_reverts(
        d.firm,
        d.authorise_call(to_bank, signed),
        ConfirmationSignerNotMandated,
        to_bank.letter_id,
        signer_id(signer.address),
    )
    d.send(d.firm, d.authorise_call(to_bank2, signed))
    assert (d.status(to_bank), d.status(to_bank2)) == (LetterStatus.REQUESTED, LetterStatus.AUTHORISED)
