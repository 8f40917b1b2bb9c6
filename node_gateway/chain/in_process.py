"""The in-process chain (eth-tester on py-evm) behind a provider that answers as a JSON-RPC node.

It has no server: ``InProcessProvider`` takes web3's requests as they would go over the wire and
answers them in the wire's form, so that everything above it (web3's own formatting,
``transactions.wire_rpc`` and ``wire_batch``, revert decoding) reads it as it reads any node:

- quantities and data as ``0x`` hex, receipts, blocks and logs with the JSON-RPC field names;
- a revert as the error object nodes send (code 3, ``execution reverted``, the revert data);
- ``eth_getLogs`` with OR-ed topics and a single address; ``eth_call`` without a sender;
- batches, answered request by request.

What is particular to it stays here: eth-tester is not thread-safe (one request at a time), and
py-evm estimates gas by a binary search over a dozen executions of the call, so an estimate here
is one execution, which tells whether the call reverts as the estimate would, and the block's gas
limit, which a sender takes as its cap.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.providers import JSONBaseProvider
from web3.providers.eth_tester.defaults import API_ENDPOINTS
from web3.providers.eth_tester.middleware import request_formatters, result_formatters
from web3.types import RPCEndpoint, RPCError, RPCResponse

if TYPE_CHECKING:
    from eth_tester import EthereumTester

# JSON-RPC error codes, as geth and anvil use them.
EXECUTION_REVERTED = 3
METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603


class _Refused(Exception):
    """An answer with an error object instead of a result."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            self.error["data"] = data


class InProcessProvider(JSONBaseProvider):
    """An eth-tester chain (py-evm) answering JSON-RPC requests as a node does."""

    def __init__(self, ethereum_tester: EthereumTester | None = None) -> None:
        super().__init__()
        if ethereum_tester is None:
            from eth_tester import EthereumTester, PyEVMBackend

            ethereum_tester = EthereumTester(PyEVMBackend())
        # The chain itself, for what a node offers no method for (tests travel in time with it).
        self.ethereum_tester = ethereum_tester
        self._lock = threading.RLock()  # eth-tester is not thread-safe
        self._ids = itertools.count()
        self._special: dict[str, Callable[[list[Any]], Any]] = {
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_getLogs": self._get_logs,
        }

    def is_connected(self, show_traceback: bool = False) -> Literal[True]:
        return True

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            response: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids)}
            try:
                response["result"] = _wire(self._answer(str(method), list(params or [])))
            except _Refused as refused:
                response["error"] = cast(RPCError, refused.error)
            except Exception as exc:  # a node answers with an error object, whatever went wrong
                response["error"] = {"code": INTERNAL_ERROR, "message": f"{type(exc).__name__}: {exc}"}
            return cast(RPCResponse, response)

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        return [self.make_request(method, params) for method, params in requests]

    # --- the methods ----------------------------------------------------------------------------

    def _answer(self, method: str, params: list[Any]) -> Any:
        special = self._special.get(method)
        if special is not None:
            return special(params)
        namespace, _, name = method.partition("_")
        endpoint = API_ENDPOINTS.get(namespace, {}).get(name)
        if endpoint is None:
            raise _Refused(METHOD_NOT_FOUND, f"the method {method} does not exist")
        try:
            result = endpoint(self.ethereum_tester, _inbound(method, params))
        except NotImplementedError as exc:
            raise _Refused(METHOD_NOT_FOUND, f"the method {method} is not available") from exc
        return _outbound(method, result)

    def _call(self, params: list[Any]) -> Any:
        transaction, block = self._transaction(params)
        try:
            return self.ethereum_tester.call(transaction, block)
        except TransactionFailed as exc:
            raise self._revert(transaction, block) from exc

    def _estimate_gas(self, params: list[Any]) -> int:
        transaction, block = self._transaction(params)
        if "to" not in transaction:  # a deployment: estimated for real
            try:
                return int(self.ethereum_tester.estimate_gas(transaction, block))
            except TransactionFailed as exc:
                raise _revert_of(exc) from exc
        self._call(params)  # reverts as the estimate would
        return int(self.ethereum_tester.get_block_by_number(block)["gas_limit"])

    def _get_logs(self, params: list[Any]) -> Any:
        (query,) = _inbound("eth_getLogs", params)
        topics = query.pop("topics", None)  # eth-tester matches plain topics only: OR-lists here
        if isinstance(query.get("address"), str):
            query["address"] = [query["address"]]  # it takes lists only
        logs = _outbound("eth_getLogs", self.ethereum_tester.get_logs(**query))
        return [log for log in logs if _topics_match(log["topics"], topics or [])]

    def _transaction(self, params: list[Any]) -> tuple[dict[str, Any], Any]:
        """A call's transaction and block in eth-tester's form, sent from a funded account when it
        names no sender (a node runs a call from nobody; eth-tester needs someone)."""
        transaction, *rest = _inbound("eth_call", [params[0], params[1] if len(params) > 1 else "latest"])
        transaction = dict(transaction)
        if not transaction.get("from"):
            transaction["from"] = self.ethereum_tester.get_accounts()[0]
        return transaction, rest[0]

    def _revert(self, transaction: dict[str, Any], block: Any) -> _Refused:
        """The error object for a call that reverted. eth-tester's call reports its revert data
        only as text; its gas estimate, which reverts at its first run, hands over the bytes."""
        try:
            self.ethereum_tester.estimate_gas(transaction, block)
        except TransactionFailed as exc:
            return _revert_of(exc)
        return _Refused(EXECUTION_REVERTED, "execution reverted")


def _revert_of(exc: TransactionFailed) -> _Refused:
    """eth-tester's failure as a node's: the revert data in the error object when there is any."""
    reason = exc.args[0] if exc.args else None
    data = reason.args[0] if isinstance(reason, Exception) and reason.args else reason
    if isinstance(data, bytes):
        return _Refused(EXECUTION_REVERTED, "execution reverted", Web3.to_hex(data))
    return _Refused(EXECUTION_REVERTED, f"execution reverted: {reason}")


def _inbound(method: str, params: list[Any]) -> list[Any]:
    """Wire-form parameters in eth-tester's form (web3's own eth-tester formatting)."""
    formatter = request_formatters.get(RPCEndpoint(method))
    return list(formatter(params)) if formatter is not None else params


def _outbound(method: str, result: Any) -> Any:
    """eth-tester's answer with JSON-RPC's field names (web3's own eth-tester formatting)."""
    formatter = (result_formatters or {}).get(RPCEndpoint(method))
    return formatter(result) if formatter is not None else result


def _topics_match(actual: Sequence[str], wanted: Sequence[Any]) -> bool:
    """eth_getLogs topic filtering: None matches anything, a list any of its members."""
    for position, want in enumerate(wanted):
        if want is None:
            continue
        have = actual[position].lower() if position < len(actual) else None
        options = want if isinstance(want, list) else [want]
        if have not in {
            (option if isinstance(option, str) else Web3.to_hex(option)).lower() for option in options
        }:
            return False
    return True


def _wire(value: Any) -> Any:
    """An answer in its wire form: quantities and data as 0x-hex strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return Web3.to_hex(value)
    if isinstance(value, Mapping):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value
