"""The verifier's log reader (the contract wrappers' decode_wire_logs, which reads each word
itself) gives what web3's own ``process_log`` decodes: on the real logs of a recorded network, and
on a log of every event of both contracts' ABIs, those with dynamic inputs (a string, bytes)
included."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_typing import BlockNumber
from hexbytes import HexBytes
from web3 import Web3
from web3.types import LogReceipt

from auditor_client import verifier
from node_gateway.chain.contracts import ChainEvent, ConfirmationRegistry, MemberRegistry, _BoundContract
from node_gateway.chain.network import connect
from node_gateway.protocol.hashing import to_hex

from .conftest import Letters


def _web3_event(contract: _BoundContract, log: LogReceipt) -> ChainEvent:
    """``log`` as web3's contract object decodes it, in the chain layer's form."""
    decoded = contract.contract.get_event_by_topic(to_hex(log["topics"][0]))().process_log(log)
    return ChainEvent(
        name=decoded["event"],
        args=dict(decoded["args"]),
        address=decoded["address"],
        block_number=decoded["blockNumber"],
        transaction_hash=bytes(decoded["transactionHash"]),
        log_index=decoded["logIndex"],
        block_timestamp=_timestamp(log.get("blockTimestamp")),
    )


def _timestamp(value: Any) -> int | None:
    """web3 leaves the node's blockTimestamp in hex (no formatter of its own for it)."""
    return int(value, 16) if isinstance(value, str) else value


@pytest.mark.anvil
def test_real_logs_read_from_the_wire_are_what_web3_decodes(recorded: Letters) -> None:
    network = recorded.network_file
    w3 = connect(network.rpc_url)
    node = verifier._Node(w3)
    for contract in (
        ConfirmationRegistry(w3, network.confirmation_registry),
        MemberRegistry(w3, network.member_registry),
    ):
        wire = node.logs(contract.address, 0)
        formatted = w3.eth.get_logs({"address": contract.address, "fromBlock": 0, "toBlock": "latest"})
        assert len(wire) == len(formatted) > 0
        assert contract.decode_wire_logs(wire) == [_web3_event(contract, log) for log in formatted]
        names = {event.name for event in contract.decode_wire_logs(wire)}
        if isinstance(contract, ConfirmationRegistry):
            assert {"LetterRequested", "LetterAuthorised", "LetterReplied", "LetterClosed"} <= names


def _value(kind: str, rng: random.Random) -> Any:
    if kind == "address":
        return Web3.to_checksum_address(rng.randbytes(20))
    if kind == "string":
        return "https://银行.example/confirm?" + str(rng.getrandbits(40))
    if kind == "bytes":
        return rng.randbytes(rng.randrange(0, 90))
    if kind.startswith("bytes"):
        return rng.randbytes(int(kind[5:]))
    if kind == "bool":
        return rng.random() < 0.5
    return rng.getrandbits(int(kind[4:]))  # uintN: every integer input of ours is unsigned


@pytest.mark.parametrize("contract_class", [ConfirmationRegistry, MemberRegistry])
def test_a_log_of_every_event_reads_as_web3_decodes_it(contract_class: type[_BoundContract]) -> None:
    """Each event of the ABI, its inputs random values of their types, as a node would send its log
    (hex strings) and as web3 formats it: the same event, the dynamic inputs through decode_log."""
    rng = random.Random(15)
    contract = contract_class(Web3(), "0x" + rng.randbytes(20).hex())
    events = [item for item in contract.contract.abi if item["type"] == "event"]
    assert len(events) >= 8
    for index, item in enumerate(events):
        indexed = [i for i in item["inputs"] if i["indexed"]]
        data = [i for i in item["inputs"] if not i["indexed"]]
        words = [abi_encode([i["type"]], [_value(i["type"], rng)]) for i in indexed]
        body = abi_encode([i["type"] for i in data], [_value(i["type"], rng) for i in data])
        topics = [HexBytes(contract.contract.events[item["name"]].topic), *words]
        block, transaction, block_hash = rng.randrange(1, 2**40), rng.randbytes(32), rng.randbytes(32)
        wire = {
            "address": contract.address.lower(),
            "topics": [to_hex(topic) for topic in topics],
            "data": to_hex(body),
            "blockNumber": hex(block),
            "transactionHash": to_hex(transaction),
            "transactionIndex": "0x0",
            "blockHash": to_hex(block_hash),
            "logIndex": hex(index),
            "removed": False,
        }
        formatted: LogReceipt = {
            "address": contract.address,
            "topics": [HexBytes(topic) for topic in topics],
            "data": HexBytes(body),
            "blockNumber": BlockNumber(block),
            "transactionHash": HexBytes(transaction),
            "transactionIndex": 0,
            "blockHash": HexBytes(block_hash),
            "logIndex": index,
            "removed": False,
        }
        assert contract.decode_wire_logs([wire]) == [_web3_event(contract, formatted)], item["name"]
