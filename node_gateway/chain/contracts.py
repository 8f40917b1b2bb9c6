"""Typed wrappers for MemberRegistry and ConfirmationRegistry: every function and event.

Write functions return an encoded :class:`Call` that a :class:`TransactionSender` sends or that
``ConfirmationRegistry.multicall`` bundles; read functions query the node and raise the contracts'
own exceptions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NamedTuple

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput
from web3.types import BlockIdentifier, FilterParams, LogReceipt, TxReceipt

from node_gateway.chain.artifacts import load_artifact
from node_gateway.chain.signers import Signer, as_signer, signer_id
from node_gateway.chain.transactions import Call, call_view, rpc, wire_rpc
from node_gateway.protocol.hashing import from_hex, to_hex

# The lifecycle's enums, also the contracts' own: here beside MemberStatus and the others.
from node_gateway.protocol.lifecycle import LetterStatus as LetterStatus
from node_gateway.protocol.lifecycle import Role as Role


class MemberStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class OperatorAction(IntEnum):
    """A change to the operators, which takes a proposal (MemberRegistry's governance)."""

    NONE = 0
    ADMIT = 1
    SUSPEND = 2
    REINSTATE = 3
    REVOKE = 4


class ProposalState(IntEnum):
    """Where a proposal stands; WAITING becomes READY once the governance delay has passed."""

    NONE = 0
    WAITING = 1
    READY = 2
    EXECUTED = 3
    CANCELLED = 4


def proposal_state_bitmap(*states: ProposalState) -> bytes:
    """The ``expectedStates`` bitmap of MemberRegistryUnexpectedProposalState for ``states``."""
    return sum(1 << state for state in states).to_bytes(32, "big")


def status_bitmap(*states: LetterStatus) -> bytes:
    """The ``expectedStates`` bitmap of ConfirmationUnexpectedStatus for ``states``."""
    return sum(1 << state for state in states).to_bytes(32, "big")


@dataclass(frozen=True)
class Member:
    member_id: int
    role: Role
    status: MemberStatus
    account: ChecksumAddress
    org_id: bytes
    display_name: str
    endpoint: str
    encryption_keys: bytes


@dataclass(frozen=True)
class Proposal:
    """A proposed change to the operators, its state as of the block it was read at."""

    proposal_id: int
    action: OperatorAction
    state: ProposalState
    member_id: int  # the operator concerned; for an admission 0 until executed
    proposer: int
    ready_at: int  # the earliest time it can be executed
    approvers: tuple[int, ...]  # member numbers, the proposer first
    candidate: Member | None  # an admission's new operator (status NONE until admitted)


@dataclass(frozen=True)
class Letter:
    letter_id: bytes
    status: LetterStatus
    firm: int
    bank: int
    due_at: int
    auditee_ref: bytes  # zero until authorised or refused: the reference the signer's mandate is under
    letter_hash: bytes
    reply_hash: bytes


@dataclass(frozen=True)
class Authorisation:
    """The EIP-712 struct the auditee's signer signs to authorise letters."""

    requests_root: bytes
    firm: int
    valid_until: int
    nonce: int

    def as_tuple(self) -> tuple[bytes, int, int, int]:
        return (self.requests_root, self.firm, self.valid_until, self.nonce)


@dataclass(frozen=True)
class Refusal:
    """The EIP-712 struct the auditee's signer signs to refuse letters."""

    requests_root: bytes
    firm: int
    reason: int
    valid_until: int
    nonce: int

    def as_tuple(self) -> tuple[bytes, int, int, int, int]:
        return (self.requests_root, self.firm, self.reason, self.valid_until, self.nonce)


@dataclass(frozen=True)
class ChainEvent:
    """A decoded event of one of the contracts, with where it happened."""

    name: str
    args: Mapping[str, Any]
    address: ChecksumAddress
    block_number: int
    transaction_hash: bytes
    log_index: int
    block_timestamp: int | None = None  # when the node includes it in the log (most do)


READ_BATCH = 256  # reads bundled into one eth_call
# Blocks per eth_getLogs: Besu refuses wider ranges by default (rpc-max-logs-range).
LOG_WINDOW = 5000


def block_windows(first: int, last: int) -> list[tuple[int, int]]:
    """[first, last] cut into consecutive inclusive ranges of at most ``LOG_WINDOW`` blocks."""
    return [(start, min(start + LOG_WINDOW - 1, last)) for start in range(first, last + 1, LOG_WINDOW)]


def abi_type(item: Mapping[str, Any]) -> str:
    """The canonical type of an ABI input or output, tuples spelled out: ``(bytes32,uint32)[]``."""
    kind: str = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in item["components"]) + ")" + kind[len("tuple") :]
    return kind


