"""Writes to a few files, told by Linux's inotify: a thread can sleep until another process writes.

:class:`FileWrites` watches each file for writes and its directory for the files' creation (an
SQLite write-ahead log comes and goes with its database's connections). Where inotify is not to be
had (another system, or the user's inotify instances used up), :func:`watch_writes` returns None
and the caller looks at the files itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import select
import struct
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

# From <sys/inotify.h>.
IN_MODIFY = 0x002
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_Q_OVERFLOW = 0x4000  # events were dropped: anything may have been written
IN_IGNORED = 0x8000  # the watch is gone (its file deleted)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    except OSError:
        return None


class FileWrites:
    """An inotify instance watching ``paths`` (files in one directory, existing or not yet)."""

    def __init__(self, libc: ctypes.CDLL, fd: int, paths: Sequence[Path]) -> None:
        self._libc = libc
        self._fd = fd
        self._names = {path.name for path in paths}
        self._directory = paths[0].parent
        self._files: dict[int, str] = {}  # watch descriptor → file name
        self._add(self._directory, IN_CREATE | IN_MOVED_TO)
        for name in self._names:
            self._watch_file(name)
        self._stop_read, self._stop_write = os.pipe()
        self._lock = threading.Lock()  # held while waiting: ``close`` waits for the wait to end
        self._closed = False

    def _add(self, path: Path, mask: int) -> int:
        wd = int(self._libc.inotify_add_watch(self._fd, os.fsencode(path), mask))
        if wd < 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(path))
        return wd

    def _watch_file(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # not there yet: its creation is watched
            self._files[self._add(self._directory / name, IN_MODIFY)] = name

    def wait(self, timeout_s: float | None = None) -> bool:
        """Blocks until one of the files is written or created (True), or until ``close`` or
        ``timeout_s`` (False)."""
        with self._lock:
            if self._closed:
                return False
            ready, _, _ = select.select([self._fd, self._stop_read], [], [], timeout_s)
            if self._fd not in ready or self._stop_read in ready:
                return False
            return self._read()

    def _read(self) -> bool:
        """Takes every event queued; True if one concerns the files (not another file's creation)."""
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return False
        written, offset = False, 0
        while offset < len(data):
            wd, mask, _, length = _EVENT.unpack_from(data, offset)
            name = os.fsdecode(data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0"))
            offset += _EVENT.size + length
            if mask & IN_Q_OVERFLOW:
                written = True
            elif mask & IN_IGNORED:
                self._files.pop(wd, None)
            elif wd in self._files:
                written = True
            elif name in self._names:  # created (again): watch its writes from now on
                self._watch_file(name)
                written = True
        return written

    def close(self) -> None:
        if self._closed:
            return
        os.write(self._stop_write, b"\0")  # a wait in progress returns
        with self._lock:
            self._closed = True
            for fd in (self._fd, self._stop_read, self._stop_write):
                os.close(fd)


def watch_writes(paths: Sequence[Path]) -> FileWrites | None:
    """Writes to ``paths`` (files of one directory) by any process; None without inotify."""
    libc = _libc()
    if libc is None or not hasattr(libc, "inotify_init1"):
        return None
    fd = int(libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK))
    if fd < 0:
        log.info(
            "no inotify (%s): the database's files are looked at instead", os.strerror(ctypes.get_errno())
        )
        return None
    try:
        return FileWrites(libc, fd, paths)
    except OSError as exc:
        os.close(fd)
        log.info("cannot watch %s (%s): its files are looked at instead", paths[0].parent, exc)
        return None
