"""A transaction's memo (``storage.memo.transaction_memo``): made once per session and key, and a
new session starts without it."""

from __future__ import annotations

from pathlib import Path

from node_gateway.storage.db import Database
from node_gateway.storage.memo import transaction_memo


def test_a_memo_is_made_once_per_session_and_key(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'memo.db'}")
    made: list[str] = []

    def factory() -> list[str]:
        made.append("made")
        return []

    with db.session() as session:
        transaction_memo(session, "test.first", factory).append("a")
        transaction_memo(session, "test.first", factory).append("b")
        assert transaction_memo(session, "test.first", factory) == ["a", "b"]
        assert transaction_memo(session, "test.second", factory) == []
        assert made == ["made", "made"]
    with db.session() as session:
        assert transaction_memo(session, "test.first", factory) == []
    assert len(made) == 3
    db.dispose()
