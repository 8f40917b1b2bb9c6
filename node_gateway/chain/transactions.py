"""Local signing and raw transactions: one nonce manager per account, reverts decoded.

web3's ``transact`` asks the node for gas, nonce and chain id on every call; here the chain id and
gas price are read once, nonces are counted locally, and transactions are signed with eth-account
(coincurve-backed) and sent raw. Every node, the in-process chain included
(``node_gateway.chain.in_process``), is spoken to in JSON-RPC's terms: ``wire_rpc`` and
``wire_batch`` read its answers as sent, without web3's formatting where that costs more than
the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from requests.exceptions import ConnectionError as RequestsConnectionError
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError
from web3.types import BlockIdentifier, RPCEndpoint, TxParams, TxReceipt

from node_gateway.chain.errors import (
    ChainError,
    ContractRevert,
    NodeRejected,
    NodeUnavailable,
    TransactionFailed,
    decode_revert,
)
from node_gateway.protocol.hashing import from_hex, to_hex

T = TypeVar("T")

# Headroom over eth_estimateGas: the estimate is taken on the latest state, the transaction may
# land after other steps have changed storage from zero to non-zero.
GAS_HEADROOM = 1.25
RECEIPT_TIMEOUT_S = 120.0
RECEIPT_POLL_S = 0.05
# Where the node announces its blocks, a receipt is asked for again at the next block, or after
# this long if none was announced (a block missed, a connection that died unnoticed).
RECEIPT_WAIT_S = 1.0
GAS_PRICE_TTL_S = 30.0


class NewBlocks(Protocol):
    """Blocks as the node announces them (``node_gateway.services.heads.HeadListener``)."""

    def announced(self, max_age_s: float) -> int | None:
        """The last block announced within ``max_age_s``; None if none was."""

    def wait_after(self, number: int, timeout_s: float) -> None:
        """Returns once a block after ``number`` is announced, or after ``timeout_s``."""


@dataclass(frozen=True)
class Call:
    """One contract call, encoded and ready to send (or to bundle into a Multicall)."""

    to: ChecksumAddress | None  # None deploys a contract
    data: HexBytes
    label: str


def revert_error(exc: ContractLogicError) -> ChainError:
    """Our exception for web3's revert, decoded from its data when there is any."""
    data = exc.data
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        return decode_revert(from_hex(data))
    return TransactionFailed(str(exc.message or exc))


class NonceManager:
    """Hands out consecutive nonces for one account; resynchronises with the node on demand."""

    def __init__(self, w3: Web3, address: ChecksumAddress) -> None:
        self._w3 = w3
        self._address = address
        self._lock = threading.Lock()
        self._next: int | None = None

    def take(self) -> int:
        with self._lock:
            if self._next is None:
                self._next = self._w3.eth.get_transaction_count(self._address, "pending")
            nonce = self._next
            self._next += 1
            return nonce

    def resync(self) -> None:
        with self._lock:
            self._next = None


