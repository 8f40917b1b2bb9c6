"""End to end: complete letters through real gateways, at an offered load, timed on the chain.

A network of an operator, one audit firm and one bank with a core bank and the straight-through
policy (``LocalNetwork``: gateway processes on anvil, or threads on the in-process chain). A driver
plays the auditors and the auditee's signer over the firm's HTTP API:

- the *injector* creates letters in chunks at the offered rate (one ``POST /v1/letters`` per
  chunk, each chunk one customer's letters), asks for what the customer's signer signs, signs it
  (one EIP-712 signature per chunk) and hands it back;
- the *closer* closes the letters whose reply the firm's gateway verified, as they arrive: while
  the chain shows replies it has not closed, it pages through the firm's replied letters.

Everything between — the firm's outbox and indexer, delivery to the bank, the bank's compliance
check, accept, draft from the core, straight-through approval, reply, delivery back — is the
gateways' own work. A *watcher* follows the chain's blocks and the registry's events and notes the
wall-clock time at which each block was first seen; a letter's steps are timed by the blocks of
its events, from the moment its chunk was sent to the firm.
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

from confirmnet.launcher import Gateway, LocalNetwork, MemberSpec, wait_until
from node_gateway.chain.artifacts import load_artifact
from node_gateway.chain.transactions import wire_batch, wire_rpc
from node_gateway.protocol.documents import new_letter_id
from node_gateway.protocol.hashing import to_hex
from node_gateway.services.heads import HeadListener, ws_url_beside

REFERENCE_DATE = date(2025, 12, 31)
# Per currency: the sample and generated letters state CNY, USD, EUR, HKD and JPY amounts.
STRAIGHT_THROUGH_LIMIT = (
    "CNY=100000000000,USD=100000000000,EUR=100000000000,HKD=100000000000,JPY=100000000000"
)
PASSPHRASE_BYTES = 24
MAX_CHUNK = 64  # letters per create call and per signature, as the outbox bundles steps
LIST_PAGE = 1000  # the largest page of the firm's letter list
CLOSE_BATCH = 1000  # letters per close call (the API takes up to 5,000 in one transaction)
STALL_S = 120.0  # a run's letters count as stuck once the chain showed none of their events this long

OPERATOR = MemberSpec("operator", "基准运营方", "51100000500000074H")
FIRM = MemberSpec("audit_firm", "基准会计师事务所", "91310000MA1FL0TE5Q")
BANK_NAME, BANK_CODE = "基准银行", "91310000132206210U"

# The milestones of one letter, in order: when the driver sent it, then its events on chain.
MILESTONES = ("LetterRequested", "LetterAuthorised", "LetterAccepted", "LetterReplied", "LetterClosed")
STEPS = ("request", "authorise", "deliver+accept", "draft+reply", "reply+close")


class BenchError(RuntimeError):
    """The benchmark could not run as planned."""


def _ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


# --- the network --------------------------------------------------------------------------------


@dataclass
class BenchNetwork:
    """A running network and what the driver needs: the firm, the bank, letter templates."""

    network: LocalNetwork
    firm: Gateway
    bank: Gateway
    firm_no: int
    bank_no: int
    # A customer's letter as JSON (its id replaced per use) and the customer's signer: a signer is
    # mandated for one customer of a bank (the firm finds the customer by the signer).
    templates: list[tuple[dict[str, Any], LocalAccount]]

    @property
    def w3(self) -> Web3:
        assert self.network.w3 is not None
        return self.network.w3

    def processes(self) -> dict[str, int]:
        """The processes whose work the run is: this driver, anvil and each gateway (name → pid)."""
        found = {"driver": os.getpid()}
        anvil = self.network.anvil
        if anvil is not None and anvil.pid is not None:
            found["anvil"] = anvil.pid
        for gateway in self.network.gateways:
            if gateway.process is not None:
                found[f"{gateway.role} gateway"] = gateway.process.pid
        return found

    def stop(self) -> None:
        self.network.stop()


def members(base: Path, database_urls: Mapping[str, str] | None = None) -> list[MemberSpec]:
    """The operator, the firm and the bank; ``database_urls`` gives a role's gateway store (the
    SQLAlchemy URL of a PostgreSQL database, say) instead of its SQLite file."""
    urls = database_urls or {}

    def store(role: str) -> dict[str, str]:
        return {"CONFIRMNET_DATABASE_URL": urls[role]} if role in urls else {}

    bank = MemberSpec(
        "bank",
        BANK_NAME,
        BANK_CODE,
        env={
            "CONFIRMNET_CORE_BANKING_URL": f"sqlite:///{base / 'core.db'}",
            "CONFIRMNET_APPROVAL_POLICY": "straight_through",
            "CONFIRMNET_STRAIGHT_THROUGH_LIMIT": STRAIGHT_THROUGH_LIMIT,
            "CONFIRMNET_STRAIGHT_THROUGH_ACCOUNTABLE_NAME": "周明远",
            "CONFIRMNET_STRAIGHT_THROUGH_ACCOUNTABLE_TITLE": "运营管理部总经理",
            **store("bank"),
        },
    )
    firm = MemberSpec(FIRM.role, FIRM.name, FIRM.registration_code, env=store(FIRM.role))
    return [OPERATOR, firm, bank]


def start_network(
    base: Path,
    *,
    embedded: bool,
    customers: int = 24,
    passphrase: str,
    database_urls: Mapping[str, str] | None = None,
) -> BenchNetwork:
    """Starts the network, loads the bank's core and registers a signer for each customer."""
    network = LocalNetwork(base, members(base, database_urls), passphrase=passphrase, embedded=embedded)
    try:
        network.start()
        firm, bank = network.gateways[1], network.gateways[2]
        templates = _prepare(network, firm, bank, customers)
    except BaseException:
        network.stop()
        raise
    return BenchNetwork(network, firm, bank, firm.member_id(), bank.member_id(), templates)


