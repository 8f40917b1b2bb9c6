"""The node's JSON-RPC through ``connect``'s provider: orjson writes the requests and msgspec reads
the answers, each giving what web3's own encoder and parser give, and web3's way wherever they
cannot (bytes in a request, NaN in an answer). No node: the provider's two ends alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hexbytes import HexBytes
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint

from node_gateway.chain.network import connect

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
)


def _provider() -> Any:
    provider = connect("http://127.0.0.1:9").provider  # never asked: nothing listens there
    assert type(provider) is not HTTPProvider
    return provider


def _without_id(encoded: bytes) -> dict[str, Any]:
    request = json.loads(encoded)
    assert isinstance(request.pop("id"), int)
    return dict(request)


@settings(max_examples=200, deadline=None)
@given(st.lists(_json, max_size=4))
def test_a_request_is_the_one_web3_writes(params: list[Any]) -> None:
    provider, web3_own = _provider(), Web3.HTTPProvider("http://127.0.0.1:9")
    ours = provider.encode_rpc_request(RPCEndpoint("eth_call"), params)
    assert _without_id(ours) == _without_id(web3_own.encode_rpc_request(RPCEndpoint("eth_call"), params))


def test_bytes_in_a_request_are_written_as_web3_writes_them() -> None:
    provider, web3_own = _provider(), Web3.HTTPProvider("http://127.0.0.1:9")
    params = [{"data": HexBytes("0x1234"), "raw": b"\x00\xff"}, "latest"]
    ours = provider.encode_rpc_request(RPCEndpoint("eth_call"), params)
    assert _without_id(ours) == _without_id(web3_own.encode_rpc_request(RPCEndpoint("eth_call"), params))


def test_a_batch_s_ids_rise_in_its_order_when_a_request_goes_web3_s_way() -> None:
    provider = _provider()
    batch = [("eth_chainId", []), ("eth_call", [{"data": b"\x01"}]), ("eth_blockNumber", [])]
    ids = [request["id"] for request in json.loads(provider.encode_batch_rpc_request(batch))]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


@settings(max_examples=200, deadline=None)
@given(_json)
def test_an_answer_reads_as_web3_reads_it(result: Any) -> None:
    raw = json.dumps([{"jsonrpc": "2.0", "id": 1, "result": result}], ensure_ascii=False).encode("utf-8")
    assert _provider().decode_rpc_response(raw) == HTTPProvider.decode_rpc_response(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"jsonrpc":"2.0","id":1,"result":"0x1","result":"0x2"}',  # the last of a repeated key
        b'{"jsonrpc":"2.0","id":1,"result":123456789012345678901234567890}',  # exact
        b'{"jsonrpc":"2.0","id":1,"result":NaN}',  # msgspec refuses it: web3's parser reads it
        b'{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"execution reverted: \\u00e9"}}',
    ],
)
def test_answers_at_the_edges_read_as_web3_reads_them(raw: bytes) -> None:
    ours, theirs = _provider().decode_rpc_response(raw), HTTPProvider.decode_rpc_response(raw)
    assert json.dumps(ours) == json.dumps(theirs)