@functools.lru_cache(maxsize=4096)
def _checksum(address: str) -> ChecksumAddress:
    """EIP-55 costs a keccak per address; the same few members' addresses recur in every event."""
    return Web3.to_checksum_address(address)


def _checksummed(item: Mapping[str, Any], value: Any) -> Any:
    """A decoded value with its addresses in checksum form, as web3 returns them."""
    kind: str = item["type"]
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [_checksummed(inner, v) for v in value]
    if kind == "address":
        return _checksum(value)
    if kind == "tuple":
        return tuple(_checksummed(c, v) for c, v in zip(item["components"], value, strict=True))
    return value


def _has_address(item: Mapping[str, Any]) -> bool:
    return item["type"].startswith("address") or any(_has_address(c) for c in item.get("components", ()))


@dataclass(frozen=True)
class _Function:
    """A function's selector and types, to encode calls and decode results without web3's lookups."""

    selector: bytes
    inputs: tuple[str, ...]
    outputs: list[dict[str, Any]]
    output_types: tuple[str, ...]

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> _Function:
        inputs = tuple(abi_type(i) for i in item["inputs"])
        return cls(
            selector=keccak(text=f"{item['name']}({','.join(inputs)})")[:4],
            inputs=inputs,
            outputs=list(item.get("outputs", [])),
            output_types=tuple(abi_type(o) for o in item.get("outputs", [])),
        )

    def encode(self, args: Sequence[Any]) -> bytes:
        for kind, value in zip(self.inputs, args, strict=True):
            _check_fixed_bytes(kind, value)
        return self.selector + abi_encode(self.inputs, list(args))

    def decode(self, data: bytes) -> Any:
        """The result as web3 gives it: one value, or a tuple of several; addresses checksummed."""
        values = self.decode_all(data)
        return values[0] if len(values) == 1 else values

    def decode_all(self, data: bytes) -> tuple[Any, ...]:
        """Every output value, in a tuple even when there is one; addresses checksummed."""
        try:
            values = abi_decode(self.output_types, data)
        except DecodingError as exc:
            raise BadFunctionCallOutput(f"could not decode {data.hex()} as {self.output_types}") from exc
        return tuple(
            _checksummed(o, v) if _has_address(o) else v for o, v in zip(self.outputs, values, strict=True)
        )


def _check_fixed_bytes(kind: str, value: Any) -> None:
    """bytesN arguments must be exactly N bytes (eth-abi would pad a shorter value silently)."""
    fixed = kind.startswith("bytes") and kind[5:].isdigit() and isinstance(value, bytes | bytearray)
    if fixed and len(value) != int(kind[5:]):
        raise ValueError(f"a {kind} argument must be {kind[5:]} bytes, not {len(value)}")


