"""When a queue's worker must look again with nothing to wake it, mostly without asking the database.

Only a queue's own worker puts a row off to later (a retry after its backoff); rows queued anew
are due at once and wake the worker (``Node.notify``, or the database watcher for another
process's). So the worker remembers the earliest retry it set, and looks up the queue's earliest
pending row (``seconds_until_due``) only when it knows nothing yet (at start: a restart's rows),
when the retry it remembers has come (that row may be settled; what else is left?), and once a
fallback interval (what it cannot know of, e.g. a second gateway process on the database).
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta

from node_gateway.services.worker import seconds_until_due
from node_gateway.storage.db import Database
from node_gateway.storage.models import OutboxDelivery, OutboxTransaction, utcnow


class NextRetry:
    def __init__(self, db: Database, queue: type[OutboxTransaction | OutboxDelivery]) -> None:
        self._db = db
        self._queue = queue
        self._earliest: datetime | None = None  # the earliest pending retry known, if any
        self._looked_at: float | None = None  # when the queue was last looked at (monotonic)

    def retry_at(self, when: datetime) -> None:
        """A row of the queue is put off until ``when`` (told before or after its commit)."""
        if self._earliest is None or when < self._earliest:
            self._earliest = when

    def idle_s(self, fallback_s: float) -> float:
        """Seconds until the earliest pending retry is due, at most ``fallback_s``."""
        now, clock = utcnow(), time.monotonic()
        if (
            self._looked_at is None
            or clock - self._looked_at >= fallback_s
            or (self._earliest is not None and self._earliest <= now)
        ):
            self._looked_at = clock
            due_s = seconds_until_due(self._db, self._queue, math.inf)
            self._earliest = None if due_s == math.inf else now + timedelta(seconds=due_s)
            return min(fallback_s, due_s)
        if self._earliest is None:
            return fallback_s
        return min(fallback_s, (self._earliest - now).total_seconds())