def _prepare(
    network: LocalNetwork, firm: Gateway, bank: Gateway, customers: int
) -> list[tuple[dict[str, Any], LocalAccount]]:
    from bank_adapter.approval import SYSTEM_DRAFTER, ApprovalPolicy
    from bank_adapter.core_rows import CustomerRow, rows_of
    from bank_adapter.core_sql import CoreBank
    from bank_adapter.drafting import draft_reply
    from bank_adapter.generator import generate
    from confirmnet.demo import Customer, compose
    from node_gateway.core.config import parse_currency_limits

    core_url = bank.spec.env["CONFIRMNET_CORE_BANKING_URL"]
    dataset = generate(customers=customers, seed=1, reference_date=REFERENCE_DATE)
    core = CoreBank(core_url)
    core.load(dataset)
    firm_no, bank_no = firm.member_id(), bank.member_id()
    policy = ApprovalPolicy(mode="straight_through", limit=parse_currency_limits(STRAIGHT_THROUGH_LIMIT))
    templates: list[tuple[dict[str, Any], LocalAccount]] = []
    until = int(time.time()) + 365 * 86400
    try:
        with bank.client("officer") as officer:
            for row in rows_of(dataset, CustomerRow):
                signer: LocalAccount = Account.create()
                customer = Customer(row.registration_code, row.name, bank, core_url, firm, signer)
                letter = compose(customer, firm_no, bank_no, exception=False, incomplete=False)
                draft = draft_reply(letter, core.snapshot(row.registration_code, REFERENCE_DATE))
                if policy.needs_review(letter, draft, SYSTEM_DRAFTER.officer_id) is not None:
                    continue  # the bench measures the straight-through path only
                _ok(
                    officer.post(
                        "/v1/mandates",
                        json={
                            "registration_code": row.registration_code,
                            "signer": signer.address,
                            "valid_until": until,
                        },
                    ),
                    202,
                )
                templates.append((letter.model_dump(mode="json", by_alias=True), signer))
    finally:
        core.dispose()
    if not templates:
        raise BenchError("no generated customer's letter goes straight through")
    _wait_for_mandates(network, len(templates))
    return templates


def _wait_for_mandates(network: LocalNetwork, count: int) -> None:
    from node_gateway.chain.contracts import ConfirmationRegistry

    assert network.w3 is not None
    registry = ConfirmationRegistry(network.w3, _registry_address(network))

    def registered() -> bool:
        return sum(e.name == "MandateRegistered" for e in registry.get_events(0)) >= count

    wait_until(registered, 120, "the mandates on chain")


def _registry_address(network: LocalNetwork) -> str:
    from node_gateway.chain.network import NetworkFile

    return NetworkFile.load(network.network_file).confirmation_registry


# --- the watcher --------------------------------------------------------------------------------


