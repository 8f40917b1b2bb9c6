"""An indexer's catch-up: the bank's gateway offline while letters move and the chain grows, then
started again and timed until its indexer reaches the head.

The bank stops; the driver sends letters (the firm's requests and authorisations go on chain, the
deliveries to the bank wait); anvil mines empty blocks on top, as a QBFT chain makes a block every
two seconds whether or not anything happens; the bank starts. Timed apart: its start (import,
keystore, migrations) and its indexer's catch-up from the answer to ``/health`` to the head. The
letters then go on to their close, which the driver waits for as in any run.

anvil mines empty blocks slowly (``anvil_mine`` gets slower as the chain grows), so the run mines
them twenty at a time for at most ``MINING_S`` and up to one indexer range (``MAX_RANGE``), not
a day's 43,200: a day is derived from the measured rates in docs/SCALE.md.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.e2e import BenchNetwork, Driver, RunResult
from confirmnet.launcher import Gateway, wait_until
from node_gateway.chain.network import NetworkFile
from node_gateway.chain.transactions import wire_rpc
from node_gateway.services.indexer import MAX_RANGE

STALL_S = 120.0
MINING_S = 15.0
MINED_AT_ONCE = 20  # anvil answers within its client's timeout even on a long chain


@dataclass(frozen=True)
class CatchUpResult:
    letters: int
    closed: int  # of them, closed after the bank's return
    blocks: int  # blocks the bank's indexer read on its return
    events: int  # the registries' events in them
    start_seconds: float  # the process started → its /health answers
    catch_up_seconds: float  # /health answers → indexed to the head
    empty_blocks: int  # mined on top of the letters
    empty_range_seconds: float  # one eth_getLogs over the empty blocks, as an indexer round asks

    def as_json(self) -> dict[str, Any]:
        return {
            "letters": self.letters,
            "closed_after_the_return": self.closed,
            "blocks": self.blocks,
            "events": self.events,
            "start_seconds": round(self.start_seconds, 2),
            "catch_up_seconds": round(self.catch_up_seconds, 2),
            "blocks_per_second": round(self.blocks / self.catch_up_seconds)
            if self.catch_up_seconds
            else None,
            "events_per_second": round(self.events / self.catch_up_seconds)
            if self.catch_up_seconds
            else None,
            "empty_range_blocks": self.empty_blocks,
            "empty_range_seconds": round(self.empty_range_seconds, 4),
        }


def _health(gateway: Gateway) -> dict[str, Any]:
    health: dict[str, Any] = httpx.get(gateway.url + "/health", timeout=10).json()
    return health


def _block_number(bench: BenchNetwork) -> int:
    return int(wire_rpc(bench.w3, "eth_blockNumber", []), 16)


def _logs(bench: BenchNetwork, first: int, last: int) -> list[dict[str, Any]]:
    anchor = NetworkFile.load(bench.network.network_file)
    logs: list[dict[str, Any]] = wire_rpc(
        bench.w3,
        "eth_getLogs",
        [
            {
                "address": [anchor.member_registry, anchor.confirmation_registry],
                "fromBlock": hex(first),
                "toBlock": hex(last),
            }
        ],
    )
    return logs


def measure_catch_up(bench: BenchNetwork, driver: Driver, letters: int) -> CatchUpResult:
    bank = bench.bank
    indexed = int(_health(bank)["indexed_to_block"])
    bank.stop()
    outcome: list[RunResult] = []
    sending = threading.Thread(
        target=lambda: outcome.append(driver.run(letters, rate=None, stall_s=STALL_S)), daemon=True
    )
    sending.start()

    def events_since() -> int:
        head = _block_number(bench)
        return len(_logs(bench, indexed + 1, head)) if head > indexed else 0

    # Requests and authorisations: two events a letter, while the bank is away.
    wait_until(lambda: events_since() >= 2 * letters, STALL_S, "the letters on chain", progress=events_since)
    mined_from = _block_number(bench) + 1
    mining_until = time.monotonic() + MINING_S
    while _block_number(bench) + 1 - mined_from < MAX_RANGE and time.monotonic() < mining_until:
        wire_rpc(bench.w3, "anvil_mine", [hex(MINED_AT_ONCE)])
    head = _block_number(bench)
    started = time.perf_counter()
    _logs(bench, mined_from, head)
    empty_range = time.perf_counter() - started
    events = len(_logs(bench, indexed + 1, head))
    started = time.perf_counter()
    bank.spawn()
    bank.wait_started()
    answered = time.perf_counter()
    wait_until(
        lambda: int(_health(bank)["indexed_to_block"] or 0) >= head,
        STALL_S,
        "the bank's indexer to reach the head",
        progress=lambda: _health(bank)["indexed_to_block"],
        poll_s=0.05,
    )
    caught_up = time.perf_counter()
    sending.join()
    return CatchUpResult(
        letters=letters,
        closed=outcome[0].closed if outcome else 0,
        blocks=head - indexed,
        events=events,
        start_seconds=answered - started,
        catch_up_seconds=caught_up - answered,
        empty_blocks=head + 1 - mined_from,
        empty_range_seconds=empty_range,
    )
