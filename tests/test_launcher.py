"""The launcher's waits follow progress: a gateway busy starting is waited for however long it
takes, one that shows no progress is given up with its log, one that died is reported at once.

Gateways started by a launcher stop when the launcher dies, even by SIGKILL, when it cannot
stop them itself (a killed test run or demo would otherwise leave them polling the chain)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node_gateway import launcher
from node_gateway.gateway_cli import LAUNCHER_PID
from node_gateway.launcher import wait_until

# A gateway stand-in: it counts the watch's checks (each asks os.getppid()) and says when ten
# have passed, its launcher alive.
CHILD = """
import os, time
from node_gateway.gateway_cli import exit_with_launcher

checks = 0
getppid = os.getppid

def counted() -> int:
    global checks
    checks += 1
    return getppid()

os.getppid = counted
exit_with_launcher(poll_s=0.05)
while checks < 10:
    time.sleep(0.01)
print("watched", flush=True)
time.sleep(120)
"""
LAUNCHER = (
    "import os, subprocess, sys, time; "
    f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}], env={{**os.environ, {LAUNCHER_PID!r}: str(os.getpid())}}); "
    "print(child.pid, flush=True); time.sleep(120)"
)


def _alive(pid: int) -> bool:
    """Running, not gone and not a zombie waiting for its new parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _still_running(pids: set[int]) -> frozenset[int]:
    return frozenset(pid for pid in pids if _alive(pid))


# --- waits that follow progress ----------------------------------------------------------------


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress looked at every 50 ms, and a gateway given up after one second of no progress."""
    monkeypatch.setattr(launcher, "PROGRESS_SAMPLE_S", 0.05)
    monkeypatch.setattr(launcher, "STALL_S", 1.0)


def test_a_wait_goes_on_while_things_move_and_gives_up_when_they_stop(quick: None) -> None:
    started = time.monotonic()
    moves = itertools.count()
    done = launcher.wait_until(
        lambda: time.monotonic() - started > 1.5 and "done", 0.5, "a slow thing", progress=lambda: next(moves)
    )
    assert done == "done"  # three times as long as the timeout: it kept moving
    with pytest.raises(launcher.Stalled, match="nothing moved for 0 s while waiting for a stuck thing"):
        launcher.wait_until(lambda: False, 0.3, "a stuck thing", progress=lambda: "the same")


# A gateway stand-in: it writes a line to its log, then does ``WORK`` and serves /health.
FAKE_GATEWAY = """
import http.server, sys, time
port, work = int(sys.argv[1]), sys.argv[2]
print("starting", flush=True)
if work == "busy":  # importing, deriving keys, migrating: CPU, no answer yet
    until = time.monotonic() + 3
    while time.monotonic() < until:
        sum(range(10_000))
elif work == "stuck":  # waiting for something that never comes
    time.sleep(60)
elif work == "dies":
    print("cannot open the keystore", flush=True)
    sys.exit(3)

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


def _fake_gateway(tmp_path: Path, work: str) -> launcher.Gateway:
    spec = launcher.MemberSpec("bank", "东海银行", "91310000132206210U")
    gateway = launcher.Gateway(spec, tmp_path, tmp_path / "network.json", "unused")
    gateway.log_path = tmp_path / "gateway.log"
    with gateway.log_path.open("ab") as log:
        gateway.process = subprocess.Popen(
            [sys.executable, "-c", FAKE_GATEWAY, str(gateway.port), work], stdout=log, stderr=log
        )
    return gateway


@pytest.mark.skipif(launcher.cpu_ticks(os.getpid()) is None, reason="no /proc to see CPU time in")
def test_a_gateway_busy_starting_is_waited_for(tmp_path: Path, quick: None) -> None:
    gateway = _fake_gateway(tmp_path, "busy")
    try:
        gateway.wait_started()  # three seconds of work, against one second without progress
        assert gateway.healthy()
    finally:
        gateway.stop()


def test_a_stuck_gateway_is_given_up_with_its_log(tmp_path: Path, quick: None) -> None:
    gateway = _fake_gateway(tmp_path, "stuck")
    try:
        with pytest.raises(launcher.LaunchError, match=r"(?s)nothing moved for 1 s.*starting"):
            gateway.wait_started()
    finally:
        gateway.stop()


def test_a_gateway_that_dies_starting_is_reported_at_once(tmp_path: Path, quick: None) -> None:
    gateway = _fake_gateway(tmp_path, "dies")
    try:
        with pytest.raises(launcher.LaunchError, match=r"(?s)exited with code 3.*cannot open the keystore"):
            gateway.wait_started()
    finally:
        gateway.stop()


# --- processes end with their launcher --------------------------------------------------------


def test_a_gateway_stops_when_its_launcher_is_killed() -> None:
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdout=subprocess.PIPE, text=True)
    assert launcher.stdout is not None
    child = int(launcher.stdout.readline())
    try:
        assert launcher.stdout.readline().strip() == "watched"  # ten checks, its launcher alive
        assert _alive(child)
        launcher.kill()
        launcher.wait()
        wait_until(
            lambda: not _alive(child),
            30,
            "the orphaned gateway to stop",
            progress=lambda: _still_running({child}),
        )
    finally:
        launcher.kill()
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_without_a_launcher_nothing_watches() -> None:
    env = {k: v for k, v in os.environ.items() if k != LAUNCHER_PID}
    code = "import threading; from node_gateway.gateway_cli import exit_with_launcher; exit_with_launcher(); print(threading.active_count())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"
