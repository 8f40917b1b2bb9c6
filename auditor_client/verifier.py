"""Offline verification: an evidence package against any node of the network, with no gateway.

Verification starts from a trust anchor the verifier already holds, never from the package: the
network file (or addresses pinned by hand) naming the chain id and the two contracts
(:class:`Anchor`). Anyone who can deploy on the chain can deploy a byte-identical copy of the
contracts, admit keys under real members' names and record anything there; only the anchor tells
the real deployment from such a clone.

What is checked, and the name each check carries in the report (``docs/EVIDENCE.md`` explains
each one):

- network: ``anchor`` (the package names the anchor's chain id, contracts and deployment block);
  ``chain_id``; ``contract.MemberRegistry`` and ``contract.ConfirmationRegistry`` (the code at
  each address is the committed build, each immutable holding its own value on this network);
  ``registry_link`` (the ConfirmationRegistry uses this MemberRegistry); ``deployment_block``;
- per letter: ``letter.*`` and ``reply.*`` (each document with its salt hashes to what the chain
  recorded, and names the record's parties: :func:`verify_against_record`); ``record`` (the
  package's ids, parties, commitments and due time are the chain's); ``step N <Event>`` for every
  step (the event is on chain in that transaction and block at that time, with those arguments,
  and the member that the step belongs to held the right role and was Active at that point of the
  chain: the contract, its code checked, records a step only from that member's account, so no
  transaction is read); ``lifecycle`` (the steps are a valid sequence ending in the
  package's status); ``timestamps``; ``authorisation`` (the auditee's signature recovers to the
  signer the chain recorded, over the root the chain recorded, the Merkle proof leads from this
  letter's leaf to that root, and the signer's mandate under the auditee reference the chain
  recorded held at that block); ``auditee_ref`` (that reference opens, with the auditee salt the
  bank sent with its reply, to the registration code the letter names).

Membership "at that time" is the MemberRegistry's events (admissions, status changes, account
rotations) replayed up to the step's position (block, log index): exact within a block, and
needing no historical state, which not every node keeps. The mandate check reads state at the
step's block and says so when the node keeps no history.

Speed: logs are read once per contract (letter ids as OR-ed topics) and decoded from the wire
with a reader per event input, records in JSON-RPC batches, block times from the logs; each
distinct authorisation's digest and recovery computed once (one covers many letters), each
requests-tree node once, each auditee reference once per code and salt. Documents are checked as stored
(:mod:`auditor_client.stored`): the text of their canonical bytes hashed as it is and read once,
no model built unless something is wrong. ``workers`` > 1 checks the letters in a process pool,
with the same report.
"""

from __future__ import annotations

import bisect
import functools
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, NamedTuple

from hexbytes import HexBytes
from web3 import Web3

from auditor_client.errors import AuditorClientError
from auditor_client.evidence import (
    EvidenceAuthorisation,
    EvidenceLetter,
    EvidenceNetwork,
    EvidencePackage,
    EvidenceStep,
    parsed_document,
    paused_collection,
)
from auditor_client.stored import ReadDocument, check_stored, read_stored
from node_gateway.chain.authorisation import (
    LetterLeaf,
    authorisation_typed_data,
    process_proof,
    recover_signer_from_digest,
    refusal_typed_data,
    typed_data_digest,
)
from node_gateway.chain.contracts import (
    Authorisation,
    ChainEvent,
    ConfirmationRegistry,
    Letter,
    LetterStatus,
    MemberRegistry,
    MemberStatus,
    Refusal,
    Role,
    block_windows,
)
from node_gateway.chain.deployment import check_deployment
from node_gateway.chain.deployment import compare_code as compare_code  # moved there; still ours
from node_gateway.chain.deployment import immutable_layout as immutable_layout
from node_gateway.chain.deployment import immutable_values as immutable_values
from node_gateway.chain.errors import ChainError, NodeRejected, NodeUnavailable
from node_gateway.chain.network import NetworkFile
from node_gateway.chain.signers import SignatureVerifiers, account_of, as_signer, signer_id, signer_text
from node_gateway.chain.transactions import wire_batch
from node_gateway.protocol import CHINA_TIME, as_salt, auditee_reference, from_hex, to_hex
from node_gateway.protocol.lifecycle import BY_EVENT, STATUS_AFTER

Verdict = Literal["pass", "fail", "note"]
NETWORK = "network"
BATCH = 200  # JSON-RPC requests per HTTP batch
TOPIC_CHUNK = 200  # letter ids per eth_getLogs

# Who records each step: the member named in the event, with the role it must hold. Authorisations
# are relayed by anyone; the auditee's signature is what counts (the ``authorisation`` check).
_ACTOR: dict[str, tuple[str, Role] | None] = {
    t.event: (t.party, t.actor) if t.party is not None and t.actor is not None else None
    for t in BY_EVENT.values()
}
# The states each step may follow (the contract's transition guard); follow-ups change nothing.
_ALLOWED_FROM: dict[str, frozenset[LetterStatus]] = {t.event: t.allowed_from for t in BY_EVENT.values()}


class VerifierError(AuditorClientError):
    """The node cannot be asked (unreachable, or it refuses the requests); nothing was judged."""


