"""Gateways started by a launcher stop when the launcher dies, even by SIGKILL, when it cannot
stop them itself (a killed test run or demo would otherwise leave them polling the chain)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from node_gateway.gateway_cli import LAUNCHER_PID
from node_gateway.launcher import wait_until

CHILD = (
    "import time; from node_gateway.gateway_cli import exit_with_launcher; "
    "exit_with_launcher(poll_s=0.05); time.sleep(120)"
)
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


def test_a_gateway_stops_when_its_launcher_is_killed() -> None:
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdout=subprocess.PIPE, text=True)
    assert launcher.stdout is not None
    child = int(launcher.stdout.readline())
    try:
        time.sleep(0.5)  # ten of its checks: while the launcher lives, it stays
        assert _alive(child)
        launcher.kill()
        launcher.wait()
        wait_until(lambda: not _alive(child), 30, "the orphaned gateway to stop")
    finally:
        launcher.kill()
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_without_a_launcher_nothing_watches() -> None:
    env = {k: v for k, v in os.environ.items() if k != LAUNCHER_PID}
    code = "import threading; from node_gateway.gateway_cli import exit_with_launcher; exit_with_launcher(); print(threading.active_count())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"
