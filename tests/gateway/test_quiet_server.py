"""The gateway's uvicorn server sleeps while idle (no 0.1 s tick) and still dates its responses
and shuts down gracefully: asked from another thread, and by SIGTERM in a process of its own."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import threading
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from confirmnet.launcher import wait_until
from node_gateway.api.server import QuietServer, serve
from node_gateway.chain.devnet import free_port

GUARD_S = 60.0  # a hang guard only


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 200; its lifespan's shutdown writes the file named by ``scope['state']``, if any."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                marker = scope.get("state", {}).get("marker")
                if marker:
                    Path(marker).write_text("shut down")
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_the_server_waits_without_ticking_and_dates_each_response() -> None:
    port = free_port()
    server = QuietServer(uvicorn.Config(_app, host="127.0.0.1", port=port, log_config=None))
    ticks: list[int] = []
    server.on_tick = lambda counter: ticks.append(counter)  # type: ignore[assignment,method-assign,return-value]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, GUARD_S, "the server to start")
        before = int(time.time())
        response = httpx.get(f"http://127.0.0.1:{port}/")
        after = time.time()
        assert response.status_code == 200
        dated = parsedate_to_datetime(response.headers["date"]).timestamp()
        assert before <= dated <= after  # the second the response was made in
        assert ticks == []  # uvicorn's loop would have ticked at once
    finally:
        server.should_exit = True  # from this thread: the waiting loop wakes
        thread.join(GUARD_S)
    assert not thread.is_alive()


_SERVE = """
import sys
from node_gateway.api.server import serve
from tests.gateway.test_quiet_server import _app

async def app(scope, receive, send):
    scope.setdefault("state", {})["marker"] = sys.argv[2]
    await _app(scope, receive, send)

serve(app, host="127.0.0.1", port=int(sys.argv[1]))
"""


def test_sigterm_ends_the_server_after_its_shutdown(tmp_path: Path) -> None:
    port, marker = free_port(), tmp_path / "marker"
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-c", _SERVE, str(port), str(marker)], cwd=root)
    try:

        def answers() -> bool:
            assert process.poll() is None, "the server ended before it answered"
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, GUARD_S, "the server to answer")
        process.send_signal(signal.SIGTERM)
        process.wait(GUARD_S)
    finally:
        process.kill()
    assert marker.read_text() == "shut down"  # the application's shutdown ran
    assert process.returncode == -signal.SIGTERM  # uvicorn ends by the signal it was sent


def test_serving_freezes_what_the_gateway_built_to_start(monkeypatch: Any) -> None:
    """The objects made before serving are out of the collector's generations once the server runs
    (``gc.get_objects`` lists the generations, not the frozen ones)."""
    built: dict[str, list[int]] = {"routes": []}
    seen: dict[str, bool] = {}

    def run(self: QuietServer) -> None:
        seen["listed"] = any(found is built for found in gc.get_objects())
        self.started = True

    monkeypatch.setattr(QuietServer, "run", run)
    gc.unfreeze()
    assert any(found is built for found in gc.get_objects())
    try:
        serve(_app, host="127.0.0.1", port=free_port())
    finally:
        gc.unfreeze()
    assert seen == {"listed": False}
