"""Offline verification: documents verified per second from evidence packages, against the node.

The firm exports the evidence of closed letters (as an auditor would, through its gateway); the
package is saved to a file; the regulator's verifier (``auditor_client.verifier``) loads it and
checks every document and every step against the chain, trusting no gateway. Timed: loading the
file and verifying it. A document is a letter or a reply.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from confirmnet.launcher import Gateway, wait_until


@dataclass(frozen=True)
class VerifyResult:
    letters: int
    documents: int
    seconds: float  # median of the rounds: load the file and verify it
    rounds: list[float]
    failures: int

    @property
    def documents_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds > 0 else 0.0


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


def measure_verification(path: Path, w3: Web3, *, network_file: Path, rounds: int = 3) -> VerifyResult:
    from auditor_client.evidence import load_package
    from auditor_client.verifier import verify_package
    from node_gateway.chain.network import NetworkFile

    anchor = NetworkFile.load(network_file)  # the trust anchor: never the package's own addresses

    times: list[float] = []
    documents = letters = failures = 0
    for _ in range(rounds):
        started = time.perf_counter()
        report = verify_package(load_package(path), w3, anchor=anchor)
        times.append(time.perf_counter() - started)
        documents, letters, failures = report.documents, report.letters, len(report.failures)
    return VerifyResult(
        letters=letters,
        documents=documents,
        seconds=statistics.median(times),
        rounds=times,
        failures=failures,
    )
