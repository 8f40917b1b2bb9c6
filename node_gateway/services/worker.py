"""A background loop in a thread: it works while there is work, then sleeps until woken.

Work done in this process wakes the loops at once (``Node.notify``, after the transaction that
queued it has committed; new blocks wake the indexer, ``services.heads``). With nothing to wake
it, a loop sleeps until its ``idle_s`` says: a queue until its next retry is due, or at most its
fallback interval, which bounds how late it sees work queued by anything that cannot wake it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from node_gateway.services.file_writes import watch_writes
from node_gateway.storage.db import Database
from node_gateway.storage.models import OutboxDelivery, OutboxTransaction, utcnow

log = logging.getLogger(__name__)

# How often a gateway on SQLite looks whether another process has committed to its database (at
# most, where inotify tells it): work queued so wakes the queues this soon rather than after their
# fallback interval.
DATABASE_CHECK_S = 0.5
# The shortest sleep after an idle round: a row due now that the round left (it could not act on
# it yet) is looked at again this often, not in a spin.
MIN_IDLE_S = 0.05


class BackgroundWorker:
    """Runs ``step`` (one round; returns how much it did) again at once while it finds work, else
    when ``wake`` is set or after ``idle_s`` seconds (a number, or a function asked each time)."""

    def __init__(
        self,
        name: str,
        step: Callable[[], int],
        wake: threading.Event,
        idle_s: float | Callable[[], float],
        *,
        closing: Callable[[], None] | None = None,  # ends a round blocked outside, at stop
    ) -> None:
        self.name = name
        self._step = step
        self._wake = wake
        self._idle_s = idle_s if callable(idle_s) else lambda: idle_s
        self._closing = closing
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._closing is not None:
            self._closing()  # a round blocked on something outside (a socket) returns
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self._step()
            except Exception:
                # A worker must outlive a failing round (a node restart, a locked database).
                log.exception("%s: round failed", self.name)
                worked = 0
            if not worked:
                self._wake.wait(self._sleep_s())
                self._wake.clear()

    def _sleep_s(self) -> float:
        try:
            return max(MIN_IDLE_S, self._idle_s())
        except Exception:
            log.exception("%s: cannot tell when to look again", self.name)
            return 1.0


def seconds_until_due(
    db: Database, queue: type[OutboxTransaction | OutboxDelivery], fallback_s: float
) -> float:
    """Seconds until the queue's earliest pending row is due (a retry after its backoff), at most
    ``fallback_s``: how long a queue with nothing to wake it may sleep."""
    with db.session() as session:
        earliest = session.scalar(select(func.min(queue.next_attempt_at)).where(queue.state == "pending"))
    if earliest is None:
        return fallback_s
    return min(fallback_s, max(0.0, (earliest - utcnow()).total_seconds()))


class DatabaseChanges:
    """Notices commits to an SQLite database by any process and calls ``wake``; a round for a
    worker. Where Linux's inotify is to be had the round sleeps until the database file or its
    write-ahead log is written (then the worker's pause, ``DATABASE_CHECK_S``, bounds how often
    a busy database wakes the queues); elsewhere it compares their size and modification time
    (one ``stat`` each) every ``DATABASE_CHECK_S``. Other databases have nothing to look at here:
    their fallback interval bounds such work."""

    def __init__(self, db: Database, wake: Callable[[], None]) -> None:
        url = db.engine.url
        path = url.database if url.get_backend_name() == "sqlite" else None
        self.paths = [Path(path), Path(path + "-wal")] if path and path != ":memory:" else []
        self._wake = wake
        self._seen = self._stamp()
        self.writes = watch_writes(self.paths) if self.paths else None

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for path in self.paths:
            try:
                stat = path.stat()
            except OSError:
                stamps.append(None)
            else:
                stamps.append((stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def run_once(self) -> int:
        if self.writes is not None:
            if self.writes.wait():
                self._wake()
            return 0
        stamp = self._stamp()
        if stamp != self._seen:
            self._seen = stamp
            self._wake()
        return 0

    def close(self) -> None:
        """Ends a round waiting for writes, and lets go of the watch."""
        if self.writes is not None:
            self.writes.close()
