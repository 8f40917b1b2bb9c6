"""Which (bank, auditee reference) pairs a bank ever registered a mandate for, read from its
events by topic: what the firm checks before it puts a reference on chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from eth_account import Account

from node_gateway.chain import contracts
from node_gateway.chain.contracts import Role

if TYPE_CHECKING:
    from conftest import Chain, Deployment

from conftest import random_bytes32


def test_only_the_pairs_the_bank_registered_are_found(deployment: Deployment) -> None:
    mine, revoked, foreign = random_bytes32(), random_bytes32(), random_bytes32()
    signer = Account.create().address
    deployment.register_mandate(deployment.bank, mine, signer)
    deployment.register_mandate(deployment.bank, revoked, signer)
    deployment.send(deployment.bank, deployment.confirmations.revoke_mandate(revoked, signer))
    other_bank = deployment.new_member(Role.BANK, "另一家银行")
    deployment.register_mandate(other_bank, foreign, signer)
    bank = deployment.bank.member_id
    pairs = [(bank, mine), (bank, revoked), (bank, foreign), (other_bank.member_id, mine)]
    found = deployment.confirmations.mandated_references(pairs, deployment.network.deployment_block)
    # A revoked mandate still shows the reference is the bank's customer's.
    assert found == {(bank, mine), (bank, revoked)}


def test_the_lookup_reads_in_windows(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = chain.deploy()
    reference = random_bytes32()
    deployment.register_mandate(deployment.bank, reference, Account.create().address)
    pair = (deployment.bank.member_id, reference)
    monkeypatch.setattr(contracts, "LOG_WINDOW", 2)  # a node that serves two blocks at a time
    assert deployment.confirmations.mandated_references([pair], deployment.network.deployment_block) == {pair}
