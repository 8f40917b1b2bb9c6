"""The transaction sender's gas price: read once on a zero-fee chain, followed on one that charges
a base fee (it moves with every block's fill)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account

from node_gateway.chain.network import connect
from node_gateway.chain.transactions import TransactionSender

if TYPE_CHECKING:
    from conftest import Chain


def _counting_block_reads(sender: TransactionSender, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    reads: list[Any] = []
    real = sender.w3.eth.get_block

    def get_block(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sender.w3.eth, "get_block", get_block)
    return reads


def test_a_charged_base_fee_is_read_again_once_stale(
    in_process: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sender,) = in_process.new_senders(1)
    reads = _counting_block_reads(sender, monkeypatch)
    price = sender.gas_price
    assert price > 0  # the in-process chain charges a base fee
    assert sender.gas_price == price
    assert len(reads) == 1  # fresh: not read again
    monkeypatch.setattr("node_gateway.chain.transactions.GAS_PRICE_TTL_S", 0.0)
    assert sender.gas_price > 0
    assert len(reads) == 2


@pytest.mark.anvil
def test_a_zero_fee_chain_is_read_once(anvil_rpc_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = TransactionSender(connect(anvil_rpc_url), Account.create())
    reads = _counting_block_reads(sender, monkeypatch)
    monkeypatch.setattr("node_gateway.chain.transactions.GAS_PRICE_TTL_S", 0.0)
    assert sender.gas_price == 0
    assert sender.gas_price == 0
    assert len(reads) == 1
