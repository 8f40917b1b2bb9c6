"""The in-process chain answers JSON-RPC as anvil does, so nothing above the provider tells them
apart: each request here goes to both backends and is read the same way."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from node_gateway.chain.contracts import LetterStatus, status_bitmap
from node_gateway.chain.errors import ConfirmationUnexpectedStatus, decode_revert
from node_gateway.chain.transactions import rpc, wire_batch, wire_rpc
from node_gateway.protocol.hashing import from_hex, to_hex

if TYPE_CHECKING:
    from conftest import Deployment


def _call(deployment: Deployment, data: bytes) -> dict[str, Any]:
    return {"to": deployment.confirmations.address, "data": to_hex(data)}


def test_quantities_blocks_and_receipts_come_in_the_wire_form(deployment: Deployment) -> None:
    d = deployment
    head = wire_rpc(d.w3, "eth_blockNumber", [])
    assert isinstance(head, str)
    assert head.startswith("0x")
    block = wire_rpc(d.w3, "eth_getBlockByNumber", [head, False])
    assert int(block["number"], 16) == int(head, 16)
    assert isinstance(block["timestamp"], str)
    assert isinstance(block["gasLimit"], str)
    letter = d.plan_letter()
    receipt = d.send(d.firm, d.request_call(letter))
    wired = wire_rpc(d.w3, "eth_getTransactionReceipt", [to_hex(receipt["transactionHash"])])
    assert (wired["status"], int(wired["blockNumber"], 16)) == ("0x1", receipt["blockNumber"])
    (log,) = wired["logs"]
    assert set(log) >= {"address", "topics", "data", "blockNumber", "transactionHash", "logIndex"}
    assert from_hex(log["topics"][1]) == letter.letter_id


def test_a_revert_is_an_error_object_with_its_data(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.REQUESTED)
    data = d.confirmations.encode_call("close", letter.letter_id)
    params = [{**_call(d, data), "from": d.firm.address}, "latest"]
    response = d.w3.provider.make_request("eth_call", params)  # type: ignore[arg-type]
    error = response["error"]
    assert error["code"] == 3
    reverted = decode_revert(from_hex(error["data"]))
    assert isinstance(reverted, ConfirmationUnexpectedStatus)
    assert reverted.values == (
        letter.letter_id,
        LetterStatus.REQUESTED,
        status_bitmap(LetterStatus.REPLIED),
    )
    # And through web3, as the sender and the readers meet it.
    with pytest.raises(ConfirmationUnexpectedStatus):
        rpc(lambda: d.w3.eth.call(params[0]))  # type: ignore[arg-type]


def test_a_call_needs_no_sender(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.REQUESTED)
    data = d.confirmations.encode_call("getLetter", letter.letter_id)
    answer = wire_rpc(d.w3, "eth_call", [_call(d, data), "latest"])
    ((status, firm, bank, *_),) = d.confirmations.decode_result("getLetter", from_hex(answer))
    assert (status, firm, bank) == (LetterStatus.REQUESTED, letter.firm, letter.bank)


def test_logs_by_or_ed_topics_and_batches(deployment: Deployment) -> None:
    d = deployment
    first, second, other = (d.letter_in(LetterStatus.REQUESTED) for _ in range(3))
    since = hex(d.network.deployment_block)
    query = {
        "address": d.confirmations.address,
        "fromBlock": since,
        "toBlock": "latest",
        "topics": [None, [to_hex(first.letter_id), to_hex(second.letter_id)]],
    }
    logs = wire_rpc(d.w3, "eth_getLogs", [query])
    assert {from_hex(log["topics"][1]) for log in logs} == {first.letter_id, second.letter_id}
    assert other.letter_id not in {from_hex(log["topics"][1]) for log in logs}
    head, found, refused = wire_batch(
        d.w3, [("eth_blockNumber", []), ("eth_getLogs", [query]), ("no_suchMethod", [])]
    )
    assert int(head, 16) >= int(since, 16)
    assert found == logs
    assert isinstance(refused, Exception)


def test_requests_from_several_threads(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.AUTHORISED)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                assert d.confirmations.get_letter(letter.letter_id).status == LetterStatus.AUTHORISED
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
