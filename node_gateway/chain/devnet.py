"""A local development chain: anvil from the pinned npm package, its state kept on disk.

``AnvilNode`` runs one anvil process (tests use it directly). ``Devnet`` is what
``confirmnet devnet up | status | down`` manages: a detached anvil whose state, operator key and
network file live in a data directory, so that a restarted devnet keeps its contracts and state.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from node_gateway.chain.network import EndpointPolicy, NetworkFile, connect, deploy_network
from node_gateway.chain.transactions import TransactionSender
from node_gateway.core.processes import dies_with_this_thread
from node_gateway.errors import NodeGatewayError


def _find_anvil() -> Path:
    """anvil from the pinned npm package: ``$CONFIRMNET_ANVIL`` if set, else the checkout's
    ``node_modules/.bin/anvil`` (this file being ``node_gateway/chain/devnet.py`` in it), else an
    anvil on the PATH (an installed package has no checkout beside it)."""
    configured = os.environ.get("CONFIRMNET_ANVIL")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil"
    on_path = shutil.which("anvil")
    return checkout if checkout.exists() or on_path is None else Path(on_path)


ANVIL = _find_anvil()
DEVNET_CHAIN_ID = 31337
OPERATOR_ORG_CODE = "confirmnet-devnet-operator"
# A change to the operators waits this long on the devnet (2 days on a real network), so that the
# governance procedure can be tried out in minutes; anvil's evm_increaseTime skips it, too.
DEVNET_GOVERNANCE_DELAY = 600


class DevnetError(NodeGatewayError):
    """The devnet could not be started, found or stopped."""

    code = "devnet_error"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_rpc(rpc_url: str, process: subprocess.Popen[bytes] | None, timeout_s: float = 20.0) -> None:
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 2}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise DevnetError(f"anvil exited with code {process.returncode}")
        try:
            if w3.eth.block_number >= 0:
                return
        except Exception:  # any failure means "not up yet"
            time.sleep(0.05)
    raise DevnetError(f"anvil did not answer on {rpc_url} within {timeout_s:.0f} s")


# The devnet's fork, as the contracts' evmVersion. Anvil offers the P-256 precompile (EIP-7951, at
# RIP-7212's address 0x100, which OpenZeppelin's P256 calls before its Solidity fallback) from
# "osaka" on; tests/contracts/test_gas.py measures both.
DEVNET_HARDFORK = "cancun"
DEVNET_BLOCK_GAS_LIMIT = 100_000_000


def anvil_command(
    *,
    port: int,
    state_file: Path | None,
    cache_dir: Path,
    chain_id: int = DEVNET_CHAIN_ID,
    hardfork: str = DEVNET_HARDFORK,
) -> list[str]:
    """anvil keeps the states of its last 500 blocks in memory and writes older ones to
    ``cache_dir``, up to 3,600 more, each the whole state: 46 GB by the end of the bench's
    ten-minute soak. They are kept: the regulator's verifier checks a contract signer's signature
    in the state of the block that recorded the authorisation (``--prune-history`` failed those
    checks; ``--max-persisted-states 0`` keeps only the 500 in memory, 9.6 GB in that soak).
    ``cache_dir`` is a directory of the node's own that goes with it, in place of the default
    ``~/.foundry/anvil/tmp``, which nothing cleaned."""
    if not ANVIL.exists():
        raise DevnetError(f"anvil is not installed ({ANVIL}); run `make setup`")
    command = [
        str(ANVIL),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--hardfork", hardfork,
        # Like the production chain (Besu QBFT): no fees, so member accounts need no funding, and
        # blocks of 100M gas (deploy/besu's genesis), so a bundle may be as large as it will be there.
        "--base-fee", "0",
        "--gas-price", "0",
        "--gas-limit", str(DEVNET_BLOCK_GAS_LIMIT),
        "--silent",
        "--cache-path", str(cache_dir),
    ]  # fmt: skip
    if state_file is not None:
        # Loaded at start, written at exit and every second, so a killed node loses at most a second.
        command += ["--state", str(state_file), "--state-interval", "1"]
    return command


class AnvilNode:
    """One anvil process on loopback, stopped when the context ends, and when the process that
    started it ends (from the main thread: see :func:`dies_with_this_thread`)."""

    def __init__(
        self, data_dir: Path | None = None, port: int | None = None, *, hardfork: str = DEVNET_HARDFORK
    ) -> None:
        self.port = port or free_port()
        self.hardfork = hardfork
        self.state_file = data_dir / "state.json" if data_dir is not None else None
        self.rpc_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._cache: tempfile.TemporaryDirectory[str] | None = None

    @property
    def cache_dir(self) -> Path | None:
        """The node's spilled past states, removed when it stops (or when this process ends)."""
        return Path(self._cache.name) if self._cache is not None else None

    def start(self) -> None:
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self._cache = tempfile.TemporaryDirectory(prefix="confirmnet-anvil-")
        self._process = subprocess.Popen(
            anvil_command(
                port=self.port,
                state_file=self.state_file,
                cache_dir=Path(self._cache.name),
                hardfork=self.hardfork,
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=dies_with_this_thread(),
        )
        _wait_for_rpc(self.rpc_url, self._process)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._cache is not None:
            self._cache.cleanup()
            self._cache = None

    def __enter__(self) -> AnvilNode:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        # Reaps the node if this very process started it (tests do); others' children are not ours.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass(frozen=True)
class DevnetStatus:
    running: bool
    pid: int | None
    network: NetworkFile | None
    block_number: int | None


class Devnet:
    """The detached devnet kept in ``data_dir`` (anvil state, operator key, network file, pid)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.state_file = data_dir / "state.json"
        self.network_file = data_dir / "network.json"
        self.pid_file = data_dir / "anvil.pid"
        self.log_file = data_dir / "anvil.log"
        self.cache_dir = data_dir / "anvil-cache"
        self.operator_keystore = data_dir / "operator.keystore.json"
        self.operator_passphrase = data_dir / "operator.passphrase"

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def up(self, port: int = 8545) -> NetworkFile:
        """Starts the node if it is not running and deploys the contracts on first start."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        known = NetworkFile.load(self.network_file) if self.network_file.exists() else None
        if self._pid() is None:
            if known is not None:
                port = int(known.rpc_url.rsplit(":", 1)[1])
            # The chain resumes from the state file; the node before spilled states no one reads.
            shutil.rmtree(self.cache_dir, ignore_errors=True)
            with self.log_file.open("ab") as log:
                process = subprocess.Popen(
                    anvil_command(port=port, state_file=self.state_file, cache_dir=self.cache_dir),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,  # outlives the command that started it
                )
            self.pid_file.write_text(str(process.pid))
            _wait_for_rpc(f"http://127.0.0.1:{port}", process)
        if known is not None:
            self._check_deployed(known)
            return known
        rpc_url = f"http://127.0.0.1:{port}"
        operator = TransactionSender(connect(rpc_url), self._operator_account())
        org_id = Web3.keccak(text=OPERATOR_ORG_CODE)
        network = deploy_network(
            operator,
            operator_org_id=org_id,
            operator_name="confirmnet devnet operator",
            governance_delay=DEVNET_GOVERNANCE_DELAY,
        )
        described = network.describe(rpc_url, peer_endpoints=EndpointPolicy.DEVELOPMENT)
        described.save(self.network_file)
        return described

    def status(self) -> DevnetStatus:
        network = NetworkFile.load(self.network_file) if self.network_file.exists() else None
        pid = self._pid()
        block = None
        if pid is not None and network is not None:
            try:
                block = connect(network.rpc_url, timeout_s=2).eth.block_number
            except Exception:  # a node that does not answer has no block number
                block = None
        return DevnetStatus(running=pid is not None, pid=pid, network=network, block_number=block)

    def down(self) -> bool:
        """Stops the node (it writes its state on the way out); False if it was not running."""
        pid = self._pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.05)
        else:
            raise DevnetError(f"anvil (pid {pid}) did not stop")
        self.pid_file.unlink(missing_ok=True)
        return True

    def operator_account(self) -> LocalAccount:
        """The devnet operator's key, for admitting members on a development network."""
        return self._operator_account()

    def _operator_account(self) -> LocalAccount:
        # The devnet's own throwaway operator key: encrypted, with its passphrase beside it in the
        # (git-ignored) data directory. A production operator keeps its key in its gateway.
        if not self.operator_keystore.exists():
            passphrase = secrets.token_urlsafe(24)
            self.operator_passphrase.write_text(passphrase)
            self.operator_passphrase.chmod(0o600)
            account: LocalAccount = Account.create()
            keystore = Account.encrypt(account.key, passphrase)
            self.operator_keystore.write_text(json.dumps(keystore))
            self.operator_keystore.chmod(0o600)
            return account
        passphrase = self.operator_passphrase.read_text()
        key = Account.decrypt(json.loads(self.operator_keystore.read_text()), passphrase)
        restored: LocalAccount = Account.from_key(key)
        return restored

    def _check_deployed(self, network: NetworkFile) -> None:
        w3 = connect(network.rpc_url)
        for address in (network.member_registry, network.confirmation_registry):
            if not w3.eth.get_code(Web3.to_checksum_address(address)):
                raise DevnetError(
                    f"no contract at {address}: the devnet's state was lost; "
                    f"remove {self.data_dir} to start anew"
                )
