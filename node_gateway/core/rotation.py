"""Moving a member's chain account to a new key (``rotateAccount``), its number and history kept.

Run with the gateway stopped: the new key is written (as a pending keystore) before the chain is
told, and replaces the old keystore only once the chain has the new account. Run again after a
crash, it finishes what it began: sends the same new account again if the chain has not taken it,
or only moves the keystore if it has.
"""

from __future__ import annotations

from pathlib import Path

from eth_account import Account

from node_gateway.chain.network import Network
from node_gateway.chain.transactions import TransactionSender
from node_gateway.core.keys import (
    KeystoreError,
    commit_pending_account,
    load_keys,
    open_pending_account,
    pending_account,
    write_pending_account,
)


def rotate_account(directory: Path, passphrase: str, network: Network) -> tuple[str, str]:
    """Moves the member's account to a new key; returns the old and the new address."""
    old = load_keys(directory, passphrase).chain_account
    members = network.members
    member_id = members.member_id_of(old.address)
    new = open_pending_account(directory, passphrase) if pending_account(directory) else None
    if new is not None and member_id == 0 and members.member_id_of(new.address) != 0:
        commit_pending_account(directory)  # the chain took it before the crash
        return old.address, new.address
    if member_id == 0:
        raise KeystoreError(f"the account {old.address} is no member's: there is nothing to rotate")
    if new is None:
        new = Account.create()
        write_pending_account(directory, new, passphrase)
    TransactionSender(network.w3, old).send(members.rotate_account(new.address))
    commit_pending_account(directory)
    return old.address, new.address