def _event_topics() -> dict[str, str]:
    """topic0 (hex) -> event name, for the ConfirmationRegistry's events."""
    topics: dict[str, str] = {}
    for item in load_artifact("ConfirmationRegistry").abi:
        if item["type"] == "event":
            signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            topics[to_hex(keccak(text=signature))] = item["name"]
    return topics


@dataclass
class Transaction:
    events: set[str] = field(default_factory=set)
    letters: set[str] = field(default_factory=set)


class ChainWatcher:
    """Notes when each block is first seen and which letter events it holds: at each block the
    node announces (``newHeads``), else every ``poll_s``."""

    def __init__(self, w3: Web3, registry: str, poll_s: float) -> None:
        self.w3 = w3
        self.registry = registry
        self.poll_s = poll_s
        self._new_head = threading.Event()
        self._heads = HeadListener(ws_url_beside(w3), self._new_head)
        self.topics = _event_topics()
        self.start_block = self._block_number()
        self.last_block = self.start_block
        self.block_seen: dict[int, float] = {}
        self.letters: dict[str, dict[str, float]] = {}
        self.transactions: dict[str, Transaction] = {}
        self.closed = 0
        self.events = 0  # every registry event seen: the run's progress
        self.replied: set[str] = set()  # the letters whose reply the chain shows
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name="chain watcher", daemon=True),
            threading.Thread(target=self._listen, name="new heads", daemon=True),
        ]

    def _block_number(self) -> int:
        return int(wire_rpc(self.w3, "eth_blockNumber", []), 16)

    def _logs(self, first: int, last: int) -> list[dict[str, Any]]:
        """The registry's logs, as the node sent them."""
        logs: list[dict[str, Any]] = wire_rpc(
            self.w3,
            "eth_getLogs",
            [{"address": self.registry, "fromBlock": hex(first), "toBlock": hex(last)}],
        )
        return logs

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._new_head.set()
        self._heads.close()
        for thread in self._threads:
            thread.join(10)

    def _listen(self) -> None:
        while not self._stop.is_set() and self._heads.run_once():
            pass  # until the node offers no subscription: then the watcher polls

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            # A head unannounced (a missed notice) is seen a second later.
            self._new_head.wait(1.0 if self._heads.subscribed else self.poll_s)
            self._new_head.clear()

    def poll(self) -> None:
        latest = self._block_number()
        if latest <= self.last_block:
            return
        seen = time.monotonic()
        logs = self._logs(self.last_block + 1, latest)
        with self._changed:
            for number in range(self.last_block + 1, latest + 1):
                self.block_seen[number] = seen
            for log in logs:
                name = self.topics.get(log["topics"][0])
                if name is None or len(log["topics"]) < 2:
                    continue
                letter_id = log["topics"][1].lower()
                tx = self.transactions.setdefault(log["transactionHash"].lower(), Transaction())
                tx.events.add(name)
                tx.letters.add(letter_id)
                self.events += 1
                times = self.letters.setdefault(letter_id, {})
                if name not in times:
                    times[name] = seen
                    self.closed += name == "LetterClosed"
                if name == "LetterReplied":
                    self.replied.add(letter_id)
            self.last_block = latest
            self._changed.notify_all()

    def wait_closed(self, count: int, stall_s: float) -> bool:
        """Waits until ``count`` letters closed, for as long as events keep coming: False once
        ``stall_s`` passed without a new one."""
        with self._changed:
            seen, deadline = self.events, time.monotonic() + stall_s
            while self.closed < count:
                if self.events != seen:
                    seen, deadline = self.events, time.monotonic() + stall_s
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def replies(self) -> set[str]:
        """The letters whose reply the chain shows so far."""
        with self._changed:
            return set(self.replied)

    def wait_replied(self, known: int, timeout_s: float) -> None:
        """Waits until the chain shows more than ``known`` letters replied, at most ``timeout_s``."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.replied) > known, timeout_s)

    def receipts(self, hashes: Sequence[str]) -> dict[str, OnChain]:
        """What each transaction left on chain: its gas, its calldata's bytes and its logs' bytes."""
        found: dict[str, OnChain] = {}
        asked = [
            (method, [h])
            for h in hashes
            for method in ("eth_getTransactionReceipt", "eth_getTransactionByHash")
        ]
        answers = [
            answer
            for start in range(0, len(asked), 200)
            for answer in wire_batch(self.w3, asked[start : start + 200])
        ]
        for tx_hash, receipt, transaction in zip(hashes, answers[0::2], answers[1::2], strict=True):
            if not isinstance(receipt, dict) or not isinstance(transaction, dict):
                raise BenchError(f"the node does not tell transaction {tx_hash}: {receipt!r} {transaction!r}")
            calldata = transaction["input"]
            logs = sum(20 + 32 * len(log["topics"]) + (len(log["data"]) - 2) // 2 for log in receipt["logs"])
            gas = receipt["gasUsed"]  # hex from a node, a number from the in-process chain
            found[tx_hash] = OnChain(
                int(gas, 16) if isinstance(gas, str) else int(gas), (len(calldata) - 2) // 2, logs
            )
        return found


@dataclass(frozen=True)
class OnChain:
    """A transaction's gas and bytes: its calldata (the signed envelope adds about 110 bytes a
    transaction), and its logs (address, topics and data) as the receipts hold them."""

    gas: int
    calldata_bytes: int
    log_bytes: int


# --- the driver ---------------------------------------------------------------------------------


@dataclass
class Percentiles:
    p50: float
    p95: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles | None:
        if not values:
            return None
        ordered = sorted(values)
        return cls(p50=_quantile(ordered, 0.5), p95=_quantile(ordered, 0.95), n=len(ordered))


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class RunResult:
    offered: float | None  # letters per second offered; None: as fast as the driver can
    letters: int
    closed: int
    injected_seconds: float
    seconds: float  # from the first letter sent to the last closed on chain
    closing_seconds: float  # from the first letter closed on chain to the last
    chunk: int
    step_samples: dict[str, list[float]]  # seconds, one per closed letter
    total_samples: list[float]
    gas_per_letter: float
    gas_by_step: dict[str, float]  # per letter
    transactions: int
    calldata_bytes_per_letter: float
    log_bytes_per_letter: float

    @property
    def steps(self) -> dict[str, Percentiles | None]:
        return {step: Percentiles.of(values) for step, values in self.step_samples.items()}

    @property
    def total(self) -> Percentiles | None:
        return Percentiles.of(self.total_samples)

    @property
    def throughput(self) -> float:
        """Letters closed per second of the run's wall time (the pipeline's fill and drain included)."""
        return self.closed / self.seconds if self.seconds > 0 else 0.0

    @property
    def closing_rate(self) -> float:
        """Letters closed per second while they were closing: the steady rate, without the fill."""
        return (self.closed - 1) / self.closing_seconds if self.closing_seconds > 0 else 0.0

    @property
    def injected_rate(self) -> float:
        return self.letters / self.injected_seconds if self.injected_seconds > 0 else 0.0


def _category(events: set[str]) -> str:
    if events <= {"LetterRequested"}:
        return "request"
    if events <= {"LetterAuthorised"}:
        return "authorise"
    if events <= {"LetterAccepted", "LetterReplied"}:
        return "accept+reply"
    if events <= {"LetterClosed"}:
        return "close"
    return "mixed"


@dataclass(frozen=True)
class Backlog:
    """A run's letters on their way at one moment."""

    in_flight: int  # offered (due by the run's schedule) and not closed on chain
    awaiting_close: int  # replied on chain and not closed: the closes' queue
    untaken: int  # offered and not yet taken by the firm's API: the injection behind its schedule


