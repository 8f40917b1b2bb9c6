"""Processes as /proc shows them, for the tests that check nothing a launcher started outlives it."""

from __future__ import annotations

from pathlib import Path


def alive(pid: int) -> bool:
    """Running, not gone and not a zombie waiting for its new parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def still_running(pids: set[int]) -> frozenset[int]:
    return frozenset(pid for pid in pids if alive(pid))


def children(parent: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found