class Check(NamedTuple):
    """One verdict: ``subject`` is ``network`` or a letter id. A tuple: a package's thousands of
    verdicts are made in a third of the time of a frozen dataclass's."""

    subject: str
    name: str
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class Anchor:
    """The network a verification trusts: what the verifier held before it read any package (the
    network file, or addresses pinned by hand), never the package's own statement."""

    chain_id: int
    member_registry: str
    confirmation_registry: str
    deployment_block: int | None = None  # None: not pinned (the package's is checked against the chain)
    source: str = "pinned addresses"
    verifiers: SignatureVerifiers | None = None  # the signature verifiers, checked where named

    @classmethod
    def of(cls, network: Anchor | NetworkFile, *, source: str = "network file") -> Anchor:
        if isinstance(network, Anchor):
            return network
        return cls(
            network.chain_id,
            network.member_registry,
            network.confirmation_registry,
            network.deployment_block,
            source,
            network.verifiers,
        )

    def as_json(self) -> dict[str, Any]:
        verifiers = None if self.verifiers is None else self.verifiers.model_dump()
        return {**asdict(self), "verifiers": verifiers}

    def describe(self) -> str:
        block = "" if self.deployment_block is None else f", deployed in block {self.deployment_block}"
        return (
            f"trusted anchor: {self.source}, MemberRegistry {self.member_registry}, "
            f"ConfirmationRegistry {self.confirmation_registry}, chain id {self.chain_id}{block}"
        )

    def differences(self, network: EvidenceNetwork) -> list[str]:
        """Where the package's network is not this one."""
        pairs: list[tuple[str, object, object]] = [
            ("chain id", network.chain_id, self.chain_id),
            ("MemberRegistry", network.member_registry.lower(), self.member_registry.lower()),
            (
                "ConfirmationRegistry",
                network.confirmation_registry.lower(),
                self.confirmation_registry.lower(),
            ),
        ]
        if self.deployment_block is not None:
            pairs.append(("deployment block", network.deployment_block, self.deployment_block))
        return [
            f"{what}: package {stated}, anchor {trusted}"
            for what, stated, trusted in pairs
            if stated != trusted
        ]


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    letters: int = 0
    documents: int = 0
    seconds: float = 0.0
    anchor: Anchor | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.verdict == "fail"]

    def subjects(self) -> dict[str, list[Check]]:
        grouped: dict[str, list[Check]] = {}
        for check in self.checks:
            grouped.setdefault(check.subject, []).append(check)
        return grouped

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "anchor": self.anchor.as_json() if self.anchor else None,
            "seconds": self.seconds,
            "checks": [c._asdict() for c in self.checks],
        }


class _Checks:
    def __init__(self, subject: str, report: Report) -> None:
        self.subject, self.report = subject, report

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.report.checks.append(Check(self.subject, name, "pass" if ok else "fail", detail))
        return ok

    def note(self, name: str, detail: str) -> None:
        self.report.checks.append(Check(self.subject, name, "note", detail))


def _hex(value: Any) -> str:
    return to_hex(bytes(value)) if isinstance(value, bytes | bytearray | HexBytes) else str(value)


def _bytes(text: str | None) -> bytes | None:
    try:
        return from_hex(text or "")
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)  # a block's time is shown for each of its steps
def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S +08:00")


def _jsonable(args: Mapping[str, Any]) -> dict[str, Any]:
    # bytes.hex itself: HexBytes (a kind of bytes) spells its own with 0x in some versions
    return {
        key: "0x" + bytes.hex(value) if isinstance(value, bytes) else value for key, value in args.items()
    }


# --- the node ----------------------------------------------------------------------------------


class _Node:
    """The node, read through the chain layer's JSON-RPC batches (``wire_batch``): answers in the
    wire's form, a failed request's ``NodeRejected`` in its place; its failures as VerifierError."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def many(self, requests: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Each request's result, or a ``NodeRejected`` in its place."""
        results: list[Any] = []
        for start in range(0, len(requests), BATCH):
            try:
                results += wire_batch(self.w3, requests[start : start + BATCH])
            except NodeUnavailable as exc:
                raise VerifierError(f"the node does not answer: {exc}") from exc
            except ChainError as exc:
                raise VerifierError(str(exc)) from exc
        return results

    def one(self, method: str, params: list[Any]) -> Any:
        result = self.many([(method, params)])[0]
        if isinstance(result, NodeRejected):
            raise VerifierError(str(result))
        return result

    def logs(
        self, address: str, from_block: int, topic_sets: Sequence[list[Any] | None] = (None,)
    ) -> list[dict[str, Any]]:
        """The logs since ``from_block`` matching any of ``topic_sets`` (None: every log), asked
        for in windows a node accepts, in as few batches as they fit."""
        latest = int(self.one("eth_blockNumber", []), 16)
        requests = []
        for topics in topic_sets:
            for first, last in block_windows(from_block, latest):
                params: dict[str, Any] = {"address": address, "fromBlock": hex(first), "toBlock": hex(last)}
                if topics is not None:
                    params["topics"] = topics
                requests.append(("eth_getLogs", [params]))
        found: list[dict[str, Any]] = []
        for result in self.many(requests):
            if isinstance(result, NodeRejected):
                raise VerifierError(str(result))
            found += result
        return found

    def timestamps(self, numbers: Iterable[int]) -> dict[int, int]:
        """Each block's timestamp, from its header (a block the node cannot give is left out)."""
        wanted = sorted(set(numbers))
        found: dict[int, int] = {}
        for number, block in zip(
            wanted, self.many([("eth_getBlockByNumber", [hex(n), False]) for n in wanted]), strict=True
        ):
            if not isinstance(block, NodeRejected) and block is not None:
                found[number] = int(block["timestamp"], 16)
        return found


class _Abi:
    """A contract's view calls and events in the wire's form the batched node answers with,
    through the contract wrapper's own codec (web3's contract objects look the ABI up on every
    call and format every log, which for thousands of them is most of the time)."""

    def __init__(self, contract: MemberRegistry | ConfirmationRegistry) -> None:
        self.contract = contract
        self.address = contract.address

    def call(self, function: str, *args: Any) -> dict[str, Any]:
        return {"to": self.address, "data": to_hex(self.contract.encode_call(function, *args))}

    def result(self, function: str, raw: Any) -> tuple[Any, ...] | None:
        if isinstance(raw, NodeRejected) or raw is None:
            return None
        data = bytes(HexBytes(raw))
        return self.contract.decode_result(function, data) if data else None

    def decode_logs(self, logs: Iterable[dict[str, Any]]) -> list[ChainEvent]:
        events = self.contract.decode_wire_logs(logs)
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events


# --- membership over time ----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberState:
    member_id: int
    role: Role
    status: MemberStatus
    account: str  # lower-case


def _first(entry: tuple[tuple[int, int], MemberState]) -> tuple[int, int]:
    return entry[0]


