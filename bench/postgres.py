"""The end-to-end run with PostgreSQL as the firm's and the bank's gateway store (what a large
bank runs), beside the run on SQLite: a throwaway cluster (``tools.postgres_cluster``, as the
storage tests start one), a database for each of the two gateways, the same network and driver.

The server's CPU counts with the gateways': the postmaster's own, its ended children's (the
kernel adds them to the parent's) and its live backends'.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.e2e import BenchNetwork, start_network
from tools.postgres_cluster import PostgresCluster, PostgresUnavailable

__all__ = ["PostgresUnavailable", "postgres_network", "server_cpu"]

ROLES = ("audit_firm", "bank")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _postmaster_pid(cluster: PostgresCluster) -> int:
    return int((cluster.data_dir / "postmaster.pid").read_text().split()[0])


def server_cpu(cluster: PostgresCluster) -> Callable[[], float]:
    """A reading of the cluster's CPU seconds so far: the postmaster with every child, live or ended."""
    postmaster = _postmaster_pid(cluster)
    tick = os.sysconf("SC_CLK_TCK")

    def seconds() -> float:
        ticks = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            fields = _stat(int(entry.name))
            if fields is None:
                continue
            if int(entry.name) == postmaster:  # its own, and its ended children's (cutime, cstime)
                ticks += sum(int(x) for x in fields[11:15])
            elif int(fields[1]) == postmaster:  # a live backend or worker
                ticks += int(fields[11]) + int(fields[12])
        return ticks / tick

    return seconds


@contextmanager
def postgres_network(base: Path, *, passphrase: str) -> Iterator[tuple[BenchNetwork, PostgresCluster]]:
    """The bench's network with the firm's and the bank's store in a fresh PostgreSQL cluster;
    raises :class:`PostgresUnavailable` (with the reason) where none starts."""
    cluster = PostgresCluster.start()
    try:
        with ExitStack() as databases:
            urls = {role: databases.enter_context(cluster.database()) for role in ROLES}
            bench = start_network(base, embedded=False, passphrase=passphrase, database_urls=urls)
            try:
                yield bench, cluster
            finally:
                bench.stop()
    finally:
        cluster.stop()
