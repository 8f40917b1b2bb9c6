"""The launcher's waits follow progress: a gateway busy starting is waited for however long it
takes, one that shows no progress is given up with its log, one that died is reported at once.

Every process a launcher starts ends when the launcher ends, however it ends: SIGTERM and
SIGHUP stop it as Ctrl-C does (it stops its network), and when it is killed outright (SIGKILL) the
kernel sends its gateways and anvil SIGTERM (``dies_with_this_thread`` at their start; the
gateways themselves watch for nothing); otherwise a killed test run or demo would leave them
running, anvil with its state."""

from __future__ import annotations

import inspect
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from procfs import alive, children, still_running

from confirmnet import launcher
from confirmnet.launcher import cpu_ticks, wait_until

# A gateway stand-in: a program that knows nothing of launchers, up once it says so.
CHILD = 'import time; print("up", flush=True); time.sleep(120)'
# A launcher stand-in: it starts the child as a launcher starts its gateways, from its main thread.
LAUNCHER = (
    "import subprocess, sys, time; "
    "from node_gateway.core.processes import dies_with_this_thread; "
    f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}], preexec_fn=dies_with_this_thread()); "
    "print(child.pid, flush=True); time.sleep(120)"
)
# A launcher as the demo is one: a network started, then waiting to be stopped.
NETWORK = """
import signal, sys, time
from pathlib import Path
from confirmnet.launcher import LocalNetwork, MemberSpec

signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as in a terminal, whatever ran the tests
members = [
    MemberSpec("operator", "中国银行业协会", "51100000500000074H"),
    MemberSpec("bank", "东海银行", "91310000132206210U"),
]
network = LocalNetwork(Path(sys.argv[1]), members, passphrase="launcher test passphrase")
try:
    network.start()
    print("up", flush=True)
    while True:
        time.sleep(3600)
finally:
    network.stop()
"""


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "(gone)"


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


def test_a_gateway_runs_with_two_malloc_arenas_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = launcher.Gateway(
        launcher.MemberSpec("bank", "东海银行", "91310000132206210U"), tmp_path, tmp_path, "p"
    )
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert gateway.env()["MALLOC_ARENA_MAX"] == "2"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert gateway.env()["MALLOC_ARENA_MAX"] == "8"


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
        assert launcher.stdout.readline().strip() == "up"  # the child shares the launcher's stdout
        assert alive(child)
        launcher.kill()
        launcher.wait()
        wait_until(
            lambda: not alive(child),
            30,
            "the orphaned gateway to stop",
            progress=lambda: still_running({child}),
        )
    finally:
        launcher.kill()
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_only_the_main_thread_hands_a_death_signal_down() -> None:
    """The kernel ties the signal to the thread that started the child: a worker thread's children
    would die with the thread, so none is set there (a launcher starts its gateways from its main
    thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from node_gateway.core.processes import dies_with_this_thread

    assert dies_with_this_thread() is not None
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(dies_with_this_thread).result() is None


def test_the_gateway_command_watches_no_launcher() -> None:
    """``confirmnet gateway serve`` is the same program however it was started."""
    code = "import threading, node_gateway.gateway_cli; print(threading.active_count())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"
    import node_gateway.gateway_cli

    assert "getppid" not in inspect.getsource(node_gateway.gateway_cli)


@pytest.mark.anvil
@pytest.mark.slow
@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=["SIGTERM", "SIGHUP", "SIGKILL"]
)
def test_nothing_a_launcher_started_outlives_it(tmp_path: Path, signum: signal.Signals) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", NETWORK, str(tmp_path / "network")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert launcher.stdout is not None
    started: set[int] = set()
    try:
        assert launcher.stdout.readline().strip() == "up", launcher.communicate()[1]
        started = children(launcher.pid)
        assert len(started) == 3, [_command(pid) for pid in started]  # anvil and two gateways
        launcher.send_signal(signum)
        wait_until(
            lambda: not still_running(started),
            60,
            "the launcher's processes to end",
            progress=lambda: still_running(started),
        )
        wait_until(
            lambda: launcher.poll() is not None,
            60,
            "the launcher to end",
            progress=lambda: cpu_ticks(launcher.pid),
        )
    except Exception as exc:
        left = {pid: _command(pid) for pid in still_running(started)}
        raise AssertionError(f"{exc}; still running: {left}") from exc
    finally:
        launcher.kill()
        for pid in still_running(started):
            os.kill(pid, signal.SIGKILL)