class MembershipHistory:
    """Every member's record after each MemberRegistry event, to look up at any point of the chain."""

    def __init__(self, events: Sequence[ChainEvent]) -> None:
        self._timeline: dict[int, list[tuple[tuple[int, int], MemberState]]] = {}
        for event in events:
            member_id = int(event.args.get("memberId", 0))
            history = self._timeline.setdefault(member_id, [])
            before = history[-1][1] if history else None
            state = self._apply(event, member_id, before)
            if state is not None:
                history.append(((event.block_number, event.log_index), state))

    @staticmethod
    def _apply(event: ChainEvent, member_id: int, before: MemberState | None) -> MemberState | None:
        args = event.args
        if event.name == "MemberAdmitted":
            return MemberState(
                member_id, Role(args["role"]), MemberStatus.ACTIVE, str(args["account"]).lower()
            )
        if before is None:
            return None
        if event.name == "MemberStatusChanged":
            return MemberState(member_id, before.role, MemberStatus(args["status"]), before.account)
        if event.name == "MemberAccountRotated":
            return MemberState(member_id, before.role, before.status, str(args["newAccount"]).lower())
        return None

    def at(self, member_id: int, position: tuple[int, int]) -> MemberState | None:
        """The member's record just before ``position`` (block number, log index)."""
        history = self._timeline.get(member_id, [])
        index = bisect.bisect_left(history, position, key=_first)
        return history[index - 1][1] if index else None

    @property
    def member_ids(self) -> list[int]:
        return sorted(self._timeline)

    @property
    def first_position(self) -> tuple[int, int] | None:
        positions = [history[0][0] for history in self._timeline.values() if history]
        return min(positions) if positions else None


# --- the contracts' code (node_gateway.chain.deployment's checks) --------------------------------


def _check_network(node: _Node, anchor: Anchor, checks: _Checks) -> bool:
    """``chain_id``, ``contract.*`` and ``registry_link``: the anchor's contracts on this node."""
    try:
        found = check_deployment(
            node.w3,
            chain_id=anchor.chain_id,
            member_registry=anchor.member_registry,
            confirmation_registry=anchor.confirmation_registry,
            verifiers=anchor.verifiers,
        )
    except NodeUnavailable as exc:
        raise VerifierError(f"the node does not answer: {exc}") from exc
    except ChainError as exc:
        raise VerifierError(str(exc)) from exc
    results = [checks.add(check.name, check.ok, check.detail) for check in found]
    return all(results) and found[-1].name == "registry_link"


def verify_contracts(w3: Web3, anchor: Anchor | NetworkFile) -> Report:
    """Checks that the anchor's contracts on the node are the committed build, bound to this
    network (``confirmnet verify contracts``)."""
    started = time.perf_counter()
    anchor = Anchor.of(anchor)
    report = Report(anchor=anchor)
    _check_network(_Node(w3), anchor, _Checks(NETWORK, report))
    report.seconds = time.perf_counter() - started
    return report


# --- the package -------------------------------------------------------------------------------


@dataclass
class _Chain:
    """What the verifier read from the node for a package."""

    members: MembershipHistory
    names: dict[int, str]
    events: dict[str, list[ChainEvent]]
    records: dict[str, Letter | None]
    timestamps: dict[int, int]  # block number -> its time, for each block with a step
    mandates: dict[tuple[int, str, str, int], int | NodeRejected]
    chain_id: int
    registry: str
    # What each distinct authorisation of the package says was signed (one authorisation covers
    # many letters: its EIP-712 digest and any recovery are computed once).
    signed: dict[tuple[Any, ...], _Signed | None] = field(default_factory=dict)
    # A signer that is no ordinary key (a contract account, a passkey, a P-256 or RSA key): whether
    # the registry's own isValidAuditeeSignature accepted its signature at the authorisation's block.
    key_signatures: dict[tuple[str, str, str, int], bool | NodeRejected] = field(default_factory=dict)
    # The inner nodes of the requests trees met so far ((node, sibling as written) -> parent): the
    # letters under one root share all but their lowest, so each is hashed and decoded once.
    tree_nodes: dict[tuple[bytes, str], bytes] = field(default_factory=dict)


def verify_package(
    package: EvidencePackage,
    w3: Web3,
    *,
    anchor: Anchor | NetworkFile,
    progress: Callable[[int], None] = lambda _: None,
    workers: int = 1,
) -> Report:
    """Checks every document and chain reference of ``package`` against the node behind ``w3``,
    on the network of ``anchor`` (a network file or pinned addresses the caller already trusts):
    a package naming any other network fails the ``anchor`` check and nothing else is read.

    The chain is read once, here; ``workers`` > 1 checks the letters in that many processes, in
    chunks, with the same report as one."""
    with paused_collection():
        return _verify_package(package, w3, anchor=anchor, progress=progress, workers=workers)


def _verify_package(
    package: EvidencePackage,
    w3: Web3,
    *,
    anchor: Anchor | NetworkFile,
    progress: Callable[[int], None],
    workers: int,
) -> Report:
    started = time.perf_counter()
    anchor = Anchor.of(anchor)
    report = Report(letters=len(package.letters), anchor=anchor)
    checks = _Checks(NETWORK, report)
    node = _Node(w3)
    network = package.network
    differences = anchor.differences(network)
    checks.add(
        "anchor",
        not differences,
        "not the trusted network: " + "; ".join(differences)
        if differences
        else f"the package names the trusted network ({anchor.source})",
    )
    sound = not differences and _check_network(node, anchor, checks)
    if not sound:
        checks.note("letters", "not checked: the package's network is not the trusted one on this node")
        report.seconds = time.perf_counter() - started
        return report
    chain, reads = _read_chain_and_documents(node, package, anchor, workers)
    first = chain.members.first_position
    checks.add(
        "deployment_block",
        first is not None and first[0] == network.deployment_block,
        f"the MemberRegistry was deployed in block {first[0] if first else '?'}, the package says "
        f"{network.deployment_block}",
    )
    for checked, documents, letters in _verify_letters(package.letters, chain, workers, reads):
        report.checks += checked
        report.documents += documents
        progress(letters)
    report.seconds = time.perf_counter() - started
    return report


# While the chain is read, the GIL changes hands this often (Python's default is 5 ms): the thread
# reading the node, its answer arrived, waits no longer than this for the documents' reading.
_SWITCH_INTERVAL_S = 0.0005

