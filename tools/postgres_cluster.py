"""A throwaway PostgreSQL cluster, started from the installed binaries: for the storage tests
(``tests/gateway/conftest.py``) and for ``make bench``'s PostgreSQL run.

The cluster lives in a fresh directory in /dev/shm (or the system's temporary directory), listens on
127.0.0.1 on a free port (and on a Unix socket in that directory), trusts every local
connection and runs without fsync. Its server time zone is not UTC on purpose, so that a
timestamp that only reads back right in UTC shows up.

initdb and postgres refuse to run as root; as root the cluster belongs to an unprivileged
system user, created on first use, and the binaries run under ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

SERVICE_USER = "confirmnet-pg"
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SERVER_TIMEZONE = "Asia/Shanghai"
SHARED_MEMORY = "/dev/shm"  # noqa: S108 (mkdtemp makes a private directory in it)
_SHARED_MEMORY_NEEDED = 512 * 2**20
_TIMEOUT_S = 60


class PostgresUnavailable(Exception):
    """No PostgreSQL binaries here, or the cluster did not start; the message says which."""


def find_binaries() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``: the PATH's, else Debian's newest."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    if DEBIAN_BINARIES.is_dir():
        versions = [entry / "bin" for entry in DEBIAN_BINARIES.iterdir() if entry.name.isdigit()]
        candidates += sorted(versions, key=lambda path: int(path.parent.name), reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise PostgresUnavailable(
        f"no initdb/pg_ctl/postgres on PATH nor in {DEBIAN_BINARIES}/*/bin "
        "(`.ci/run` installs Debian's postgresql package)"
    )


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
        return
    except KeyError:
        pass
    created = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    try:  # another test process may have created it meanwhile
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and cannot create the user {SERVICE_USER}: {created.stderr.strip()}"
        ) from None


def _memory_backed_dir() -> str | None:
    """The shared-memory file system when it has room: a cluster on disk takes ten times longer to create a database."""
    try:
        if shutil.disk_usage(SHARED_MEMORY).free >= _SHARED_MEMORY_NEEDED and os.access(
            SHARED_MEMORY, os.W_OK
        ):
            return SHARED_MEMORY
    except OSError:
        pass
    return None  # the system's temporary directory


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresCluster:
    """A running cluster; ``stop`` shuts it down and deletes it."""

    def __init__(self, binaries: Path, directory: Path, port: int) -> None:
        self.binaries = binaries
        self.directory = directory
        self.port = port

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        return self.directory / "server.log"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls) -> PostgresCluster:
        binaries = find_binaries()
        as_root = os.geteuid() == 0
        if as_root:
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root and no runuser to drop privileges")
            _ensure_service_user()
        directory = Path(tempfile.mkdtemp(prefix="confirmnet-pg-", dir=_memory_backed_dir()))
        if as_root:
            shutil.chown(directory, user=SERVICE_USER, group=pwd.getpwnam(SERVICE_USER).pw_gid)
        cluster = cls(binaries, directory, port=0)
        try:
            cluster._run(
                "initdb",
                ["-D", str(cluster.data_dir), "-U", "postgres", "--auth=trust"],
                ["-E", "UTF8", "--no-locale", "--no-sync"],
            )
            cluster._start_on_a_free_port()
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return cluster

    def _start_on_a_free_port(self) -> None:
        failure = ""
        for _attempt in range(3):  # a free port can be taken between the probe and the start
            self.port = _free_port()
            options = f"-k {self.directory} -h 127.0.0.1 -p {self.port} -F -c timezone={SERVER_TIMEZONE}"
            try:
                self._run(
                    "pg_ctl",
                    ["-D", str(self.data_dir), "-l", str(self.log_file), "-o", options],
                    ["-w", "-t", "30", "start"],
                )
                return
            except PostgresUnavailable as exc:
                failure = str(exc)
        raise PostgresUnavailable(failure)

    def _run(self, program: str, *argument_groups: Sequence[str]) -> None:
        argv = [str(self.binaries / program), *(arg for group in argument_groups for arg in group)]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        try:
            result = subprocess.run(
                argv, cwd=self.directory, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{program} failed: {exc}") from exc
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            output = (result.stdout + result.stderr).strip()[-2000:]
            raise PostgresUnavailable(f"{program} exited with {result.returncode}: {output}\n{log}".strip())

    def stop(self) -> None:
        try:
            self._run("pg_ctl", ["-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh empty database (for one test, or one gateway); its URL. Dropped afterwards,
        connections or not."""
        name = f"t_{secrets.token_hex(6)}"
        with self._admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield self.url(name)
        finally:
            with self._admin() as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
