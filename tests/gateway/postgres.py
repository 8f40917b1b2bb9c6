"""The storage tests' throwaway PostgreSQL cluster: ``tools/postgres_cluster.py``, which ``make bench``
uses too."""

from tools.postgres_cluster import PostgresCluster, PostgresUnavailable, find_binaries

__all__ = ["PostgresCluster", "PostgresUnavailable", "find_binaries"]
