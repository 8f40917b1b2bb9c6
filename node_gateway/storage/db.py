"""Engine, sessions and migrations. SQLite by default (WAL, so the API and the workers can share
it), PostgreSQL by URL.

The schema is the core's revisions (``migrations/versions``, from the base revision 0001) and one
Alembic branch per plugin (``node_gateway.plugins``), each in its own directory; ``migrate`` brings
every branch to its head.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from node_gateway import plugins as gateway_plugins
from node_gateway.storage.models import Base

if TYPE_CHECKING:
    from node_gateway.plugins import GatewayPlugin

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# Alembic keeps its running migration context in module state: one migration at a time per process.
_MIGRATING = threading.Lock()


def schema_metadata(plugins: Sequence[GatewayPlugin] | None = None) -> list[MetaData]:
    """The metadata of the core's tables and of the plugins' (the installed ones unless given)."""
    return [Base.metadata, *(branch.metadata for branch in gateway_plugins.migration_branches(plugins))]


def alembic_config(plugins: Sequence[GatewayPlugin] | None = None) -> Config:
    """The Alembic configuration of the core's revisions and the plugins' branches (the installed
    plugins' unless given)."""
    locations = [MIGRATIONS / "versions", *(b.versions for b in gateway_plugins.migration_branches(plugins))]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(path) for path in locations))
    config.attributes["target_metadata"] = schema_metadata(plugins)
    return config


def migrate(engine: Engine, plugins: Sequence[GatewayPlugin] | None = None) -> None:
    """Brings the schema to the newest revision of every branch: the core's and the plugins' (the
    installed plugins' unless given). Idempotent."""
    config = alembic_config(plugins)
    with _MIGRATING, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


T = TypeVar("T")
IN_LIST_LIMIT = 500  # values per IN (...) list: SQLite and the drivers bound a statement's parameters


def in_batches(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in slices short enough for one IN (...) list each."""
    for start in range(0, len(values), IN_LIST_LIMIT):
        yield values[start : start + IN_LIST_LIMIT]


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self, plugins: Sequence[GatewayPlugin] | None = None) -> None:
        migrate(self.engine, plugins)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed if the block succeeds, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
