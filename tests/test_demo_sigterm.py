"""`confirmnet demo` stopped by SIGTERM leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from procfs import children, still_running

from confirmnet.launcher import CONFIRMNET, cpu_ticks, wait_until


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
        return len(children(demo.pid)) == 8  # anvil and seven gateways

    def busy() -> object:  # the demo and whatever it started, at work
        return sorted((pid, cpu_ticks(pid)) for pid in {demo.pid, *children(demo.pid)})

    try:
        wait_until(up, 120, "the demo's chain and gateways", progress=busy)
        started = children(demo.pid)
        demo.send_signal(signal.SIGTERM)
        wait_until(
            lambda: demo.poll() is not None and not still_running(started),
            60,
            "the demo and its processes to end",
            progress=lambda: (still_running(started), cpu_ticks(demo.pid)),
        )
    finally:
        demo.kill()
        for pid in still_running(started):
            os.kill(pid, signal.SIGKILL)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()