@dataclass(frozen=True)
class _Event:
    """An event's name and how its topics and data decode."""

    name: str
    topics: list[dict[str, Any]]  # the indexed inputs, in order
    data: list[dict[str, Any]]  # the others, in order
    data_types: tuple[str, ...]
    # Each indexed input's name and type, the type None for a dynamic one (its topic is a hash):
    # worked out once, as thousands of logs are decoded at a time.
    topic_types: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> _Event:
        data = [i for i in item["inputs"] if not i["indexed"]]
        topics = [i for i in item["inputs"] if i["indexed"]]
        return cls(
            name=item["name"],
            topics=topics,
            data=data,
            data_types=tuple(abi_type(i) for i in data),
            topic_types=tuple((i["name"], _static_type(abi_type(i))) for i in topics),
        )

    def args(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """The event's arguments as web3 decodes them: the indexed first, then the others."""
        if len(topics) != len(self.topics):
            raise ValueError(f"{self.name} has {len(self.topics)} indexed inputs, the log {len(topics)}")
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(self.topic_types, topics, strict=True):
            if kind is None:
                args[name] = topic  # a dynamic one's hash
            elif len(topic) == 32 and _static_word(kind):
                args[name] = _word(kind, topic)
            else:
                args[name] = _decode_words((kind,), topic)[0]
        for item, value in zip(self.data, _decode_words(self.data_types, data), strict=True):
            args[item["name"]] = _checksummed(item, value) if _has_address(item) else value
        return args


def _static_type(kind: str) -> str | None:
    """``kind``, or None for a dynamic type (whose indexed topic is its hash)."""
    dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
    return None if dynamic else kind


def _decode_words(types: tuple[str, ...], data: bytes) -> tuple[Any, ...]:
    """ABI-decodes ``data``; values of static elementary types (every event of ours) are read
    straight from their 32-byte words, which is many times faster than eth-abi's decoder."""
    if len(data) != 32 * len(types) or not all(_static_word(kind) for kind in types):
        return tuple(abi_decode(types, data))
    return tuple(_word(kind, data[32 * i : 32 * i + 32]) for i, kind in enumerate(types))


@functools.lru_cache(maxsize=256)
def _static_word(kind: str) -> bool:
    size = kind.removeprefix("uint").removeprefix("int").removeprefix("bytes")
    return kind in ("address", "bool") or (size != kind and size.isdigit())


def _word(kind: str, word: bytes) -> Any:
    """One static value from its word, refusing the dirty padding eth-abi refuses."""
    if kind.startswith("bytes"):
        size = int(kind[5:])
        value: Any = word[:size]
        clean = not any(word[size:])
    elif kind == "address":
        value, clean = _checksum(to_hex(word[12:])), not any(word[:12])
    elif kind == "bool":
        value, clean = word[31] == 1, not any(word[:31]) and word[31] in (0, 1)
    else:
        signed = kind.startswith("int")
        bits = int(kind[3 if signed else 4 :])
        value = int.from_bytes(word, "big", signed=signed)
        clean = -(2 ** (bits - 1)) <= value < 2 ** (bits - 1) if signed else value < 2**bits
    if not clean:
        raise BadFunctionCallOutput(f"the word {word.hex()} is not a clean {kind}")
    return value


_Read = Callable[[bytes], Any]


def _word_reader(kind: str) -> _Read | None:
    """How one static value reads from its word, as :func:`_word` reads it, the type's branch
    taken once; None for a type that is no single word."""
    if not _static_word(kind):
        return None
    if kind.startswith("uint"):
        bound = 2 ** int(kind[4:])

        def read_uint(word: bytes) -> Any:
            value = int.from_bytes(word, "big")
            return value if value < bound else _word(kind, word)  # _word refuses it

        return read_uint
    if kind == "bytes32":
        return bytes  # every word is a clean bytes32
    return functools.partial(_word, kind)


class _WireEvent(NamedTuple):
    """How an event of static words reads from the wire: its name; each indexed input's name and
    reader; each data input's name, where its word starts in the data and its reader; the data's
    length in hex. A reader None takes the word as it is (a bytes32, or a dynamic input's hash)."""

    name: str
    topics: tuple[tuple[str, _Read | None], ...]
    data: tuple[tuple[str, int, _Read | None], ...]
    data_chars: int


def _unless_bytes(read: _Read | None) -> _Read | None:
    """None for a reader that would only copy the word (a bytes32's)."""
    return None if read is bytes else read


def _raw(value: Any) -> bytes:
    """Log data and topics, whether formatted by web3 (bytes) or as on the wire (0x-hex)."""
    return from_hex(value) if isinstance(value, str) else bytes(value)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class _BoundContract:
    artifact_name = ""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        self._address_lower = self.address.lower()
        abi = load_artifact(self.artifact_name).abi
        self.contract: Contract = w3.eth.contract(address=self.address, abi=abi)
        self._functions = {item["name"]: _Function.of(item) for item in abi if item["type"] == "function"}
        self._events = {
            keccak(text=_event_signature(item)): _Event.of(item) for item in abi if item["type"] == "event"
        }
        self._events_by_topic = {HexBytes(topic): event.name for topic, event in self._events.items()}

    def _call(self, function: str, *args: Any) -> Call:
        data = self._functions[function].encode(args)
        return Call(to=self.address, data=HexBytes(data), label=f"{self.artifact_name}.{function}")

    def encode_call(self, function: str, *args: Any) -> bytes:
        """The call data of ``function(args)``, for callers that batch their own JSON-RPC."""
        return self._functions[function].encode(args)

    def decode_result(self, function: str, data: bytes) -> tuple[Any, ...]:
        """The outputs of ``function`` from the bytes an ``eth_call`` returned."""
        return self._functions[function].decode_all(data)

    def _read(self, function: str, *args: Any, block: BlockIdentifier = "latest") -> Any:
        abi = self._functions[function]
        call = Call(to=self.address, data=HexBytes(abi.encode(args)), label=function)
        return abi.decode(call_view(self.w3, call, block))

    def _read_many(
        self, requests: Sequence[tuple[str, Sequence[Any]]], block: BlockIdentifier = "latest"
    ) -> list[Any]:
        """Several reads of this contract in one ``eth_call``, through its Multicall."""
        if not requests:
            return []
        encoded = [self._functions[name].encode(args) for name, args in requests]
        multicall = self._functions["multicall"]
        call = Call(to=self.address, data=HexBytes(multicall.encode([encoded])), label="multicall")
        results = multicall.decode(call_view(self.w3, call, block))
        return [
            self._functions[name].decode(bytes(result))
            for (name, _), result in zip(requests, results, strict=True)
        ]

    def decode_log(self, log: LogReceipt | Mapping[str, Any]) -> ChainEvent | None:
        """The event in ``log``, or None if the log is not one of this contract's events.

        ``log`` is as web3 formats it or as the node sent it (hex strings).
        """
        topics = log["topics"]
        if not topics or str(log["address"]).lower() != self._address_lower:
            return None
        event = self._events.get(_raw(topics[0]))
        if event is None:
            return None
        timestamp = log.get("blockTimestamp")
        return ChainEvent(
            name=event.name,
            args=event.args([_raw(t) for t in topics[1:]], _raw(log["data"])),
            address=self.address,
            block_number=_int(log["blockNumber"]),
            transaction_hash=_raw(log["transactionHash"]),
            log_index=_int(log["logIndex"]),
            block_timestamp=None if timestamp is None else _int(timestamp),
        )

    @functools.cached_property
    def _wire_events(self) -> dict[str, _WireEvent]:
        """Each event whose inputs are all static words (or indexed dynamic ones, read as their
        hash), by its topic as the wire writes it, with how each of its words reads."""
        found: dict[str, _WireEvent] = {}
        for topic, event in self._events.items():
            data = [_word_reader(kind) for kind in event.data_types]
            topics = [None if kind is None else _word_reader(kind) for _, kind in event.topic_types]
            dynamic = any(read is None for read in data) or any(
                read is None and kind is not None
                for read, (_, kind) in zip(topics, event.topic_types, strict=True)
            )
            if not dynamic:
                found[to_hex(topic)] = _WireEvent(
                    event.name,
                    tuple(
                        (name, _unless_bytes(read))
                        for (name, _), read in zip(event.topic_types, topics, strict=True)
                    ),
                    tuple(
                        (item["name"], 32 * index, _unless_bytes(read))
                        for index, (item, read) in enumerate(zip(event.data, data, strict=True))
                    ),
                    2 + 64 * len(data),
                )
        return found

    def decode_wire_logs(self, logs: Iterable[Mapping[str, Any]]) -> list[ChainEvent]:
        """This contract's events in ``logs`` as the node sent them (hex strings), as
        :meth:`decode_log` decodes them: each static word read by a reader chosen once per input,
        for the thousands of logs a verifier reads; anything else through :meth:`decode_log`."""
        events, wire, address = [], self._wire_events, self._address_lower
        for log in logs:
            topics = log["topics"]
            shape = wire.get(topics[0].lower()) if topics and isinstance(topics[0], str) else None
            event = None if shape is None else self._wire_event(log, topics, shape)
            if event is None and (not topics or str(log["address"]).lower() == address):
                event = self.decode_log(log)
            if event is not None:
                events.append(event)
        return events

    def _wire_event(
        self, log: Mapping[str, Any], topics: Sequence[str], shape: _WireEvent
    ) -> ChainEvent | None:
        """The event, or None for decode_log to judge (another address, an unexpected shape)."""
        data = log["data"]
        if (
            len(topics) != len(shape.topics) + 1
            or not isinstance(data, str)
            or len(data) != shape.data_chars
            or not data.startswith("0x")
            or str(log["address"]).lower() != self._address_lower
        ):
            return None
        try:
            words = [from_hex(topic) for topic in topics[1:]]
            raw = bytes.fromhex(data[2:])
        except (TypeError, ValueError):
            return None
        args: dict[str, Any] = {}
        for (arg, read), word in zip(shape.topics, words, strict=True):
            if len(word) != 32:
                return None
            args[arg] = word if read is None else read(word)
        for arg, start, read in shape.data:
            word = raw[start : start + 32]
            args[arg] = word if read is None else read(word)
        timestamp = log.get("blockTimestamp")
        return ChainEvent(
            shape.name,
            args,
            self.address,
            _int(log["blockNumber"]),
            _raw(log["transactionHash"]),
            _int(log["logIndex"]),
            None if timestamp is None else _int(timestamp),
        )

    def events_in(self, receipt: TxReceipt) -> list[ChainEvent]:
        """This contract's events in a transaction receipt, in order."""
        return [event for log in receipt["logs"] if (event := self.decode_log(log)) is not None]

    def get_events(self, from_block: int, to_block: BlockIdentifier = "latest") -> list[ChainEvent]:
        """This contract's events in a block range, in chain order."""
        return read_events(self.w3, [self], from_block, to_block)

    def find_events(
        self, name: str, indexed: Sequence[Sequence[bytes] | None], from_block: int, to_block: int
    ) -> list[ChainEvent]:
        """The events ``name`` whose indexed arguments are among ``indexed`` (one list of 32-byte
        topics per argument, None for any), in windows a node serves, in chain order."""
        topic = next(t for t, event in self._events.items() if event.name == name)
        topics: list[Any] = [to_hex(topic), *([to_hex(t) for t in ts] if ts else None for ts in indexed)]
        events = []
        for first, last in block_windows(from_block, to_block):
            params: FilterParams = {
                "address": self.address,
                "fromBlock": first,
                "toBlock": last,
                "topics": topics,
            }
            logs = rpc(functools.partial(self.w3.eth.get_logs, params))
            events += [event for log in logs if (event := self.decode_log(log)) is not None]
        return events


def read_events(
    w3: Web3, contracts: Sequence[_BoundContract], from_block: int, to_block: BlockIdentifier = "latest"
) -> list[ChainEvent]:
    """The events of several contracts in a block range, with one ``eth_getLogs``, in chain order."""
    by_address = {contract.address.lower(): contract for contract in contracts}
    params: FilterParams = {
        "address": [contract.address for contract in contracts],
        "fromBlock": from_block,
        "toBlock": to_block,
    }
    events = []
    for log in _get_logs(w3, params):
        contract = by_address.get(str(log["address"]).lower())
        if contract is not None and (event := contract.decode_log(log)) is not None:
            events.append(event)
    events.sort(key=lambda event: (event.block_number, event.log_index))
    return events


def _get_logs(w3: Web3, params: FilterParams) -> Sequence[Mapping[str, Any]]:
    """``eth_getLogs``, the logs as the node sent them (web3's formatting of every field of every
    log costs more than decoding them)."""
    wire = {
        "address": params["address"],
        "fromBlock": _block_param(params["fromBlock"]),
        "toBlock": _block_param(params["toBlock"]),
    }
    logs: list[Mapping[str, Any]] = wire_rpc(w3, "eth_getLogs", [wire])
    return logs


def _block_param(block: Any) -> Any:
    return hex(block) if isinstance(block, int) else block


def _event_signature(item: Mapping[str, Any]) -> str:
    return f"{item['name']}({','.join(arg['type'] for arg in item['inputs'])})"


class MemberRegistry(_BoundContract):
    artifact_name = "MemberRegistry"

    def admit(
        self,
        *,
        account: str,
        role: Role,
        org_id: bytes,
        display_name: str,
        endpoint: str = "",
        encryption_keys: bytes = b"",
    ) -> Call:
        account = Web3.to_checksum_address(account)
        return self._call("admit", account, int(role), org_id, display_name, endpoint, encryption_keys)

    def suspend(self, member_id: int) -> Call:
        return self._call("suspend", member_id)

    def reinstate(self, member_id: int) -> Call:
        return self._call("reinstate", member_id)

    def revoke(self, member_id: int) -> Call:
        return self._call("revoke", member_id)

    def propose_operator_admission(
        self,
        *,
        account: str,
        org_id: bytes,
        display_name: str,
        endpoint: str = "",
        encryption_keys: bytes = b"",
    ) -> Call:
        """Proposes a new operator (the caller's approval counts); see docs/SECURITY.md, Governance."""
        account = Web3.to_checksum_address(account)
        return self._call(
            "proposeOperatorAdmission", account, org_id, display_name, endpoint, encryption_keys
        )

    def propose_operator_status_change(self, member_id: int, status: MemberStatus) -> Call:
        """Proposes to suspend (SUSPENDED), reinstate (ACTIVE) or revoke (REVOKED) an operator."""
        return self._call("proposeOperatorStatusChange", member_id, int(status))

    def approve_proposal(self, proposal_id: int) -> Call:
        return self._call("approveProposal", proposal_id)

    def execute_proposal(self, proposal_id: int) -> Call:
        return self._call("executeProposal", proposal_id)

    def cancel_proposal(self, proposal_id: int) -> Call:
        return self._call("cancelProposal", proposal_id)

    def update_endpoint(self, endpoint: str, encryption_keys: bytes) -> Call:
        return self._call("updateEndpoint", endpoint, encryption_keys)

    def rotate_account(self, new_account: str) -> Call:
        return self._call("rotateAccount", Web3.to_checksum_address(new_account))

    def member_count(self, block: BlockIdentifier = "latest") -> int:
        return int(self._read("memberCount", block=block))

    def get_member(self, member_id: int, block: BlockIdentifier = "latest") -> Member:
        role, status, account, org_id, name, endpoint, keys = self._read("getMember", member_id, block=block)
        return Member(member_id, Role(role), MemberStatus(status), account, org_id, name, endpoint, keys)

    def member_id_of(self, account: str, block: BlockIdentifier = "latest") -> int:
        return int(self._read("memberIdOf", Web3.to_checksum_address(account), block=block))

    def require_active_account(self, account: str, role: Role) -> int:
        return int(self._read("requireActiveAccount", Web3.to_checksum_address(account), int(role)))

    def require_active_member(self, member_id: int, role: Role) -> None:
        self._read("requireActiveMember", member_id, int(role))

    def governance_delay(self) -> int:
        """Seconds between a proposal to change the operators and its earliest execution."""
        return int(self._read("governanceDelay"))

    def active_operator_count(self, block: BlockIdentifier = "latest") -> int:
        return int(self._read("activeOperatorCount", block=block))

    def proposal_count(self, block: BlockIdentifier = "latest") -> int:
        return int(self._read("proposalCount", block=block))

    def get_proposal(self, proposal_id: int, block: BlockIdentifier = "latest") -> Proposal:
        action, state, member_id, proposer, ready_at, approvers, candidate = self._read(
            "getProposal", proposal_id, block=block
        )
        role, status, account, org_id, name, endpoint, keys = candidate
        return Proposal(
            proposal_id=proposal_id,
            action=OperatorAction(action),
            state=ProposalState(state),
            member_id=member_id,
            proposer=proposer,
            ready_at=ready_at,
            approvers=tuple(approvers),
            candidate=(
                Member(member_id, Role(role), MemberStatus(status), account, org_id, name, endpoint, keys)
                if action == OperatorAction.ADMIT
                else None
            ),
        )

    def has_approved(self, proposal_id: int, member_id: int) -> bool:
        return bool(self._read("hasApproved", proposal_id, member_id))

    def proposal_approvals(self, proposal_id: int, block: BlockIdentifier = "latest") -> tuple[int, int]:
        """The approvals that count now (of operators still active) and the quorum needed now."""
        approvals, quorum = self._read("proposalApprovals", proposal_id, block=block)
        return int(approvals), int(quorum)


class ConfirmationRegistry(_BoundContract):
    artifact_name = "ConfirmationRegistry"

    def request(self, *, letter_id: bytes, bank: int, letter_hash: bytes, due_at: int) -> Call:
        return self._call("request", letter_id, bank, letter_hash, due_at)

    def authorise(
        self,
        letter_id: bytes,
        auth: Authorisation,
        auditee_ref: bytes,
        signer: Signer,
        signature: bytes,
        proof: Sequence[bytes],
    ) -> Call:
        """``signer`` (ERC-7913, node_gateway.chain.signers) signed ``auth``: ``signature``;
        ``auditee_ref`` is the reference under which the letter's bank mandated the signer."""
        return self._call(
            "authorise", letter_id, auth.as_tuple(), auditee_ref, as_signer(signer), signature, list(proof)
        )

    def refuse_authorisation(
        self,
        letter_id: bytes,
        refusal: Refusal,
        auditee_ref: bytes,
        signer: Signer,
        signature: bytes,
        proof: Sequence[bytes],
    ) -> Call:
        return self._call(
            "refuseAuthorisation",
            letter_id,
            refusal.as_tuple(),
            auditee_ref,
            as_signer(signer),
            signature,
            list(proof),
        )

    def accept(self, letter_id: bytes) -> Call:
        return self._call("accept", letter_id)

    def reject(self, letter_id: bytes, reason: int) -> Call:
        return self._call("reject", letter_id, reason)

    def reply(self, letter_id: bytes, reply_hash: bytes) -> Call:
        return self._call("reply", letter_id, reply_hash)

    def close(self, letter_id: bytes) -> Call:
        return self._call("close", letter_id)

    def withdraw(self, letter_id: bytes) -> Call:
        return self._call("withdraw", letter_id)

    def follow_up(self, letter_id: bytes) -> Call:
        return self._call("followUp", letter_id)

    def register_mandate(self, auditee_ref: bytes, signer: Signer, valid_until: int) -> Call:
        """Lets ``signer`` (ERC-7913: an account's address, or a verifier and a key) authorise."""
        return self._call("registerMandate", auditee_ref, as_signer(signer), valid_until)

    def revoke_mandate(self, auditee_ref: bytes, signer: Signer) -> Call:
        return self._call("revokeMandate", auditee_ref, as_signer(signer))

    def multicall(self, calls: Iterable[Call]) -> Call:
        """Several of this contract's calls in one transaction, each with the sender as msg.sender."""
        items = list(calls)
        if any(call.to != self.address for call in items):
            raise ValueError("a multicall can only bundle calls to this contract")
        call = self._call("multicall", [bytes(item.data) for item in items])
        return Call(to=call.to, data=call.data, label="multicall(" + ", ".join(c.label for c in items) + ")")

    def member_registry(self) -> ChecksumAddress:
        return Web3.to_checksum_address(self._read("memberRegistry"))

    def get_letter(self, letter_id: bytes, block: BlockIdentifier = "latest") -> Letter:
        status, firm, bank, due_at, auditee_ref, letter_hash, reply_hash = self._read(
            "getLetter", letter_id, block=block
        )
        return Letter(
            letter_id, LetterStatus(status), firm, bank, due_at, auditee_ref, letter_hash, reply_hash
        )

    def get_letters(self, letter_ids: Sequence[bytes], block: BlockIdentifier = "latest") -> list[Letter]:
        """Several letters, in order, read in one ``eth_call`` per 256 (through Multicall)."""
        found: list[Letter] = []
        for start in range(0, len(letter_ids), READ_BATCH):
            chunk = letter_ids[start : start + READ_BATCH]
            results = self._read_many([("getLetter", [letter_id]) for letter_id in chunk], block)
            found += [
                Letter(
                    letter_id, LetterStatus(status), firm, bank, due_at, auditee_ref, letter_hash, reply_hash
                )
                for letter_id, (status, firm, bank, due_at, auditee_ref, letter_hash, reply_hash) in zip(
                    chunk, results, strict=True
                )
            ]
        return found

    def is_overdue(self, letter_id: bytes) -> bool:
        return bool(self._read("isOverdue", letter_id))

    def mandate_valid_until(self, bank: int, auditee_ref: bytes, signer: Signer) -> int:
        return int(self._read("mandateValidUntil", bank, auditee_ref, as_signer(signer)))

    def is_valid_auditee_signature(
        self, signer: Signer, digest: bytes, signature: bytes, block: BlockIdentifier = "latest"
    ) -> bool:
        """Whether ``signature`` is ``signer``'s over ``digest``, by the contract's own check."""
        return bool(self._read("isValidAuditeeSignature", as_signer(signer), digest, signature, block=block))

    def signer_references(
        self, signer: Signer, banks: Sequence[int], from_block: int, *, now: int
    ) -> dict[int, list[bytes]]:
        """The auditee references under which each of ``banks`` mandates ``signer`` at ``now``, in
        order, every bank present: the references its ``MandateRegistered`` events name (topics: the
        banks, any reference, the signer's id), kept where ``mandateValidUntil`` is still ``now`` or
        later (one ``eth_call`` per 256; a revoked mandate reads 0)."""
        raw = as_signer(signer)
        latest = rpc(lambda: self.w3.eth.block_number)
        events = self.find_events(
            "MandateRegistered",
            [[bank.to_bytes(32, "big") for bank in sorted(set(banks))], None, [signer_id(raw)]],
            from_block,
            latest,
        )
        candidates = sorted({(event.args["bank"], bytes(event.args["auditeeRef"])) for event in events})
        valid = self.mandates_valid_until(candidates, raw)
        found: dict[int, list[bytes]] = {bank: [] for bank in banks}
        for (bank, reference), until in zip(candidates, valid, strict=True):
            if until >= now:
                found[bank].append(reference)
        return found

    def mandates_valid_until(self, mandates: Sequence[tuple[int, bytes]], signer: Signer) -> list[int]:
        """``signer``'s mandates from several (bank, auditee reference) pairs, in order, read in one
        ``eth_call`` per 256."""
        account = as_signer(signer)
        found: list[int] = []
        for start in range(0, len(mandates), READ_BATCH):
            chunk = mandates[start : start + READ_BATCH]
            found += map(int, self._read_many([("mandateValidUntil", [b, ref, account]) for b, ref in chunk]))
        return found

    def authorisation_leaf(self, letter_id: bytes, letter_hash: bytes, bank: int) -> bytes:
        return bytes(self._read("authorisationLeaf", letter_id, letter_hash, bank))

    def authorisation_digest(self, auth: Authorisation) -> bytes:
        return bytes(self._read("authorisationDigest", auth.as_tuple()))

    def refusal_digest(self, refusal: Refusal) -> bytes:
        return bytes(self._read("refusalDigest", refusal.as_tuple()))