class Driver:
    """Plays the auditors and the auditee's signer against the firm's gateway."""

    def __init__(self, bench: BenchNetwork, *, poll_s: float = 0.05, injectors: int = 2) -> None:
        self.bench = bench
        self.poll_s = poll_s
        self.injectors = injectors
        self.sent_at: dict[str, float] = {}
        self.closed_ids: list[str] = []  # every letter closed so far, in the order of the runs
        self._lock = threading.Lock()
        self._template = 0
        self._offered = 0  # the running run's letters due so far (handed to the injectors)
        self._taken = 0  # the running run's letters the firm's API took
        self._watcher: ChainWatcher | None = None  # the running run's

    def backlog(self) -> Backlog | None:
        """The running run's letters on their way; None between runs."""
        watcher = self._watcher
        if watcher is None:
            return None
        closed, replied = watcher.closed, len(watcher.replies())
        with self._lock:
            offered, taken = self._offered, self._taken
        return Backlog(in_flight=offered - closed, awaiting_close=replied - closed, untaken=offered - taken)

    def _drafts(self, count: int) -> tuple[list[dict[str, Any]], LocalAccount]:
        """A chunk: ``count`` letters of the next customer, and the customer's signer."""
        due = int(time.time()) + 14 * 86400
        letter, signer = self.bench.templates[self._template % len(self.bench.templates)]
        self._template += 1
        drafts = [{"letter": {**letter, "letter_id": new_letter_id()}, "due_at": due} for _ in range(count)]
        return drafts, signer

    def _inject(self, client: httpx.Client, drafts: list[dict[str, Any]], signer: LocalAccount) -> None:
        ids = [d["letter"]["letter_id"] for d in drafts]
        sent = time.monotonic()
        with self._lock:
            self.sent_at.update(dict.fromkeys(ids, sent))
        _ok(client.post("/v1/letters", json={"letters": drafts}), 201)
        with self._lock:
            self._taken += len(ids)
        bundle = _ok(client.post("/v1/authorisations/requests", json={"letter_ids": ids}))
        typed, message = bundle["typed_data"], bundle["typed_data"]["message"]
        signature = signer.sign_message(encode_typed_data(full_message=typed)).signature
        _ok(
            client.post(
                "/v1/authorisations",
                json={
                    "letter_ids": ids,
                    "requests_root": message["requestsRoot"],
                    "firm": message["firm"],
                    "valid_until": message["validUntil"],
                    "nonce": message["nonce"],
                    "signature": to_hex(signature),
                },
            ),
            202,
        )

    def _close_loop(self, ids: set[str], stop: threading.Event, watcher: ChainWatcher) -> None:
        """Closes the letters whose reply the firm verified, looking for them while the chain shows
        replies that are not being closed yet."""
        closing: set[str] = set()
        with self.bench.firm.client("auditor") as client:
            while not stop.is_set() and len(closing) < len(ids):
                replied = watcher.replies()
                waiting = (replied & ids) - closing
                if not waiting:
                    watcher.wait_replied(len(replied), self.poll_s * 10)
                    continue
                ready = [letter_id for letter_id in self._verified_replies(client) if letter_id in waiting]
                for start in range(0, len(ready), CLOSE_BATCH):
                    self._close(client, ready[start : start + CLOSE_BATCH])
                closing.update(ready)
                if not ready:
                    stop.wait(self.poll_s)

    def _verified_replies(self, client: httpx.Client) -> list[str]:
        """The letters the firm holds as replied and not closed with their reply verified: every
        page of them, each after the last letter of the page before (a cursor: no letter is
        skipped when others close meanwhile), until a page is not full."""
        found: list[str] = []
        params = {"status": "REPLIED", "reply_verified": "true", "limit": str(LIST_PAGE)}
        while True:
            items = _ok(client.get("/v1/letters", params=params))["items"]
            found += [x["letter_id"] for x in items]
            if len(items) < LIST_PAGE:
                return found
            params["after"] = items[-1]["letter_id"]

    def _close(self, client: httpx.Client, letter_ids: list[str]) -> None:
        _ok(client.post("/v1/letters/close", json={"letter_ids": letter_ids}), 202)

    def run(self, letters: int, *, rate: float | None, stall_s: float = STALL_S) -> RunResult:
        """Drives ``letters`` at ``rate`` and waits for their closes for as long as the chain moves
        (``stall_s`` without an event ends the wait: the letters not closed then are stuck)."""
        chunk = MAX_CHUNK if rate is None else max(1, min(MAX_CHUNK, round(rate / 4)))
        chunks = [self._drafts(min(chunk, letters - i)) for i in range(0, letters, chunk)]
        ids = {d["letter"]["letter_id"] for c, _ in chunks for d in c}
        w3 = self.bench.w3
        watcher = ChainWatcher(
            w3, _registry_address(self.bench.network), 0.01 if not self.bench.network.embedded else 0.03
        )
        watcher.start()
        with self._lock:
            self._offered, self._taken, self._watcher = 0, 0, watcher
        stop = threading.Event()
        closer = threading.Thread(target=self._close_loop, args=(ids, stop, watcher), daemon=True)
        closer.start()
        started = time.monotonic()
        clients = [self.bench.firm.client("auditor", timeout_s=300) for _ in range(self.injectors)]
        pool = ThreadPoolExecutor(self.injectors)
        try:
            futures = []
            for index, (drafts, signer) in enumerate(chunks):
                if rate is not None:
                    delay = started + index * chunk / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                futures.append(pool.submit(self._inject, clients[index % self.injectors], drafts, signer))
                with self._lock:
                    self._offered += len(drafts)
                if rate is None:
                    # As fast as it goes, but no further ahead than the injectors can work.
                    busy = {f for f in futures if not f.done()}
                    if len(busy) >= self.injectors:
                        wait(busy, return_when=FIRST_COMPLETED)
            for future in futures:
                future.result()
            injected = time.monotonic() - started
            watcher.wait_closed(len(ids), stall_s)
        finally:
            # An interrupted or failed run sends none of the chunks still waiting for an injector.
            pool.shutdown(cancel_futures=True)
            stop.set()
            closer.join(10)
            watcher.stop()
            self._watcher = None
            for client in clients:
                client.close()
        return self._result(watcher, ids, rate, chunk, started, injected)

    def _result(
        self,
        watcher: ChainWatcher,
        ids: set[str],
        rate: float | None,
        chunk: int,
        started: float,
        injected: float,
    ) -> RunResult:
        steps: dict[str, list[float]] = {s: [] for s in STEPS}
        totals: list[float] = []
        last = started
        first = math.inf
        closed = 0
        for letter_id in ids:
            times = watcher.letters.get(letter_id, {})
            if "LetterClosed" not in times:
                continue
            closed += 1
            self.closed_ids.append(letter_id)
            marks = [self.sent_at[letter_id], *(times[m] for m in MILESTONES)]
            for step, (a, b) in zip(STEPS, itertools.pairwise(marks), strict=True):
                steps[step].append(max(0.0, b - a))
            totals.append(marks[-1] - marks[0])
            last = max(last, marks[-1])
            first = min(first, marks[-1])
        ours = [h for h, tx in watcher.transactions.items() if tx.letters & ids]
        on_chain = watcher.receipts(ours)
        by_step: dict[str, float] = {}
        for tx_hash in ours:
            category = _category(watcher.transactions[tx_hash].events)
            by_step[category] = by_step.get(category, 0) + on_chain[tx_hash].gas
        count = max(1, len(ids))
        return RunResult(
            offered=rate,
            letters=len(ids),
            closed=closed,
            injected_seconds=injected,
            seconds=last - started,
            closing_seconds=last - first if closed > 1 else 0.0,
            chunk=chunk,
            step_samples=steps,
            total_samples=totals,
            gas_per_letter=sum(x.gas for x in on_chain.values()) / count,
            gas_by_step={k: v / count for k, v in sorted(by_step.items())},
            transactions=len(ours),
            calldata_bytes_per_letter=sum(x.calldata_bytes for x in on_chain.values()) / count,
            log_bytes_per_letter=sum(x.log_bytes for x in on_chain.values()) / count,
        )


