"""`confirmnet demo` stopped by SIGTERM leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from confirmnet.launcher import CONFIRMNET, cpu_ticks, wait_until


def _alive(pid: int) -> bool:
    """Running, not gone and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(parent: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _running(pids: set[int]) -> frozenset[int]:
    return frozenset(pid for pid in pids if _alive(pid))


@pytest.mark.slow
@pytest.mark.anvil
def test_sigterm_stops_the_demo_and_everything_it_started(tmp_path: Path) -> None:
    """What a service manager or ``kill`` sends: the demo stops its network, anvil included."""
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        demo = subprocess.Popen(
            [*CONFIRMNET, "demo", "--data-dir", str(tmp_path / "demo"), "--letters", "20"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started: set[int] = set()

    def up() -> bool:
        assert demo.poll() is None, log_path.read_text()
        return len(_children(demo.pid)) == 8  # anvil and seven gateways

    def busy() -> object:  # the demo and whatever it started, at work
        return sorted((pid, cpu_ticks(pid)) for pid in {demo.pid, *_children(demo.pid)})

    try:
        wait_until(up, 120, "the demo's chain and gateways", progress=busy)
        started = _children(demo.pid)
        demo.send_signal(signal.SIGTERM)
        wait_until(
            lambda: demo.poll() is not None and not _running(started),
            60,
            "the demo and its processes to end",
            progress=lambda: (_running(started), cpu_ticks(demo.pid)),
        )
    finally:
        demo.kill()
        for pid in _running(started):
            os.kill(pid, signal.SIGKILL)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()
