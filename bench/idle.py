"""An idle network's CPU: what the gateways and the node cost while no letter moves.

The demo's network (an operator, two audit firms, three banks with their core banks, a regulator)
as gateway processes on anvil, started, admitted and left to settle; then the user and system CPU
time of every gateway process and of anvil over a window, from ``/proc``. ``python -m bench.idle``
measures it alone; ``bench.run`` measures it as part of ``make bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confirmnet.demo import load_core_banks, members
from confirmnet.launcher import LocalNetwork, cpu_ticks

WINDOW_S = 60.0
# How long nothing may change in the gateways' /health (chain head, indexers, outboxes) before the
# network counts as settled: the admissions' and endpoints' transactions done and indexed.
SETTLED_S = 10.0
CUSTOMERS_PER_BANK = 5


@dataclass(frozen=True)
class IdleResult:
    window_s: float
    cpu_s: dict[str, float]  # per process kind (anvil, operator gateway, audit_firm gateway, …)
    processes: dict[str, int]  # how many processes of each kind

    @property
    def total_cpu_s(self) -> float:
        return sum(self.cpu_s.values())

    @property
    def share_of_one_core(self) -> float:
        return self.total_cpu_s / self.window_s

    def as_json(self) -> dict[str, Any]:
        return {
            "window_seconds": round(self.window_s, 1),
            "cpu_seconds": {kind: round(seconds, 3) for kind, seconds in self.cpu_s.items()},
            "processes": self.processes,
            "percent_of_one_core": {
                kind: round(100 * seconds / self.window_s, 2) for kind, seconds in self.cpu_s.items()
            },
            "percent_of_one_core_total": round(100 * self.share_of_one_core, 2),
        }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    ticks = cpu_ticks(pid)
    if ticks is None:
        raise RuntimeError(f"process {pid} is gone: the idle figure would be wrong")
    return ticks / os.sysconf("SC_CLK_TCK")


def processes(network: LocalNetwork) -> dict[int, str]:
    """The network's processes: pid → kind."""
    found: dict[int, str] = {}
    if network.anvil is not None and network.anvil.pid is not None:
        found[network.anvil.pid] = "anvil"
    for gateway in network.gateways:
        if gateway.process is not None:
            found[gateway.process.pid] = f"{gateway.role} gateway"
    return found


def settle(network: LocalNetwork, quiet_s: float = SETTLED_S) -> None:
    """Waits until the gateways' /health figures stay the same for ``quiet_s``, with nothing pending."""
    seen, since = None, time.monotonic()
    while True:
        now = network.activity()
        pending = any(h is not None and (h[3] or h[4]) for h in now)  # type: ignore[attr-defined]
        if now != seen or pending:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(1.0)


def measure(network: LocalNetwork, window_s: float = WINDOW_S) -> IdleResult:
    """The CPU each kind of process of the settled network uses over ``window_s``."""
    kinds = processes(network)
    before = {pid: cpu_seconds(pid) for pid in kinds}
    started = time.monotonic()
    time.sleep(window_s)  # the window itself: nothing of ours may run in it
    elapsed = time.monotonic() - started
    cpu: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for pid, kind in kinds.items():
        cpu[kind] += cpu_seconds(pid) - before[pid]
        count[kind] += 1
    return IdleResult(elapsed, dict(sorted(cpu.items())), dict(sorted(count.items())))


def measure_idle(base: Path, *, window_s: float = WINDOW_S, passphrase: str) -> IdleResult:
    """Starts the demo's network under ``base``, lets it settle and measures it idle."""
    network = LocalNetwork(base, members(base), passphrase=passphrase)
    try:
        network.start()
        load_core_banks(network, CUSTOMERS_PER_BANK)
        settle(network)
        return measure(network, window_s)
    finally:
        network.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.idle", description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=WINDOW_S, help="seconds measured")
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="confirmnet-idle-") as scratch:
        result = measure_idle(Path(scratch), window_s=args.window, passphrase=secrets.token_urlsafe(24))
    found = {"load_average": list(os.getloadavg()), **result.as_json()}
    text = json.dumps(found, indent=2, ensure_ascii=False)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