def unloaded(driver: Driver, letters: int) -> RunResult:
    """One letter at a time: each is sent when the one before is closed."""
    results = [driver.run(1, rate=None, stall_s=60) for _ in range(letters)]
    return merge(results)


def merge(results: Sequence[RunResult]) -> RunResult:
    """Several runs as one: summed counts, times and gas; the samples of all letters."""
    letters = sum(r.letters for r in results)
    gas_by_step: dict[str, float] = {}
    for r in results:
        for step, gas in r.gas_by_step.items():
            gas_by_step[step] = gas_by_step.get(step, 0.0) + gas * r.letters / letters
    return RunResult(
        offered=results[0].offered,
        letters=letters,
        closed=sum(r.closed for r in results),
        injected_seconds=sum(r.injected_seconds for r in results),
        seconds=sum(r.seconds for r in results),
        closing_seconds=0.0,
        chunk=results[0].chunk,
        step_samples={s: [v for r in results for v in r.step_samples[s]] for s in STEPS},
        total_samples=[v for r in results for v in r.total_samples],
        gas_per_letter=sum(r.gas_per_letter * r.letters for r in results) / letters,
        gas_by_step=gas_by_step,
        transactions=sum(r.transactions for r in results),
        calldata_bytes_per_letter=sum(r.calldata_bytes_per_letter * r.letters for r in results) / letters,
        log_bytes_per_letter=sum(r.log_bytes_per_letter * r.letters for r in results) / letters,
    )


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0
