"""A whole network on one machine: a chain, one gateway per member, the contracts, the members.

Used by ``confirmnet demo``, the benchmarks and the integration tests. Each gateway is set up as a
member would set it up (``gateway init``), then either runs as its own process
(``gateway serve``, the default) or, for ``--embedded``, as a server thread in this process on the
in-process chain. The operator's gateway key deploys the contracts; the other members are admitted
through the operator's API, over HTTP, like in production.

Waits follow progress rather than a clock: a loaded machine makes everything slow, not stuck. A
wait gives up only when nothing it can see has moved for a long stretch (a starting gateway's CPU
time and log; the network's chain head, indexers and outboxes), or at once when a process died.

Whatever this process started ends with it: SIGTERM and SIGHUP stop it as Ctrl-C does (through the
``finally`` of whoever started the network), and when it is killed outright (SIGKILL) the kernel
sends its gateways and anvil SIGTERM (``node_gateway.core.processes.dies_with_this_thread``, given
to each at its start from the main thread); the gateways themselves watch for nothing.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint, RPCResponse

from auditor_client.sdk import Client
from node_gateway.chain.devnet import AnvilNode, free_port
from node_gateway.chain.network import (
    EndpointPolicy,
    connect,
    deploy_network,
    fund_from_node,
    in_process_chain,
)
from node_gateway.chain.transactions import TransactionSender
from node_gateway.core.config import GatewaySettings
from node_gateway.core.keys import load_keys
from node_gateway.core.processes import dies_with_this_thread
from node_gateway.core.provision import provision
from node_gateway.protocol.envelopes import DEFAULT_SUITE
from node_gateway.protocol.hashing import organisation_id

CONFIRMNET = [sys.executable, "-c", "from confirmnet.cli import main; main()"]


# How long the launcher's own waits (a gateway starting, a member being admitted) go on with nothing
# moving before they give up.
STALL_S = 180.0
# How often a wait looks for progress (which may ask every gateway for its /health).
PROGRESS_SAMPLE_S = 1.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class LaunchError(RuntimeError):
    """A gateway or the chain did not come up."""


class Stalled(LaunchError):
    """A wait saw nothing move for as long as it was allowed to."""


def wait_until(
    condition: Callable[[], Any],
    timeout_s: float = 60.0,
    what: str = "condition",
    *,
    progress: Callable[[], object] | None = None,
    poll_s: float = 0.05,
) -> Any:
    """Polls ``condition`` until it returns something true; returns that.

    With ``progress``, ``timeout_s`` is how long the wait may go on with nothing moving, not how
    long it may take: ``progress()`` is looked at every second or so, and any change in what it
    returns (a log that grew, a block number that rose, an outbox that emptied) counts as
    progress. ``progress`` raises to end the wait at once (a process it waits for died). Without
    it, ``timeout_s`` is a plain deadline.
    """
    seen = progress() if progress is not None else None
    moved_at = sampled_at = time.monotonic()
    while True:
        value = condition()
        if value:
            return value
        now = time.monotonic()
        if progress is not None and now - sampled_at >= PROGRESS_SAMPLE_S:
            sampled_at = now
            latest = progress()
            if latest != seen:
                seen, moved_at = latest, now
        if now - moved_at > timeout_s:
            break
        time.sleep(poll_s)
    if progress is None:
        raise Stalled(f"timed out after {timeout_s:.0f} s waiting for {what}")
    raise Stalled(f"nothing moved for {timeout_s:.0f} s while waiting for {what} (last seen: {seen!r})")


@cache
def _looks() -> httpx.Client:
    """The one client of the launcher's looks at its gateways (/health, /v1/identity), shared by
    its threads: ``httpx.get`` builds a client, and its TLS context, per call (about 20 ms of
    CPU), which several looks a second at every gateway would take from the gateways."""
    return httpx.Client()


@cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, made once: a client makes its own (about 20 ms of CPU) even for
    a gateway's plain http."""
    return httpx.create_ssl_context()


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first); None without /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def cpu_ticks(pid: int) -> int | None:
    """The CPU time a process has used (user and system, in clock ticks); None where unknown."""
    fields = _proc_stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else None


