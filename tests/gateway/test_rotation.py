"""Rotating a member's chain account (`confirmnet gateway rotate-account`) on the in-process chain:
the member keeps its number with the new key, the keystore holds the new key, and a rotation cut
short by a crash is finished by running it again, before the chain was told or after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import init_bank_gateway
from eth_account import Account
from typer.testing import CliRunner

from confirmnet.cli import app
from node_gateway.chain.contracts import Role
from node_gateway.chain.network import Network, deploy_network, fund_from_node
from node_gateway.chain.transactions import TransactionSender
from node_gateway.core.keys import (
    CHAIN_KEYSTORE,
    PENDING_ACCOUNT,
    KeystoreError,
    change_passphrase,
    create_keys,
    load_keys,
    pending_account,
    write_pending_account,
)
from node_gateway.core.rotation import rotate_account
from node_gateway.protocol.envelopes import EnvelopeSuite

if TYPE_CHECKING:
    from conftest import Chain

PASSPHRASE = "a long and unguessable passphrase"


def _member(in_process: Chain, directory: Path) -> tuple[Network, int]:
    """A network with the keys in ``directory`` admitted as a bank; its member number."""
    keys = create_keys(directory, PASSPHRASE, (EnvelopeSuite.X25519,))
    (operator,) = in_process.new_senders(1)
    network = deploy_network(operator, operator_org_id=b"\x01" * 32, operator_name="operator")
    operator.send(
        network.members.admit(
            account=keys.chain_account.address, role=Role.BANK, org_id=b"\x02" * 32, display_name="bank"
        )
    )
    fund_from_node(in_process.w3, [keys.chain_account.address])
    return network, network.members.member_id_of(keys.chain_account.address)


def test_the_member_keeps_its_number_under_the_new_key(in_process: Chain, tmp_path: Path) -> None:
    network, member_id = _member(in_process, tmp_path)
    old, new = rotate_account(tmp_path, PASSPHRASE, network)
    assert old != new
    assert network.members.member_id_of(new) == member_id
    assert network.members.member_id_of(old) == 0
    assert network.members.get_member(member_id).account == new
    assert load_keys(tmp_path, PASSPHRASE).chain_account.address == new
    assert pending_account(tmp_path) is None


def test_a_rotation_cut_short_before_the_chain_was_told_sends_the_same_key(
    in_process: Chain, tmp_path: Path
) -> None:
    network, member_id = _member(in_process, tmp_path)
    waiting = Account.create()
    write_pending_account(tmp_path, waiting, PASSPHRASE)  # the crash: written, never sent
    with pytest.raises(KeystoreError, match="rotation is pending"):
        change_passphrase(tmp_path, PASSPHRASE, "another long passphrase")
    _, new = rotate_account(tmp_path, PASSPHRASE, network)
    assert new == waiting.address
    assert network.members.get_member(member_id).account == waiting.address
    assert load_keys(tmp_path, PASSPHRASE).chain_account.address == waiting.address


def test_a_rotation_cut_short_after_the_chain_took_it_only_moves_the_keystore(
    in_process: Chain, tmp_path: Path
) -> None:
    network, member_id = _member(in_process, tmp_path)
    old = load_keys(tmp_path, PASSPHRASE).chain_account
    waiting = Account.create()
    write_pending_account(tmp_path, waiting, PASSPHRASE)
    TransactionSender(in_process.w3, old).send(
        network.members.rotate_account(waiting.address)
    )  # the crash: sent
    rotated = network.members.get_member(member_id)
    assert rotated.account == waiting.address
    assert rotate_account(tmp_path, PASSPHRASE, network) == (old.address, waiting.address)
    assert load_keys(tmp_path, PASSPHRASE).chain_account.address == waiting.address
    assert not (tmp_path / PENDING_ACCOUNT).exists()
    assert network.members.get_member(member_id).account == waiting.address  # no second rotation


def test_an_account_that_is_no_members_is_not_rotated(in_process: Chain, tmp_path: Path) -> None:
    (operator,) = in_process.new_senders(1)
    network = deploy_network(operator, operator_org_id=b"\x01" * 32, operator_name="operator")
    create_keys(tmp_path, PASSPHRASE, (EnvelopeSuite.X25519,))
    before = json.loads((tmp_path / CHAIN_KEYSTORE).read_text())
    with pytest.raises(KeystoreError, match="no member's"):
        rotate_account(tmp_path, PASSPHRASE, network)
    assert json.loads((tmp_path / CHAIN_KEYSTORE).read_text()) == before
    assert pending_account(tmp_path) is None


def test_a_gateway_does_not_start_with_a_rotation_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    config = init_bank_gateway(runner, tmp_path)
    write_pending_account(tmp_path / "data" / "keys", Account.create(), PASSPHRASE)
    serve = runner.invoke(app, ["gateway", "serve", "--config", str(config)])
    assert serve.exit_code == 2
    assert "rotation is pending" in serve.output
