"""Child processes that end with the process that starts them, however it ends.

A process that starts others (the launcher of a local network, a test's anvil) passes
:func:`dies_with_this_thread` as ``preexec_fn`` to ``subprocess.Popen``: the kernel then sends
the child SIGTERM when its parent goes, SIGKILL included, and nothing in the child has to watch
for it. The children stay ordinary programs: a gateway started by hand or by a launcher runs the
same code.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # prctl(2)


def dies_with_this_thread(signum: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get ``signum`` from the kernel when the thread that
    starts it ends (on Linux, ``prctl(PR_SET_PDEATHSIG)`` in the child before it runs the
    program), so that it ends with its parent however the parent ends, SIGKILL included.

    The kernel ties the signal to the starting *thread*: only the main thread, which lives as long
    as the process, gets one (start children from it; a worker thread's children would go when the
    thread does). None elsewhere, and where there is no such thing."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signum)
        if os.getppid() != parent:  # the parent died before the signal was set
            os.kill(os.getpid(), signum)

    return set_death_signal
