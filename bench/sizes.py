"""Bytes a gateway's database holds: what a letter adds to each store, measured before and after a run.

SQLite: the pages in use (a connection of its own reads the write-ahead log's pages too), without
the free list. PostgreSQL: ``pg_database_size``, the database's files on disk (tables, indexes,
free space the vacuum has yet to reuse).
"""

from __future__ import annotations

from sqlalchemy import create_engine, text


def database_bytes(url: str) -> int:
    """The bytes the database at ``url`` (a SQLAlchemy URL) takes."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                pages = connection.execute(text("PRAGMA page_count")).scalar_one()
                free = connection.execute(text("PRAGMA freelist_count")).scalar_one()
                size = connection.execute(text("PRAGMA page_size")).scalar_one()
                return int((pages - free) * size)
            return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    finally:
        engine.dispose()
