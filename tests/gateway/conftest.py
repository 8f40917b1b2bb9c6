"""Database fixtures: the same tests on SQLite and on PostgreSQL.

``database_url`` is parametrised over both backends and gives each test an empty database of
its own: a SQLite file in ``tmp_path``, or a fresh database in a PostgreSQL cluster that the
session starts once (see ``postgres.py``). Where PostgreSQL is not installed or does not start,
the ``postgresql`` cases are skipped with the reason; ``-k sqlite`` or ``-k postgresql`` picks
one backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node_gateway.storage.db import Database

from .postgres import PostgresCluster, PostgresUnavailable

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session (per xdist worker)."""
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL is not available: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database of the backend, for this test only."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    with cluster.database() as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated gateway database of the backend."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()