def _stopped(pid: int) -> bool:
    """Frozen by SIGSTOP (a test freezes a gateway to kill it mid-way)."""
    fields = _proc_stat(pid)
    return fields is not None and fields[0] in ("T", "t")


# The stop signals that came while gateways were being forked, raised once they all are.
_held_while_forking: list[int] | None = None


def _interrupt(signum: int, _frame: object) -> None:
    if _held_while_forking is not None:
        _held_while_forking.append(signum)
        return
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Holds SIGTERM and SIGHUP while the gateways are forked, and stops after: raised in the
    parent's fork handlers (logging releases its lock there) the interrupt would be swallowed,
    and the lock left held would hang every thread that logs."""
    global _held_while_forking  # the signal handler can look nowhere else
    _held_while_forking = []
    try:
        yield
    finally:
        held, _held_while_forking = _held_while_forking, None
        if held:
            raise KeyboardInterrupt(f"stopped by {signal.Signals(held[0]).name}")


@dataclass(frozen=True)
class MemberSpec:
    role: str  # operator | audit_firm | bank | regulator
    name: str
    registration_code: str
    env: Mapping[str, str] = field(default_factory=dict)  # extra CONFIRMNET_* settings


def _one_request_at_a_time(w3: Web3) -> Web3:
    """The in-process chain is shared by several gateway threads and is not thread-safe."""
    provider = w3.provider
    request = provider.make_request
    lock = threading.Lock()

    def make_request(method: RPCEndpoint, params: Any) -> RPCResponse:
        with lock:
            return request(method, params)

    provider.make_request = make_request  # type: ignore[method-assign]
    return w3


@dataclass
class Gateway:
    """One member's gateway: its directory, its port, its first API keys, and how it runs."""

    spec: MemberSpec
    data_dir: Path
    network_file: Path
    passphrase: str
    port: int = field(default_factory=free_port)
    api_keys: dict[str, str] = field(default_factory=dict)
    account: str = ""
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _server: Any = None
    _thread: threading.Thread | None = None
    _health: object = None  # the last /health figures it answered with

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pages_origin(self) -> str:
        """Where a person opens the gateway's pages: at ``localhost``, not 127.0.0.1, because a
        development network's passkeys are for the relying party "localhost" (the network file's
        ``rp_id``) and a browser offers them on no other host."""
        return f"http://localhost:{self.port}"

    @property
    def config(self) -> Path:
        return self.data_dir / "gateway.toml"

    @property
    def role(self) -> str:
        return self.spec.role

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def registration_code(self) -> str:
        return self.spec.registration_code

    def env(self) -> dict[str, str]:
        return {
            # glibc gives each busy thread an arena of its own that keeps what it freed: a gateway's
            # dozens of request threads then grow its memory for minutes. Two arenas keep it flat
            # (the soak in docs/BENCHMARKS.md); the environment's own setting wins.
            "MALLOC_ARENA_MAX": "2",
            **os.environ,
            "CONFIRMNET_PASSPHRASE": self.passphrase,
            "CONFIRMNET_POLL_INTERVAL_S": "0.1",
            **self.spec.env,
        }

    def settings(self) -> GatewaySettings:
        """What ``gateway init`` would be given, with this member's own settings from ``spec.env``."""
        extra = {key.removeprefix("CONFIRMNET_").lower(): value for key, value in self.spec.env.items()}
        return GatewaySettings.model_validate(
            {
                "role": self.role,
                "display_name": self.name,
                "registration_code": self.registration_code,
                "data_dir": self.data_dir,
                "network_file": self.network_file,
                "port": self.port,
                **extra,
            }
        )

    def init(self) -> None:
        """Sets the gateway up as ``confirmnet gateway init`` does (in this process: it is faster)."""
        done = provision(self.settings(), self.passphrase, (DEFAULT_SUITE,))
        self.api_keys, self.account = done.api_keys, done.account

    def chain_account(self) -> LocalAccount:
        return load_keys(self.data_dir / "keys", self.passphrase).chain_account

    def start(self, *, w3: Web3 | None = None) -> None:
        """Runs the gateway as a process, or in this process on ``w3`` (the in-process chain)."""
        if w3 is None:
            self.spawn()
        else:
            self._start_thread(w3)
        self.wait_started()

    def spawn(self) -> None:
        """Starts the gateway's process without waiting for it. From the main thread, the kernel
        ends it when this process ends, however it ends (``dies_with_this_thread``)."""
        self.log_path = self.data_dir / "gateway.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*CONFIRMNET, "gateway", "serve", "--config", str(self.config)],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=dies_with_this_thread(),
            )

    def wait_started(self) -> None:
        """Waits until the gateway answers, for as long as it is visibly busy getting there."""
        try:
            # a look every quarter second: the gateways starting beside it need the CPU more
            wait_until(self.healthy, STALL_S, f"{self.name} to start", progress=self.starting, poll_s=0.25)
        except Stalled as exc:
            raise LaunchError(f"{exc}; the end of its log:\n{self.log_tail()}") from exc

    def starting(self) -> object:
        """What shows a starting gateway at work: the CPU time its process has used (importing,
        opening its keys, migrating its database) and the length of its log (migrations, the
        first chain reads); raises if it exited, or was stopped meanwhile (the network stopped by
        a signal while its gateways started). In-process gateways show nothing of their own."""
        self._check_running()
        if self.process is None and self._thread is None and self.log_path is not None:
            raise LaunchError(f"{self.name} was stopped while it started")
        if self.process is None:
            return None
        size = self.log_path.stat().st_size if self.log_path is not None and self.log_path.exists() else 0
        return cpu_ticks(self.process.pid), size

    def activity(self) -> object:
        """What shows a running gateway at work: its /health figures (chain head, how far its
        indexer has read, its membership, its outboxes); the last ones it gave while it does not
        answer (busy, or stopped or killed by a test). Raises if its process died unasked."""
        self._check_running()
        if self.process is not None and _stopped(self.process.pid):
            return self._health  # a frozen gateway would only queue the question
        if self.process is None and self._thread is None:
            return self._health
        try:
            health = _looks().get(self.url + "/health", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return self._health
        keys = ("chain_block", "indexed_to_block", "member_id", "pending_transactions", "pending_deliveries")
        self._health = tuple(health.get(key) for key in keys)
        return self._health

    def _check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise LaunchError(f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}")
        if self._thread is not None and not self._thread.is_alive():
            raise LaunchError(f"{self.name}'s server thread ended")

    def _start_thread(self, w3: Web3) -> None:
        import uvicorn

        from node_gateway.api.app import create_app
        from node_gateway.api.server import QuietServer
        from node_gateway.node import Node

        settings = GatewaySettings.from_file(self.config).model_copy(update={"poll_interval_s": 0.1})
        node = Node.open(settings, load_keys(settings.keystore_dir, self.passphrase), w3=w3)
        config = uvicorn.Config(
            create_app(node), host="127.0.0.1", port=self.port, log_config=None, access_log=False
        )
        self._server = QuietServer(config)
        self._thread = threading.Thread(target=self._server.run, name=f"gateway {self.name}", daemon=True)
        self._thread.start()

    def healthy(self) -> bool:
        self._check_running()
        try:
            return _looks().get(self.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(15)
            self._server = None
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash: no shutdown, nothing flushed."""
        if self.process is None:
            raise LaunchError(f"{self.name} runs in this process; it cannot be killed alone")
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def sdk(self, user: str, timeout_s: float = 60) -> Client:
        """The audit firm's SDK, signed in as one of this gateway's users."""
        return Client(self.url, api_key=self.api_keys[user], timeout_s=timeout_s)

    def client(self, user: str, timeout_s: float = 60) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.api_keys[user]}"},
            timeout=timeout_s,
            verify=_tls_context(),
        )

    def identity(self) -> dict[str, Any]:
        response = _looks().get(self.url + "/v1/identity", timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def member_id(self) -> int:
        """This member's number; 0 until it is admitted."""
        value: int | None = self.identity()["member_id"]
        return value or 0


class LocalNetwork:
    """A chain and the gateways of ``members`` (the first must be the operator), set up and admitted."""

    def __init__(
        self, base: Path, members: list[MemberSpec], *, passphrase: str, embedded: bool = False
    ) -> None:
        if not members or members[0].role != "operator":
            raise ValueError("the first member is the consortium operator")
        self.base = base
        self.embedded = embedded
        self.network_file = base / "network.json"
        self.gateways = [
            Gateway(spec, base / _slug(i, spec), self.network_file, passphrase)
            for i, spec in enumerate(members)
        ]
        self.anvil: AnvilNode | None = None
        self.w3: Web3 | None = None
        self.rpc_url = ""
        self._signal_handlers: dict[int, Any] = {}

    @property
    def operator(self) -> Gateway:
        return self.gateways[0]

    def by_role(self, role: str) -> list[Gateway]:
        return [g for g in self.gateways if g.role == role]

    def activity(self) -> object:
        """What shows the network at work: every gateway's :meth:`Gateway.activity`."""
        return tuple(gateway.activity() for gateway in self.gateways)

    def wait_until(
        self, condition: Callable[[], Any], what: str, *, stall_s: float = STALL_S, poll_s: float = 0.2
    ) -> Any:
        """:func:`wait_until` ``condition``, for as long as the network shows progress."""
        return wait_until(condition, stall_s, what, progress=self.activity, poll_s=poll_s)

    def start(self, progress: Callable[[str], None] = lambda _: None) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self._trap_stop_signals()
        progress("starting the chain")
        if self.embedded:
            self.w3 = _one_request_at_a_time(in_process_chain())
            self.rpc_url = "in-process"
        else:
            # No state file: the network is made anew at every start (the demo wipes its directory
            # first), so anvil's state written every second would never be read back.
            self.anvil = AnvilNode()
            self.anvil.start()
            self.rpc_url = self.anvil.rpc_url
            self.w3 = connect(self.rpc_url)
        progress("creating the members' keys")
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(Gateway.init, self.gateways))
        if self.embedded:
            fund_from_node(self.w3, [g.account for g in self.gateways])
        progress("deploying the contracts")
        operator = self.operator
        sender = TransactionSender(self.w3, operator.chain_account())
        network = deploy_network(
            sender, operator_org_id=organisation_id(operator.registration_code), operator_name=operator.name
        )
        network.describe(self.rpc_url, peer_endpoints=EndpointPolicy.DEVELOPMENT).save(self.network_file)
        progress("starting the gateways")
        shared = self.w3 if self.embedded else None
        if shared is None:
            with _stop_signals_held():
                for gateway in self.gateways:
                    gateway.spawn()  # from this thread, not the pool's: see Gateway.spawn
            with ThreadPoolExecutor(max_workers=len(self.gateways)) as pool:
                list(pool.map(Gateway.wait_started, self.gateways))
        else:
            for gateway in self.gateways:
                gateway.start(w3=shared)
        progress("admitting the members")
        for gateway in self.gateways[1:]:
            self.request_admission(gateway)
        for gateway in self.gateways[1:]:
            self.wait_until(gateway.member_id, f"{gateway.name} to be admitted")

    def request_admission(self, gateway: Gateway) -> None:
        identity = gateway.identity()
        with self.operator.client("operator") as client:
            response = client.post(
                "/v1/members",
                json={
                    "account": identity["account"],
                    "role": gateway.role,
                    "registration_code": gateway.registration_code,
                    "display_name": gateway.name,
                    "endpoint": identity["endpoint"],
                    "encryption_keys": identity["encryption_keys"],
                },
            )
            if response.status_code != 202:
                raise LaunchError(f"admitting {gateway.name}: {response.status_code} {response.text}")

    def stop(self) -> None:
        try:
            for gateway in reversed(self.gateways):
                gateway.stop()
        finally:
            if self.anvil is not None:
                self.anvil.stop()
            self._restore_signals()

    def _trap_stop_signals(self) -> None:
        """SIGTERM and SIGHUP (what a service manager, ``kill`` or a closed terminal send) stop
        this process as Ctrl-C does, so that whoever started the network goes through its
        ``finally`` and stops it; their default would end the process at once. Only where the
        default is in force (``nohup`` ignores SIGHUP: so be it), and only from the main thread,
        which alone receives signals."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in _STOP_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_DFL:
                self._signal_handlers[signum] = signal.signal(signum, _interrupt)

    def _restore_signals(self) -> None:
        while self._signal_handlers:
            signum, handler = self._signal_handlers.popitem()
            signal.signal(signum, handler)


def _slug(index: int, spec: MemberSpec) -> str:
    return f"{index:02d}-{spec.role}"
