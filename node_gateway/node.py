"""The member node: what every part of a gateway shares — settings, keys, database, chain."""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from web3 import Web3

from node_gateway.chain.contracts import Member, MemberStatus
from node_gateway.chain.network import Network, NetworkFile, connect
from node_gateway.chain.transactions import TransactionSender
from node_gateway.core.config import GatewaySettings, MemberRole
from node_gateway.core.keys import MemberKeys
from node_gateway.errors import NotMember
from node_gateway.protocol.calendar import CALENDAR
from node_gateway.protocol.envelopes import (
    EncryptionPublicKey,
    EnvelopeSuite,
    decode_public_keys,
    encode_public_keys,
)
from node_gateway.storage.db import Database
from node_gateway.storage.vault import Vault

MEMBER_CACHE_S = 5.0  # how long a member record read from the chain is trusted


@dataclass
class _Cached:
    member: Member
    read_at: float


@functools.lru_cache(maxsize=256)
def _public_keys(blob: bytes) -> dict[EnvelopeSuite, EncryptionPublicKey]:
    """A member's published keys, decoded once per blob (every envelope sealed to it needs them)."""
    return decode_public_keys(blob)


def _without_chain_id_checks(w3: Web3) -> None:
    """Drops web3's validation middleware: before every ``eth_call`` and ``eth_estimateGas`` it
    asks the node for its chain id, to check a ``chainId`` field those requests never carry here
    (transactions are signed locally with the chain id read once) — a second round trip per read."""
    if any(name == "validation" for _, name in w3.middleware_onion.middleware):
        w3.middleware_onion.remove("validation")


def attach_network(settings: GatewaySettings, w3: Web3 | None = None) -> tuple[NetworkFile, Network]:
    """The gateway's network, through ``w3`` or else its own node if it names one (``rpc_url``),
    else the network file's; the official calendars it published join this process's calendar."""
    network_file = NetworkFile.load(settings.network_file)
    CALENDAR.adopt(*network_file.official_years(settings.network_file))
    return network_file, Network.attach(w3 or connect(settings.rpc_url or network_file.rpc_url), network_file)


@dataclass
class Node:
    settings: GatewaySettings
    keys: MemberKeys
    db: Database
    w3: Web3
    network: Network
    network_file: NetworkFile
    sender: TransactionSender = field(init=False)
    vault: Vault = field(init=False)
    # One event per worker, set whenever there is new work so it need not wait for its next poll.
    _wakers: list[threading.Event] = field(default_factory=list, init=False)
    metrics_requests: Counter[str] = field(default_factory=Counter, init=False)
    _member_id: int | None = field(default=None, init=False)
    _members: dict[int, _Cached] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        _without_chain_id_checks(self.w3)
        self.sender = TransactionSender(self.w3, self.keys.chain_account)
        self.vault = Vault(self.keys.storage_key)

    @classmethod
    def open(cls, settings: GatewaySettings, keys: MemberKeys, *, w3: Web3 | None = None) -> Node:
        network_file, network = attach_network(settings, w3)
        db = Database(settings.effective_database_url)
        db.migrate()
        return cls(
            settings=settings, keys=keys, db=db, w3=network.w3, network=network, network_file=network_file
        )

    @property
    def role(self) -> MemberRole:
        return self.settings.role

    @property
    def address(self) -> str:
        return self.keys.chain_account.address

    def encryption_keys_blob(self) -> bytes:
        return encode_public_keys(pair.public_key for pair in self.keys.encryption_keys)

    def member_id(self) -> int:
        """This member's number on chain; NotMember until the operator has admitted it."""
        if self._member_id is None:
            member_id = self.network.members.member_id_of(self.address)
            if member_id == 0:
                raise NotMember(f"account {self.address} is not admitted to the network yet")
            self._member_id = member_id
        return self._member_id

    def is_member(self) -> bool:
        try:
            self.member_id()
        except NotMember:
            return False
        return True

    def member(self, member_id: int, *, fresh: bool = False) -> Member:
        """A member's record, read from the chain and cached for a few seconds."""
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(member_id)
        if cached is not None and not fresh and now - cached.read_at < MEMBER_CACHE_S:
            return cached.member
        record = self.network.members.get_member(member_id)
        with self._lock:
            self._members[member_id] = _Cached(record, now)
        return record

    def is_active(self, member_id: int) -> bool:
        return self.member(member_id, fresh=True).status == MemberStatus.ACTIVE

    def public_key_of(self, member_id: int, *, fresh: bool = False) -> EncryptionPublicKey:
        """The recipient's preferred encryption key among the suites this gateway can seal to."""
        keys = _public_keys(self.member(member_id, fresh=fresh).encryption_keys)
        if not keys:
            raise NotMember(f"member {member_id} has published no encryption key")
        preferred = keys.get(self.settings.envelope_suite)
        return preferred if preferred is not None else next(iter(keys.values()))

    def waker(self) -> threading.Event:
        event = threading.Event()
        self._wakers.append(event)
        return event

    def notify(self) -> None:
        for event in self._wakers:
            event.set()