class TransactionSender:
    """Signs and sends the transactions of one account."""

    def __init__(self, w3: Web3, account: LocalAccount) -> None:
        self.w3 = w3
        self.account = account
        self.address: ChecksumAddress = account.address
        self.nonces = NonceManager(w3, self.address)
        self._chain_id: int | None = None
        self._gas_price: int | None = None
        self._gas_price_read_at = 0.0
        self._block_gas_limit = 0

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = rpc(lambda: self.w3.eth.chain_id)
        return self._chain_id

    @property
    def gas_price(self) -> int:
        """The base fee alone, which permissioned chains set to zero (then read once); on chains
        that charge one, twice it, so that it may rise before the transaction is mined, read
        again every GAS_PRICE_TTL_S as the base fee moves."""
        price = self._gas_price
        if price is None or (price > 0 and time.monotonic() - self._gas_price_read_at > GAS_PRICE_TTL_S):
            price = self._read_latest_block()
        return price

    @property
    def block_gas_limit(self) -> int:
        """The most gas a block holds (read with the base fee)."""
        if self._gas_price is None:
            self._read_latest_block()
        return self._block_gas_limit

    def _read_latest_block(self) -> int:
        block = rpc(lambda: self.w3.eth.get_block("latest"))
        price = self._gas_price = 2 * int(block.get("baseFeePerGas", 0))
        self._block_gas_limit = int(block["gasLimit"])
        self._gas_price_read_at = time.monotonic()
        return price

    def estimate_gas(self, call: Call) -> int:
        """The gas the call needs now, with headroom but no more than a block holds; raises the
        contract's error if it would revert."""
        params = _params(self.address, call)
        estimate = rpc(lambda: self.w3.eth.estimate_gas(params))
        return min(int(estimate * GAS_HEADROOM), self.block_gas_limit)

    def sign(self, call: Call, *, gas: int | None = None) -> HexBytes:
        """The signed raw transaction for ``call``, taking the next nonce."""
        gas_limit = gas if gas is not None else self.estimate_gas(call)
        tx: dict[str, Any] = {
            **_params(self.address, call),
            "gas": gas_limit,
            "gasPrice": self.gas_price,
            "nonce": self.nonces.take(),
            "chainId": self.chain_id,
            "value": 0,
        }
        return HexBytes(self.account.sign_transaction(tx).raw_transaction)

    def submit(self, call: Call, *, gas: int | None = None) -> HexBytes:
        """Signs and sends ``call`` without waiting; returns the transaction hash."""
        return self.broadcast(self.sign(call, gas=gas))

    def broadcast(self, raw: HexBytes) -> HexBytes:
        """Sends a signed transaction; returns its hash. If the node refuses it, the nonces are
        read again (the one it took is unused)."""
        try:
            return rpc(lambda: self.w3.eth.send_raw_transaction(raw))
        except ChainError:
            self.nonces.resync()
            raise

    def wait(self, tx_hash: HexBytes, call: Call | None = None) -> TxReceipt:
        """Waits for the receipt; a reverted transaction raises its decoded error."""
        try:
            receipt = rpc(lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, RECEIPT_TIMEOUT_S, 0.05))
        except TimeExhausted as exc:
            raise TransactionFailed(f"transaction {tx_hash.hex()} not mined in time") from exc
        if receipt["status"] != 1:
            raise (
                self._replay_failure(call, receipt)
                if call
                else TransactionFailed(f"transaction {tx_hash.hex()} reverted")
            )
        return receipt

    def confirm(self, tx_hash: HexBytes, call: Call | None = None, *, blocks: NewBlocks | None = None) -> int:
        """Waits until the transaction is mined; returns its block. A reverted one raises its
        decoded error. Like ``wait``, but it reads the receipt as the node sent it: web3 formats
        every log of it, and a bundle's receipt holds a log per step. With ``blocks``, the receipt
        is asked for again when the next block is announced; without, or while none is, every
        RECEIPT_POLL_S."""
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        while True:
            head = None if blocks is None else blocks.announced(RECEIPT_TIMEOUT_S)
            receipt = wire_rpc(self.w3, "eth_getTransactionReceipt", [to_hex(tx_hash)])
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                raise TransactionFailed(f"transaction {tx_hash.hex()} not mined in time")
            if blocks is None or head is None:
                time.sleep(RECEIPT_POLL_S)
            else:
                blocks.wait_after(head, RECEIPT_WAIT_S)
        block = int(receipt["blockNumber"], 16)
        if int(receipt["status"], 16) != 1:
            if call is None:
                raise TransactionFailed(f"transaction {tx_hash.hex()} reverted")
            raise self._replay_failure(call, cast(TxReceipt, {"blockNumber": block}))
        return block

    def send(self, call: Call, *, gas: int | None = None) -> TxReceipt:
        """Signs, sends and waits for ``call``."""
        return self.wait(self.submit(call, gas=gas), call)

    def _replay_failure(self, call: Call, receipt: TxReceipt) -> ChainError:
        """Re-runs a mined, reverted call on the state before its block to learn its error."""
        before: BlockIdentifier = max(receipt["blockNumber"] - 1, 0)
        try:
            rpc(lambda: self.w3.eth.call(_params(self.address, call), before))
        except ContractRevert as exc:
            return exc
        return TransactionFailed(f"{call.label} reverted (out of gas or state changed in its block)")


def _params(sender: ChecksumAddress, call: Call) -> TxParams:
    if call.to is None:
        return {"from": sender, "data": call.data}
    return {"from": sender, "to": call.to, "data": call.data}


def call_view(w3: Web3, call: Call, block: BlockIdentifier = "latest") -> bytes:
    """Runs a read-only call; a revert raises the contract's error."""
    if call.to is None:
        raise ValueError("a view call needs a contract address")
    to = call.to
    return bytes(rpc(lambda: w3.eth.call({"to": to, "data": call.data}, block)))


def wire_rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    """The result of a JSON-RPC call as the node sent it (hex strings), without web3's formatting
    of every field, which costs more than the call when the answer holds hundreds of logs."""
    response = rpc(lambda: w3.provider.make_request(RPCEndpoint(method), params))
    if "error" in response:
        raise NodeRejected(f"{method}: {response['error']}")
    return response.get("result")


def wire_batch(w3: Web3, requests: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """The results of ``requests`` sent as one JSON-RPC batch, in order, each as the node sent it
    (hex strings); a request the node refused holds its ``NodeRejected`` in its place, unraised.
    A node that refuses the whole batch raises NodeRejected, one that does not answer
    NodeUnavailable."""
    batch = [(RPCEndpoint(method), params) for method, params in requests]
    if not batch:
        return []
    responses = rpc(lambda: w3.provider.make_batch_request(batch))  # type: ignore[attr-defined]
    if not isinstance(responses, list):
        raise NodeRejected(f"the node refused a batch: {responses.get('error')}")
    return [
        NodeRejected(f"{method}: {_error_message(response['error'])}")
        if "error" in response
        else response.get("result")
        for (method, _), response in zip(batch, responses, strict=True)
    ]


def _error_message(error: Any) -> str:
    return str(error.get("message") if isinstance(error, dict) else error)


def rpc(request: Callable[[], T]) -> T:
    """Runs a node request, translating its failures into this package's exceptions."""
    try:
        return request()
    except ContractLogicError as exc:
        raise revert_error(exc) from exc
    except (RequestsConnectionError, ConnectionError, OSError) as exc:
        raise NodeUnavailable(str(exc)) from exc
    except Web3RPCError as exc:
        raise NodeRejected(str(exc)) from exc
