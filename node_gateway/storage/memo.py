"""What one database transaction remembers for its own later steps (a row it locked, a document it
opened): kept in the session's ``info`` under a key of its own, so it ends with the session."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from sqlalchemy.orm import Session

T = TypeVar("T")


def transaction_memo(session: Session, key: str, factory: Callable[[], T]) -> T:
    """The memo named ``key`` of this session's transaction, made by ``factory`` on first use.

    ``key`` names its owner (``"letters.documents"``) so memos of different modules never meet.
    The memo lives as long as the session object (closing it does not clear ``info``):
    ``Database.session`` makes one session per unit of work."""
    info = session.info
    if key not in info:
        info[key] = factory()
    return cast(T, info[key])
