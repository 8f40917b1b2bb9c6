"""Typed wrappers for MemberRegistry and ConfirmationRegistry: every function and event.

Write functions return an encoded :class:`Call` that a :class:`TransactionSender` sends or that
``ConfirmationRegistry.multicall`` bundles; read functions query the node and raise the contracts'
own exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import BlockIdentifier, LogReceipt, TxReceipt

from node_gateway.chain.artifacts import load_artifact
from node_gateway.chain.transactions import Call, rpc


class Role(IntEnum):
    NONE = 0
    OPERATOR = 1
    AUDIT_FIRM = 2
    BANK = 3
    REGULATOR = 4


class MemberStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class LetterStatus(IntEnum):
    NONE = 0
    REQUESTED = 1
    AUTHORISED = 2
    ACCEPTED = 3
    REJECTED = 4
    REPLIED = 5
    CLOSED = 6
    WITHDRAWN = 7
    REFUSED = 8


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
class Letter:
    letter_id: bytes
    status: LetterStatus
    firm: int
    bank: int
    due_at: int
    auditee_ref: bytes
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


class _BoundContract:
    artifact_name = ""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        self.contract: Contract = w3.eth.contract(
            address=self.address, abi=load_artifact(self.artifact_name).abi
        )
        self._events_by_topic = {
            HexBytes(Web3.keccak(text=_event_signature(item))): item["name"]
            for item in self.contract.abi
            if item["type"] == "event"
        }

    def _call(self, function: str, *args: Any) -> Call:
        data = self.contract.encode_abi(function, args=list(args))
        return Call(to=self.address, data=HexBytes(data), label=f"{self.artifact_name}.{function}")

    def _read(self, function: str, *args: Any, block: BlockIdentifier = "latest") -> Any:
        return rpc(lambda: self.contract.functions[function](*args).call(block_identifier=block))

    def decode_log(self, log: LogReceipt) -> ChainEvent | None:
        """The event in ``log``, or None if the log is not one of this contract's events."""
        if not log["topics"] or Web3.to_checksum_address(log["address"]) != self.address:
            return None
        name = self._events_by_topic.get(HexBytes(log["topics"][0]))
        if name is None:
            return None
        decoded = self.contract.events[name]().process_log(log)
        return ChainEvent(
            name=name,
            args=dict(decoded["args"]),
            address=self.address,
            block_number=log["blockNumber"],
            transaction_hash=bytes(log["transactionHash"]),
            log_index=log["logIndex"],
        )

    def events_in(self, receipt: TxReceipt) -> list[ChainEvent]:
        """This contract's events in a transaction receipt, in order."""
        return [event for log in receipt["logs"] if (event := self.decode_log(log)) is not None]

    def get_events(self, from_block: int, to_block: BlockIdentifier = "latest") -> list[ChainEvent]:
        """This contract's events in a block range, in chain order."""
        logs = self.w3.eth.get_logs({"address": self.address, "fromBlock": from_block, "toBlock": to_block})
        return [event for log in logs if (event := self.decode_log(log)) is not None]


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


class ConfirmationRegistry(_BoundContract):
    artifact_name = "ConfirmationRegistry"

    def request(
        self, *, letter_id: bytes, bank: int, auditee_ref: bytes, letter_hash: bytes, due_at: int
    ) -> Call:
        return self._call("request", letter_id, bank, auditee_ref, letter_hash, due_at)

    def authorise(
        self, letter_id: bytes, auth: Authorisation, signature: bytes, proof: Sequence[bytes]
    ) -> Call:
        return self._call("authorise", letter_id, auth.as_tuple(), signature, list(proof))

    def refuse_authorisation(
        self, letter_id: bytes, refusal: Refusal, signature: bytes, proof: Sequence[bytes]
    ) -> Call:
        return self._call("refuseAuthorisation", letter_id, refusal.as_tuple(), signature, list(proof))

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

    def register_mandate(self, auditee_ref: bytes, signer: str, valid_until: int) -> Call:
        return self._call("registerMandate", auditee_ref, Web3.to_checksum_address(signer), valid_until)

    def revoke_mandate(self, auditee_ref: bytes, signer: str) -> Call:
        return self._call("revokeMandate", auditee_ref, Web3.to_checksum_address(signer))

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

    def is_overdue(self, letter_id: bytes) -> bool:
        return bool(self._read("isOverdue", letter_id))

    def mandate_valid_until(self, bank: int, auditee_ref: bytes, signer: str) -> int:
        return int(self._read("mandateValidUntil", bank, auditee_ref, Web3.to_checksum_address(signer)))

    def authorisation_leaf(
        self, letter_id: bytes, letter_hash: bytes, bank: int, auditee_ref: bytes
    ) -> bytes:
        return bytes(self._read("authorisationLeaf", letter_id, letter_hash, bank, auditee_ref))

    def authorisation_digest(self, auth: Authorisation) -> bytes:
        return bytes(self._read("authorisationDigest", auth.as_tuple()))

    def refusal_digest(self, refusal: Refusal) -> bytes:
        return bytes(self._read("refusalDigest", refusal.as_tuple()))