# A letter's documents as read before the chain is (kind -> what was read).
_Reads = dict[str, ReadDocument]
# The most letters whose documents are read ahead (some 35 KB a letter held until checked); the
# others' are read as they are checked, as are all once the chain has been read.
PREREAD_LETTERS = 2_000


def _read_chain_and_documents(
    node: _Node, package: EvidencePackage, anchor: Anchor, workers: int
) -> tuple[_Chain, list[_Reads]]:
    """The chain read in a thread, and meanwhile (checking in this process) the documents read,
    letter by letter, until it is done (or :data:`PREREAD_LETTERS` are): the node's time spent
    answering is no longer added to the reading's. With a pool, its processes read them."""
    interval = sys.getswitchinterval()
    reads: list[_Reads] = []
    with ThreadPoolExecutor(1, thread_name_prefix="chain-read") as reader:
        reading = reader.submit(_read_chain, node, package, anchor)
        try:
            sys.setswitchinterval(min(interval, _SWITCH_INTERVAL_S))
            for entry in package.letters[:PREREAD_LETTERS] if workers <= 1 else ():
                if reading.done():
                    break
                reads.append(_read_documents(entry))
        finally:
            sys.setswitchinterval(interval)
        return reading.result(), reads


def _read_documents(entry: EvidenceLetter) -> _Reads:
    """The letter's documents, each read once."""
    reads: _Reads = {"letter": read_stored(kind="letter", text=entry.letter)}
    if entry.reply is not None:
        reads["reply"] = read_stored(kind="reply", text=entry.reply)
    return reads


# --- the letters, in one process or several -----------------------------------------------------

CHUNK = 100  # letters per piece of work: the progress shown, and what a worker process takes

# What a worker process checks letters against, set when the pool starts it: inherited where
# processes are forked (Linux), pickled to each worker where they are spawned.
_shared: tuple[Sequence[EvidenceLetter], _Chain] | None = None


def _share(letters: Sequence[EvidenceLetter], chain: _Chain) -> None:
    global _shared
    _shared = (letters, chain)


def _check_letters(
    letters: Sequence[EvidenceLetter], chain: _Chain, reads: Sequence[_Reads] = ()
) -> tuple[list[Check], int, int]:
    """The checks of ``letters``, their documents and their count; ``reads`` the documents of the
    first of them as :func:`_read_documents` read them ahead."""
    report = Report()
    for index, entry in enumerate(letters):
        report.documents += 1 + (entry.reply is not None)
        read = reads[index] if index < len(reads) else {}
        _verify_letter(entry, chain, _Checks(entry.letter_id, report), read)
    return report.checks, report.documents, len(letters)


def _check_shared(span: tuple[int, int]) -> tuple[list[Check], int, int]:
    assert _shared is not None, "a worker process checks only what the pool shared with it"
    letters, chain = _shared
    return _check_letters(letters[span[0] : span[1]], chain)


