"""uvicorn's server without its tick, so that an idle gateway sleeps.

uvicorn's ``Server.main_loop`` wakes every 0.1 s, to see whether it has been asked to stop and to
refresh the ``Date`` header once a second: ten wakeups a second for nothing, the largest part of an
idle gateway's CPU (issue 15). :class:`QuietServer` sleeps until it is asked to stop (by SIGTERM or
SIGINT, or ``should_exit`` set from any thread) and dates a response when the response is made;
its shutdown is uvicorn's own, graceful as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from email.utils import formatdate
from typing import Any

import uvicorn
from uvicorn.server import ServerState

STARTUP_FAILURE = 3  # uvicorn's exit code when the application did not start


class _DatedHeaders(ServerState):
    """The headers uvicorn adds to every response, with a ``Date`` of the second they are read in
    (uvicorn's tick would otherwise set them every second)."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._config = config
        self._second = -1
        self._headers: list[tuple[bytes, bytes]] = []
        super().__init__()

    @property
    def default_headers(self) -> list[tuple[bytes, bytes]]:
        second = int(time.time())
        if second != self._second:
            date = [(b"date", formatdate(second, usegmt=True).encode())] if self._config.date_header else []
            self._headers, self._second = date + self._config.encoded_headers, second
        return self._headers

    @default_headers.setter
    def default_headers(self, _: list[tuple[bytes, bytes]]) -> None:
        """uvicorn's own tick sets them; here they are made when read."""


class QuietServer(uvicorn.Server):
    """A uvicorn server whose main loop waits for the request to stop instead of polling for it."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._should_exit = False
        super().__init__(config)
        self.server_state = _DatedHeaders(config)

    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        """Set by uvicorn's signal handler or by another thread: either way the waiting loop wakes."""
        self._should_exit = value
        loop, stopping = self._loop, self._stopping
        if value and loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing waits any more
                loop.call_soon_threadsafe(stopping.set)

    async def main_loop(self) -> None:
        if self.config.limit_max_requests is not None or self.config.callback_notify is not None:
            await super().main_loop()  # these need uvicorn's tick to count and to call back
            return
        self._stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        # Set before the loop was known, should_exit had nothing to wake: it is read after.
        if not self.should_exit:
            await self._stopping.wait()


def serve(app: Any, *, host: str, port: int) -> None:
    """Serves ``app`` until SIGTERM or SIGINT, as ``uvicorn.run`` does (no access log, the
    gateway's own logging), with a :class:`QuietServer`."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    server = QuietServer(config)
    _freeze_what_lives_for_good()
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT, raised again after the shutdown
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _freeze_what_lives_for_good() -> None:
    """What the gateway built to start (its modules, the application and its routes: some 200,000
    objects) lives as long as the process. Frozen, it leaves the collector's full passes, which
    under load scanned all of it every few seconds (about a tenth of a gateway's CPU)."""
    gc.collect()
    gc.freeze()
