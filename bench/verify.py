"""Offline verification: documents verified per second from evidence packages, against the node.

The firm exports the evidence of closed letters (as an auditor would, through its gateway); the
package is saved to a file (format version 2: each document the text of its hashed bytes); the regulator's verifier (``auditor_client.verifier``) loads it and
checks every document and every step against the chain, trusting no gateway. Timed: loading the
file and verifying it. A document is a letter or a reply.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from bench.e2e import BenchNetwork
from confirmnet.launcher import Gateway, wait_until


@dataclass(frozen=True)
class VerifyResult:
    workers: int  # processes checking the letters (the chain is read once, by the first)
    letters: int
    documents: int
    seconds: float  # median of the rounds: load the file and verify it
    rounds: list[float]
    load_seconds: float  # of it, the median time to load the file
    cpu_seconds: float  # the median CPU time of a round, the pool's processes included
    failures: int

    @property
    def documents_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds > 0 else 0.0

    @property
    def documents_per_cpu_second(self) -> float:
        """What a core of its own would give: on a shared machine, wall time includes waiting for one."""
        return self.documents / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    @property
    def verifying_documents_per_second(self) -> float:
        """The file already loaded: the checks alone."""
        checking = self.seconds - self.load_seconds
        return self.documents / checking if checking > 0 else 0.0


def export_package(firm: Gateway, letter_ids: Sequence[str], path: Path) -> Path:
    """The firm's evidence of ``letter_ids`` in one package file."""
    from auditor_client.evidence import build_package
    from auditor_client.sdk import Client

    with Client(firm.url, api_key=firm.api_keys["auditor"]) as client:
        # The driver sees a close on chain before the firm's indexer may have: the evidence lists
        # the steps the gateway has indexed, and a package without its close fails verification.
        wait_until(
            lambda: all(client.get_letter(i).status == "CLOSED" for i in letter_ids),
            120,
            "the firm's gateway to hold every close",
            poll_s=0.2,
        )
        evidences = [client.get_evidence(letter_id) for letter_id in letter_ids]
        package = build_package(
            evidences, identity=client.identity(), gateway=firm.url, engagement="confirmnet benchmark"
        )
    package.save(path)
    return path


def stop_gateways(bench: BenchNetwork) -> None:
    """Leaves the node alone running: verification involves no gateway, and idle ones poll."""
    for gateway in bench.network.gateways:
        gateway.stop()


def start_gateways(bench: BenchNetwork) -> None:
    """The gateways :func:`stop_gateways` stopped, started again on their databases."""
    for gateway in bench.network.gateways:
        gateway.spawn()
    for gateway in bench.network.gateways:
        gateway.wait_started()


def _cpu_seconds() -> float:
    """User and system CPU of this process and of its children that have ended (a pool's)."""
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


def measure_verification(
    path: Path, w3: Web3, *, network_file: Path, workers: int = 1, rounds: int = 3
) -> VerifyResult:
    from auditor_client.evidence import load_package
    from auditor_client.verifier import verify_package
    from node_gateway.chain.network import NetworkFile

    anchor = NetworkFile.load(network_file)  # the trust anchor: never the package's own addresses

    times: list[float] = []
    loads: list[float] = []
    cpu: list[float] = []
    documents = letters = failures = 0
    for _ in range(rounds):
        started, cpu_before = time.perf_counter(), _cpu_seconds()
        package = load_package(path)
        loads.append(time.perf_counter() - started)
        report = verify_package(package, w3, anchor=anchor, workers=workers)
        times.append(time.perf_counter() - started)
        cpu.append(_cpu_seconds() - cpu_before)
        documents, letters, failures = report.documents, report.letters, len(report.failures)
    return VerifyResult(
        workers=workers,
        letters=letters,
        documents=documents,
        seconds=statistics.median(times),
        rounds=times,
        load_seconds=statistics.median(loads),
        cpu_seconds=statistics.median(cpu),
        failures=failures,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.verify``: offline verification alone, as ``bench.run`` measures it, on a
    network of its own: letters taken through to their close, their evidence exported, verified
    in one process and in a pool of every core."""
    import argparse
    import json
    import secrets
    import sys
    import tempfile

    from bench.e2e import Driver, start_network
    from bench.run import _verify_json, machine

    parser = argparse.ArgumentParser(prog="python -m bench.verify", description=main.__doc__)
    parser.add_argument("--letters", type=int, default=1000, help="closed letters in the package")
    parser.add_argument("--out", type=Path, default=Path("bench/results/verification.json"))
    args = parser.parse_args(argv)
    result: dict[str, object] = {
        "command": "python -m bench.verify " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory(prefix="confirmnet-bench-") as scratch:
        bench = start_network(Path(scratch) / "anvil", embedded=False, passphrase=secrets.token_urlsafe(24))
        try:
            driver = Driver(bench)
            driver.run(args.letters, rate=None)
            path = export_package(
                bench.firm, driver.closed_ids[-args.letters :], Path(scratch) / "evidence.json"
            )
            stop_gateways(bench)
            result["package_bytes"] = path.stat().st_size  # evidence format version 2: compact
            result["load_average_before_verifying"] = list(os.getloadavg())
            network_file = bench.network.network_file
            runs = [
                measure_verification(path, bench.w3, network_file=network_file, workers=workers)
                for workers in (1, os.cpu_count() or 1)
            ]
        finally:
            bench.stop()
    result["verification"] = {**_verify_json(runs[0]), "pool": _verify_json(runs[1])}
    result["load_average_at_end"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result["verification"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
