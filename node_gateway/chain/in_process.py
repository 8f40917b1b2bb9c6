"""The in-process chain (eth-tester on py-evm) answering a JSON-RPC request as a node would.

It has no JSON-RPC server: web3 hands its answers over as Python values, filters logs by plain
topics only and runs a call as a transaction from a funded account. ``wire_answer`` gives what a
node would have sent instead (quantities and data as ``0x`` hex, OR-ed topics matched, calls
without a sender), so that ``transactions.wire_batch`` reads both kinds of chain the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint


def wire_answer(w3: Web3, method: str, params: list[Any]) -> dict[str, Any]:
    """The JSON-RPC response object (``result`` or ``error``) for one request to the in-process chain."""
    if method == "eth_call" and "from" not in params[0]:
        # It runs a call as a transaction from a funded account; real nodes need no sender.
        params = [{**params[0], "from": w3.eth.accounts[0]}, *params[1:]]
    topics: list[Any] = []
    if method == "eth_getLogs" and params[0].get("topics"):
        # It filters by plain topics only; OR-lists are matched here instead.
        topics = params[0]["topics"]
        params = [{k: v for k, v in params[0].items() if k != "topics"}]
    if method == "eth_getLogs" and isinstance(params[0].get("address"), str):
        params = [{**params[0], "address": [params[0]["address"]]}]  # it takes lists only
    try:
        result = _wire(w3.manager.request_blocking(RPCEndpoint(method), params))
        if topics:
            result = [log for log in result if _topics_match(log["topics"], topics)]
        return {"result": result}
    except Exception as exc:  # what a node would have answered with an error object
        return {"error": str(exc)}


def _topics_match(actual: Sequence[str], wanted: Sequence[Any]) -> bool:
    """eth_getLogs topic filtering: None matches anything, a list any of its members."""
    for position, want in enumerate(wanted):
        if want is None:
            continue
        have = actual[position].lower() if position < len(actual) else None
        options = want if isinstance(want, list) else [want]
        if have not in {option.lower() for option in options}:
            return False
    return True


def _wire(value: Any) -> Any:
    """A JSON-RPC answer in its wire form: quantities and data as 0x-hex strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Mapping):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value
