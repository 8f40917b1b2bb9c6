"""A background loop in a thread: it works while there is work, then sleeps until woken or polled."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundWorker:
    def __init__(self, name: str, step: Callable[[], int], wake: threading.Event, poll_s: float) -> None:
        self.name = name
        self._step = step
        self._wake = wake
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
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
                self._wake.wait(self._poll_s)
                self._wake.clear()