def _verify_letters(
    letters: Sequence[EvidenceLetter], chain: _Chain, workers: int, reads: Sequence[_Reads] = ()
) -> Iterator[tuple[list[Check], int, int]]:
    """Each chunk's checks, documents and letters, in the package's order."""
    workers = max(1, min(workers, len(letters)))
    size = max(1, min(CHUNK, -(-len(letters) // (workers * 4))))  # at least four chunks a worker
    spans = [(start, min(start + size, len(letters))) for start in range(0, len(letters), size)]
    if workers == 1:
        yield from (_check_letters(letters[start:stop], chain, reads[start:stop]) for start, stop in spans)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_share, initargs=(letters, chain)
    ) as pool:
        yield from pool.map(_check_shared, spans)


def _read_chain(node: _Node, package: EvidencePackage, anchor: Anchor) -> _Chain:
    members = _Abi(MemberRegistry(node.w3, anchor.member_registry))
    confirmations = _Abi(ConfirmationRegistry(node.w3, anchor.confirmation_registry))
    member_events = members.decode_logs(node.logs(members.address, 0))
    history = MembershipHistory(member_events)
    ids = sorted({e.letter_id.lower() for e in package.letters if len(_bytes(e.letter_id) or b"") == 32})
    start = member_events[0].block_number if member_events else package.network.deployment_block
    events: dict[str, list[ChainEvent]] = {i: [] for i in ids}
    chunks = [[None, ids[offset : offset + TOPIC_CHUNK]] for offset in range(0, len(ids), TOPIC_CHUNK)]
    for event in confirmations.decode_logs(node.logs(confirmations.address, start, chunks)):
        letter_id = _hex(event.args.get("letterId", b""))
        if letter_id in events:
            events[letter_id].append(event)
    # getLetter(bytes32): its selector, then the id itself (a bytes32 is its own ABI encoding).
    selector = to_hex(confirmations.contract.encode_call("getLetter", bytes(32))[:4])
    to = confirmations.address
    raw = node.many([("eth_call", [{"to": to, "data": selector + i[2:]}, "latest"]) for i in ids])
    records = {
        letter_id: _letter_record(confirmations, letter_id, result)
        for letter_id, result in zip(ids, raw, strict=True)
    }
    chain_id = int(node.one("eth_chainId", []), 16)
    signed = _signed_authorisations(package, chain_id, confirmations.address)
    auditee_steps = _auditee_steps(package, events, signed)
    # The time of each step's block: in its log where the node gives it there (most do), else
    # from the block's header.
    steps = [e for found in events.values() for e in found]
    timestamps = {e.block_number: e.block_timestamp for e in steps if e.block_timestamp is not None}
    timestamps |= node.timestamps({e.block_number for e in steps} - timestamps.keys())
    member_ids = history.member_ids
    raw = node.many(
        [("eth_call", [members.call("getMember", member_id), "latest"]) for member_id in member_ids]
    )
    names = {}
    for member_id, result in zip(member_ids, raw, strict=True):
        decoded = members.result("getMember", result)
        names[member_id] = str(decoded[0][4]) if decoded else f"member {member_id}"
    return _Chain(
        members=history,
        names=names,
        events=events,
        records=records,
        timestamps=timestamps,
        mandates=_read_mandates(node, confirmations, auditee_steps, records),
        chain_id=chain_id,
        registry=confirmations.address,
        signed=signed,
        key_signatures=_read_key_signatures(node, confirmations, auditee_steps),
    )


# getLetter's output, a struct of static words: (status uint8, firm uint32, bank uint32, dueAt
# uint64) then auditeeRef, letterHash and replyHash (bytes32).
_LETTER_INTS = (2**8, 2**32, 2**32, 2**64)


def _letter_record(confirmations: _Abi, letter_id: str, raw: Any) -> Letter | None:
    """The chain's record of a letter from getLetter's output: its words read by slicing (the ABI
    decoder takes longer than the rest of the read), the decoder judging anything unexpected."""
    if isinstance(raw, NodeRejected) or raw is None:
        return None
    data = from_hex(raw)
    words = [data[i : i + 32] for i in range(0, len(data), 32)]
    numbers = [int.from_bytes(word, "big") for word in words[:4]]
    if len(data) == 7 * 32 and all(n < bound for n, bound in zip(numbers, _LETTER_INTS, strict=True)):
        status, firm, bank, due_at = numbers
        auditee_ref, letter_hash, reply_hash = words[4:]
    else:
        decoded = confirmations.result("getLetter", raw)
        if decoded is None:
            return None
        status, firm, bank, due_at, auditee_ref, letter_hash, reply_hash = decoded[0]
    return Letter(
        from_hex(letter_id), LetterStatus(status), firm, bank, due_at, auditee_ref, letter_hash, reply_hash
    )


@dataclass(frozen=True)
class _Signed:
    """What a package's authorisation says was signed: by whom (ERC-7913 bytes), the EIP-712
    digest, the signature, and whether an ordinary key's recovery alone proves it."""

    signer: bytes
    digest: bytes
    signature: bytes
    recovered: bool
    signer_id: bytes  # keccak256 of the signer, as events name it


def _signed(auth: EvidenceAuthorisation, chain_id: int, registry: str) -> _Signed | None:
    """None if the package's authorisation does not even decode (reported where it is checked)."""
    root, signature = _bytes(auth.requests_root), _bytes(auth.signature)
    try:
        signer = as_signer(auth.signer)
    except ValueError:
        return None
    if root is None or len(root) != 32 or signature is None:
        return None
    if auth.kind == "refuse":
        typed = refusal_typed_data(
            Refusal(root, auth.firm, auth.reason or 0, auth.valid_until, auth.nonce),
            chain_id=chain_id,
            registry=registry,
        )
    else:
        typed = authorisation_typed_data(
            Authorisation(root, auth.firm, auth.valid_until, auth.nonce), chain_id=chain_id, registry=registry
        )
    digest, account = typed_data_digest(typed), account_of(signer)
    recovered = account is not None and _recover(digest, signature) == account.lower()
    return _Signed(signer, digest, signature, recovered, signer_id(signer))


def _authorisation_key(auth: EvidenceAuthorisation) -> tuple[Any, ...]:
    """What makes two letters' authorisations the same signed statement."""
    return (
        auth.kind,
        auth.signer.lower(),
        auth.requests_root.lower(),
        auth.firm,
        auth.valid_until,
        auth.nonce,
        auth.reason,
        auth.signature.lower(),
    )


def _signed_authorisations(
    package: EvidencePackage, chain_id: int, registry: str
) -> dict[tuple[Any, ...], _Signed | None]:
    """Each distinct authorisation of the package, decoded and (an ordinary key's) recovered once."""
    found: dict[tuple[Any, ...], _Signed | None] = {}
    for entry in package.letters:
        auth = entry.authorisation
        if auth is not None and (key := _authorisation_key(auth)) not in found:
            found[key] = _signed(auth, chain_id, registry)
    return found


_AUDITEE_EVENTS = ("LetterAuthorised", "AuthorisationRefused")


def _auditee_steps(
    package: EvidencePackage,
    events: Mapping[str, list[ChainEvent]],
    signed_by_key: Mapping[tuple[Any, ...], _Signed | None],
) -> list[tuple[str, ChainEvent, _Signed]]:
    """Each letter's authorisation or refusal on chain with what its package says was signed, where
    the package names the signer the chain does (by its id)."""
    found = []
    for entry in package.letters:
        letter_id = entry.letter_id.lower()
        event = next((e for e in events.get(letter_id, []) if e.name in _AUDITEE_EVENTS), None)
        auth = entry.authorisation
        signed = None if auth is None else signed_by_key[_authorisation_key(auth)]
        if event is not None and signed is not None and signed.signer_id == event.args["signerId"]:
            found.append((letter_id, event, signed))
    return found


def _read_at_blocks(
    node: _Node, confirmations: _Abi, function: str, reads: Sequence[tuple[Sequence[Any], int]]
) -> list[Any]:
    """A view of the registry per (arguments, block), in one batch: each one's output, or the
    NodeRejected of a node that keeps no state of that block."""
    results = node.many(
        [("eth_call", [confirmations.call(function, *args), hex(block)]) for args, block in reads]
    )
    outputs: list[Any] = []
    for result in results:
        decoded = confirmations.result(function, result)
        rejected = result if isinstance(result, NodeRejected) else NodeRejected("empty")
        outputs.append(decoded[0] if decoded else rejected)
    return outputs


def _read_mandates(
    node: _Node,
    confirmations: _Abi,
    steps: Sequence[tuple[str, ChainEvent, _Signed]],
    records: Mapping[str, Letter | None],
) -> dict[tuple[int, str, str, int], int | NodeRejected]:
    """Each authorising signer's mandate under the reference its authorisation recorded, read at
    the block of that authorisation."""
    keys: set[tuple[int, str, str, int]] = set()
    for letter_id, event, signed in steps:
        record = records.get(letter_id)
        if record is not None:
            keys.add((record.bank, _reference(event), to_hex(signed.signer), event.block_number))
    ordered = sorted(keys)
    reads = [([bank, from_hex(ref), from_hex(signer)], block) for bank, ref, signer, block in ordered]
    found = _read_at_blocks(node, confirmations, "mandateValidUntil", reads)
    return {
        key: value if isinstance(value, NodeRejected) else int(value)
        for key, value in zip(ordered, found, strict=True)
    }


def _key_signature_key(signed: _Signed, block: int) -> tuple[str, str, str, int]:
    return (to_hex(signed.signer), to_hex(signed.digest), to_hex(signed.signature), block)


def _read_key_signatures(
    node: _Node, confirmations: _Abi, steps: Sequence[tuple[str, ChainEvent, _Signed]]
) -> dict[tuple[str, str, str, int], bool | NodeRejected]:
    """The signatures an ordinary key's recovery does not prove, checked by the registry's own
    isValidAuditeeSignature at the block of their authorisation: the contract's check, redone."""
    ordered = sorted(
        {_key_signature_key(signed, event.block_number) for _, event, signed in steps if not signed.recovered}
    )
    reads = [([from_hex(x) for x in key[:3]], key[3]) for key in ordered]
    found = _read_at_blocks(node, confirmations, "isValidAuditeeSignature", reads)
    return {
        key: value if isinstance(value, NodeRejected) else bool(value)
        for key, value in zip(ordered, found, strict=True)
    }


# --- one letter --------------------------------------------------------------------------------


def _verify_letter(entry: EvidenceLetter, chain: _Chain, checks: _Checks, reads: _Reads) -> None:
    letter_id = entry.letter_id.lower()
    record = chain.records.get(letter_id)
    if record is None or record.status == LetterStatus.NONE:
        checks.add("record", False, f"no letter {entry.letter_id} on chain")
        return
    letter, reply = _check_documents(entry, record, checks, reads)
    _check_record(entry, record, checks)
    events = chain.events.get(letter_id, [])
    matched = _check_steps(entry, events, chain, checks)
    _check_lifecycle(entry, record, events, checks)
    _check_timestamps(entry, letter, reply, matched, checks)
    _check_authorisation(entry, record, matched, chain, checks)
    _check_auditee(entry, letter, reply, record, _auditee_event(matched), checks)


def _check_documents(
    entry: EvidenceLetter, record: Letter, checks: _Checks, reads: _Reads
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The documents' checks (of what ``reads`` holds as read already); then the letter and the
    reply (if any) as their hashed text reads, which is all that the other checks read of them."""
    documents: list[tuple[Literal["letter", "reply"], str | None, str | None, str | None]] = [
        ("letter", entry.letter, entry.letter_salt, entry.letter_hash)
    ]
    if entry.reply is not None or any(record.reply_hash):
        documents.append(("reply", entry.reply, entry.reply_salt, entry.reply_hash))
    read: dict[str, dict[str, Any]] = {}
    for kind, text, salt_text, stated_hash in documents:
        if text is None:
            checks.add(f"{kind}.document", False, f"the chain records a {kind}; the package holds none")
            continue
        salt = _bytes(salt_text)
        if salt is None:
            checks.add(f"{kind}.salt", False, f"the {kind} salt is not hex")
            read[kind] = parsed_document(text)
            continue
        stored = check_stored(record, kind=kind, text=text, salt=salt, read=reads.get(kind))
        read[kind] = stored.document
        for name, ok, detail in stored.checks:
            altered = name == "hash" and not ok
            detail += f" (the {kind} document or its salt was altered)" if altered else ""
            checks.add(f"{kind}.{name}", ok, detail)
        if stored.document_hash is not None and (stated_hash or "").lower() != stored.document_hash:
            checks.add(
                f"{kind}.hash",
                False,
                f"the package states the {kind} hash {stated_hash}, the document gives {stored.document_hash}",
            )
    return read.get("letter", {}), read.get("reply")


def _check_record(entry: EvidenceLetter, record: Letter, checks: _Checks) -> None:
    stated = {
        "firm": entry.firm,
        "bank": entry.bank,
        "auditee_ref": entry.auditee_ref.lower() if entry.auditee_ref else None,
        "due_at": entry.due_at,
        "letter_hash": entry.letter_hash.lower(),
    }
    on_chain = {
        "firm": record.firm,
        "bank": record.bank,
        # Zero until the letter is authorised or refused: no reference yet.
        "auditee_ref": to_hex(record.auditee_ref) if any(record.auditee_ref) else None,
        "due_at": record.due_at,
        "letter_hash": to_hex(record.letter_hash),
    }
    if entry.reply_hash is not None or any(record.reply_hash):
        stated["reply_hash"] = (entry.reply_hash or "").lower()
        on_chain["reply_hash"] = to_hex(record.reply_hash)
    wrong = [
        f"{key}: package {stated[key]}, chain {on_chain[key]}"
        for key in stated
        if stated[key] != on_chain[key]
    ]
    checks.add(
        "record",
        not wrong,
        "; ".join(wrong)
        or f"firm {record.firm} to bank {record.bank}, auditee reference, letter hash and due time as on chain",
    )


def _position(event: ChainEvent) -> tuple[int, int]:
    return (event.block_number, event.log_index)


def _check_steps(
    entry: EvidenceLetter, events: Sequence[ChainEvent], chain: _Chain, checks: _Checks
) -> list[tuple[EvidenceStep, ChainEvent]]:
    matched = []
    for index, step in enumerate(entry.steps, start=1):
        name = f"step {index} {step.name}"
        event = events[index - 1] if index <= len(events) else None
        if event is None:
            checks.add(name, False, "the chain has no such step of this letter")
            continue
        timestamp = chain.timestamps.get(event.block_number)
        transaction = to_hex(event.transaction_hash)
        wrong = []
        if step.name != event.name:
            wrong.append(f"event: package {step.name}, chain {event.name}")
        if step.transaction_hash != transaction and step.transaction_hash.lower() != transaction:
            wrong.append(f"transaction hash: package {step.transaction_hash}, chain {transaction}")
        if step.block_number != event.block_number:
            wrong.append(f"block: package {step.block_number}, chain {event.block_number}")
        if timestamp is None:
            wrong.append(f"block {event.block_number} cannot be read")
        elif step.block_timestamp != timestamp:
            wrong.append(f"timestamp: package {step.block_timestamp}, chain {timestamp} ({_when(timestamp)})")
        chain_args = _jsonable(event.args)  # lower-case hex and numbers: no other kind of argument
        if step.args != chain_args and _normal_args(step.args) != chain_args:
            differing = sorted(
                k
                for k in set(step.args) | set(chain_args)
                if _normal(step.args.get(k)) != _normal(chain_args.get(k))
            )
            wrong.append(f"arguments {', '.join(differing)} differ from the chain's")
        if wrong:
            checks.add(name, False, "; ".join(wrong))
            continue
        matched.append((step, event))
        assert timestamp is not None
        checks.add(name, *_recorded_by(event, timestamp, transaction, chain))
    for event in events[len(entry.steps) :]:
        checks.note(f"later {event.name}", f"on chain after the package was made: block {event.block_number}")
    return matched


def _normal(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _normal_args(args: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _normal(value) for key, value in args.items()}


def _recorded_by(event: ChainEvent, timestamp: int, transaction: str, chain: _Chain) -> tuple[bool, str]:
    """Who recorded the step: the member its event names, of the step's role and Active at that
    point of the chain, from that member's account. The contract (its code checked against the
    build) accepts a step from no other sender, so the transaction itself need not be read; the
    members' history says who that was and shows the chain agrees."""
    where = f"block {event.block_number} at {_when(timestamp)}, tx {transaction[:12]}…"
    actor = _ACTOR.get(event.name)
    if actor is None:
        signer = _hex(event.args.get("signerId", b""))
        return True, f"{where}: signed by the signer with id {signer[:12]}…"
    party, role = actor
    member_id = int(event.args[party])
    state = chain.members.at(member_id, _position(event))
    name = chain.names.get(member_id, f"member {member_id}")
    if state is None:
        return False, f"{where}: member {member_id} was not admitted at that point"
    problems = []
    if state.role != role:
        problems.append(f"was a {state.role.name.lower()}, not a {role.name.lower()}")
    if state.status != MemberStatus.ACTIVE:
        problems.append(f"was {state.status.name.lower()}")
    who = f"{role.name.lower()} {name!r} (member {member_id})"
    if problems:
        return False, f"{where}: {who} " + "; ".join(problems)
    return (
        True,
        f"{where}: sent by {who}, {state.status.name.lower()} at that point, from its account {state.account}",
    )


def _check_lifecycle(
    entry: EvidenceLetter, record: Letter, events: Sequence[ChainEvent], checks: _Checks
) -> None:
    status, problems = LetterStatus.NONE, []
    for index, step in enumerate(entry.steps, start=1):
        allowed = _ALLOWED_FROM.get(step.name)
        if allowed is None:
            problems.append(f"step {index} {step.name} is no step of a letter")
            continue
        if status not in allowed:
            problems.append(f"step {index} {step.name} cannot follow {status.name.lower()}")
        status = STATUS_AFTER.get(step.name, status)
    if entry.status.upper() != status.name:
        problems.append(f"the package says {entry.status.lower()}, its steps end {status.name.lower()}")
    if problems:
        checks.add("lifecycle", False, "; ".join(problems))
        return
    detail = " → ".join(s.name.removeprefix("Letter") for s in entry.steps) + f": {status.name.lower()}"
    if record.status != status:
        detail += f"; the chain has since moved on to {record.status.name.lower()}"
    checks.add("lifecycle", True, detail)


@functools.lru_cache(maxsize=4096)  # a block's date, for each letter requested or replied in it
def _chinese_date(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).astimezone(CHINA_TIME).date()


def _check_timestamps(
    entry: EvidenceLetter,
    letter: Mapping[str, Any],
    reply: Mapping[str, Any] | None,
    matched: Sequence[tuple[EvidenceStep, ChainEvent]],
    checks: _Checks,
) -> None:
    at = {step.name: step.block_timestamp for step, _ in matched}
    problems, notes = [], []
    stamps = [step.block_timestamp for step, _ in matched]
    if stamps != sorted(stamps):
        problems.append("the steps' times go backwards")
    letter_date = letter.get("issued_on")
    if "LetterRequested" in at and isinstance(letter_date, str):
        recorded = _chinese_date(at["LetterRequested"])
        if letter_date > recorded.isoformat():
            problems.append(f"the letter is dated {letter_date}, after it was recorded ({recorded})")
    replied_on = reply.get("replied_on") if reply else None
    if "LetterReplied" in at and isinstance(replied_on, str):
        recorded = _chinese_date(at["LetterReplied"])
        if replied_on > recorded.isoformat():
            problems.append(f"the reply is dated {replied_on}, after it was recorded ({recorded})")
        if isinstance(letter_date, str) and replied_on < letter_date:
            # Content to look into, not a broken proof: the hashes still hold.
            checks.note("dates", f"the reply is dated {replied_on}, before the letter ({letter_date})")
        if entry.due_at is not None:
            late = at["LetterReplied"] - entry.due_at
            notes.append(
                f"replied late by {_span(late)}"
                if late > 0
                else f"replied {_span(-late)} before the due time"
            )
    if "LetterRequested" in at and "LetterReplied" in at:
        notes.append(f"request to reply {_span(at['LetterReplied'] - at['LetterRequested'])}")
    checks.add("timestamps", not problems, "; ".join(problems or notes or ["in chain order"]))


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h {rest // 60} min" if days else f"{hours} h {rest // 60} min {rest % 60} s"


def _recover(digest: bytes, signature: bytes) -> str | None:
    try:
        return recover_signer_from_digest(digest, signature).lower()
    except ValueError:  # a signature that does not decode recovers nobody
        return None


def _check_authorisation(
    entry: EvidenceLetter,
    record: Letter,
    matched: Sequence[tuple[EvidenceStep, ChainEvent]],
    chain: _Chain,
    checks: _Checks,
) -> None:
    event = _auditee_event(matched)
    auth = entry.authorisation
    if event is None:
        if auth is not None:
            checks.add("authorisation", False, "the package holds an authorisation the chain does not record")
        elif any(s.name in ("LetterAuthorised", "AuthorisationRefused") for s in entry.steps):
            checks.add("authorisation", False, "the authorisation step does not match the chain")
        else:
            checks.note("authorisation", "not authorised when the package was made")
        return
    if auth is None:
        checks.add(
            "authorisation", False, f"the chain records {event.name}; the package holds no authorisation"
        )
        return
    problems = _authorisation_problems(auth, entry, record, event, chain)
    try:
        signer: str = to_hex(as_signer(auth.signer))
    except ValueError:
        signer = ""
    mandate = chain.mandates.get((record.bank, _reference(event), signer, event.block_number))
    timestamp = chain.timestamps.get(event.block_number)
    mandate_note = ""
    if isinstance(mandate, NodeRejected) or mandate is None:
        mandate_note = "; the node keeps no state of that block, so the mandate was not re-read"
    elif timestamp is not None and mandate < timestamp:
        problems.append(
            f"the signer's mandate at bank {record.bank} did not hold at block {event.block_number}"
        )
    kind = "refused" if auth.kind == "refuse" else "authorised"
    how = (
        "with the Merkle proof"
        if auth.proof is not None
        else "(no proof in the package; the contract checked coverage)"
    )
    checks.add(
        "authorisation",
        not problems,
        "; ".join(problems)
        or f"{kind} by {auth.signer}, mandated by bank {record.bank}, signature over root {auth.requests_root[:12]}… {how}"
        + mandate_note,
    )


def _authorisation_problems(
    auth: EvidenceAuthorisation,
    entry: EvidenceLetter,
    record: Letter,
    event: ChainEvent,
    chain: _Chain,
) -> list[str]:
    problems = []
    expected_kind = "refuse" if event.name == "AuthorisationRefused" else "authorise"
    if auth.kind != expected_kind:
        problems.append(f"the package says {auth.kind}, the chain records {event.name}")
    signed = chain.signed[_authorisation_key(auth)]
    if signed is None:
        return [*problems, "the signer, the requests root or the signature is not hex"]
    root = _bytes(auth.requests_root) or b""
    chain_signer = to_hex(bytes(event.args["signerId"]))
    if signed.signer_id != bytes(event.args["signerId"]):
        problems.append(
            f"the package names signer {auth.signer} (id {to_hex(signed.signer_id)}), "
            f"the chain's signer id is {chain_signer}"
        )
    elif not signed.recovered:
        valid = chain.key_signatures.get(_key_signature_key(signed, event.block_number))
        if valid is False:
            problems.append(f"the signature is not {signer_text(signed.signer)}'s over this authorisation")
        elif valid is None or isinstance(valid, NodeRejected):
            problems.append("the node keeps no state of that block, so the signature could not be checked")
    if event.name == "LetterAuthorised" and to_hex(bytes(event.args["requestsRoot"])) != to_hex(root):
        problems.append(
            f"the signed root {auth.requests_root} is not the chain's {to_hex(bytes(event.args['requestsRoot']))}"
        )
    if event.name == "AuthorisationRefused" and auth.reason != event.args.get("reason"):
        problems.append(f"the package's reason {auth.reason} is not the chain's {event.args.get('reason')}")
    if auth.firm != record.firm:
        problems.append(f"the authorisation is for firm {auth.firm}, the letter's firm is {record.firm}")
    timestamp = chain.timestamps.get(event.block_number)
    if timestamp is not None and auth.valid_until < timestamp:
        problems.append(f"it expired ({_when(auth.valid_until)}) before it was recorded")
    if auth.proof is not None and _proven_root(record, auth.proof, chain.tree_nodes) != root:
        problems.append("the Merkle proof does not lead from this letter's leaf to the signed root")
    return problems


def _proven_root(record: Letter, proof: Sequence[str], nodes: dict[tuple[bytes, str], bytes]) -> bytes | None:
    """The root ``proof`` leads to from the letter's leaf (OpenZeppelin's processProof), each inner
    node hashed once however many letters' proofs pass through it; None for a malformed proof."""
    computed = _leaf_hash(record)
    for text in proof:
        parent = nodes.get((computed, text))
        if parent is None:
            sibling = _bytes(text)
            if sibling is None or len(sibling) != 32:
                return None
            parent = nodes[computed, text] = process_proof(computed, [sibling])
        computed = parent
    return computed


def _leaf_hash(record: Letter) -> bytes:
    """The letter's leaf of its requests tree."""
    return LetterLeaf(record.letter_id, record.letter_hash, record.bank).hash()


def _auditee_event(matched: Sequence[tuple[EvidenceStep, ChainEvent]]) -> ChainEvent | None:
    """The letter's authorisation or refusal on chain, among the package's matched steps."""
    return next((e for _, e in matched if e.name in _AUDITEE_EVENTS), None)


def _reference(event: ChainEvent) -> str:
    """The auditee reference an authorisation or refusal recorded: the signer's mandate's."""
    return to_hex(bytes(event.args["auditeeRef"]))


@functools.lru_cache(maxsize=4096)  # one customer's letters to one bank share its code and salt
def _opened_reference(code: str, salt: bytes) -> str:
    return to_hex(auditee_reference(code, as_salt(salt)))


def _check_auditee(
    entry: EvidenceLetter,
    letter: Mapping[str, Any],
    reply: Mapping[str, Any] | None,
    record: Letter,
    event: ChainEvent | None,
    checks: _Checks,
) -> None:
    """The reference the signer was mandated under opens to the auditee the letter names: the
    signer consented for this auditee. The bank sends the salt with its reply, so a replied letter
    must carry it."""
    if event is None:
        checks.note("auditee_ref", "no reference on chain: the letter was not authorised nor refused")
        return
    reference = _reference(event)
    if entry.auditee_salt is None:
        replied = reply is not None or any(record.reply_hash)
        if replied:
            checks.add(
                "auditee_ref", False, "replied, but the package holds no auditee salt to open the reference"
            )
        else:
            checks.note("auditee_ref", "not opened: the bank sends the auditee salt with its reply")
        return
    auditee = letter.get("auditee")
    code = auditee.get("registration_code", "") if isinstance(auditee, dict) else ""
    salt = _bytes(entry.auditee_salt)
    try:
        if not isinstance(code, str):  # the document hashed right but is not a gateway's: no crash
            raise ValueError("the letter's registration code is not text")
        opened = _opened_reference(code, salt or b"")
    except ValueError as exc:
        checks.add("auditee_ref", False, f"the auditee salt or code is malformed: {exc}")
        return
    checks.add(
        "auditee_ref",
        opened == reference,
        f"the auditee reference of the {event.name} {'opens' if opened == reference else 'does not open'} "
        f"to {code} with the package's auditee salt",
    )
