"""The auditee references under which banks mandate a signer, found from the bank's
MandateRegistered events by topic and kept where the mandate is still valid: what the firm relays
with an authorisation or refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from eth_account import Account

from node_gateway.chain import contracts
from node_gateway.chain.contracts import Role

if TYPE_CHECKING:
    from conftest import Chain, Deployment

from conftest import random_bytes32

HOUR = 3600


def test_only_the_signers_valid_references_at_each_bank_are_found(deployment: Deployment) -> None:
    d = deployment
    signer = Account.create().address
    mine, revoked, expiring, someone_elses = (random_bytes32() for _ in range(4))
    d.register_mandate(d.bank, mine, signer)
    d.register_mandate(d.bank, revoked, signer)
    d.send(d.bank, d.confirmations.revoke_mandate(revoked, signer))
    d.register_mandate(d.bank, expiring, signer, valid_for=HOUR)
    d.register_mandate(d.bank, someone_elses, Account.create().address)
    at_bank2 = random_bytes32()
    d.register_mandate(d.bank2, at_bank2, signer)
    other_bank = d.new_member(Role.BANK, "另一家银行")
    banks = [d.bank.member_id, d.bank2.member_id, other_bank.member_id]

    found = d.confirmations.signer_references(signer, banks, d.network.deployment_block, now=d.now())
    assert found == {
        d.bank.member_id: sorted([mine, expiring]),
        d.bank2.member_id: [at_bank2],
        other_bank.member_id: [],
    }
    later = d.confirmations.signer_references(
        signer, banks[:1], d.network.deployment_block, now=d.now() + 2 * HOUR
    )
    assert later == {d.bank.member_id: [mine]}


def test_the_lookup_reads_in_windows(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = chain.deploy()
    reference, signer = random_bytes32(), Account.create().address
    deployment.register_mandate(deployment.bank, reference, signer)
    bank = deployment.bank.member_id
    monkeypatch.setattr(contracts, "LOG_WINDOW", 2)  # a node that serves two blocks at a time
    found = deployment.confirmations.signer_references(
        signer, [bank], deployment.network.deployment_block, now=deployment.now()
    )
    assert found == {bank: [reference]}
