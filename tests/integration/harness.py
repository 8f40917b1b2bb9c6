"""A whole network on loopback: anvil and one real gateway process per member, over real HTTP.

The operator's gateway key deploys the contracts; the other gateways are initialised with
``confirmnet gateway init``, started with ``confirmnet gateway serve`` and admitted through the
operator's API, exactly as members would do it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from node_gateway.chain.devnet import AnvilNode, free_port
from node_gateway.chain.network import connect, deploy_network
from node_gateway.chain.transactions import TransactionSender
from node_gateway.core.keys import load_keys
from node_gateway.protocol.hashing import organisation_id

PASSPHRASE = "integration test passphrase, never used elsewhere"
CONFIRMNET = [sys.executable, "-c", "from node_gateway.cli import main; main()"]


def _env() -> dict[str, str]:
    return {**os.environ, "CONFIRMNET_PASSPHRASE": PASSPHRASE, "CONFIRMNET_POLL_INTERVAL_S": "0.1"}


def wait_until(condition: Callable[[], Any], timeout_s: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@dataclass
class Gateway:
    """One member's gateway process."""

    role: str
    name: str
    registration_code: str
    data_dir: Path
    network_file: Path
    port: int = field(default_factory=free_port)
    api_keys: dict[str, str] = field(default_factory=dict)
    account: str = ""
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    init_options: list[str] = field(default_factory=list)  # more `gateway init` options

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.data_dir / "gateway.toml"

    def init(self) -> None:
        keys_file = self.data_dir.parent / f"{self.data_dir.name}.keys.json"
        subprocess.run(
            [
                *CONFIRMNET,
                "gateway",
                "init",
                "--role",
                self.role,
                "--name",
                self.name,
                "--registration-code",
                self.registration_code,
                "--data-dir",
                str(self.data_dir),
                "--network-file",
                str(self.network_file),
                "--port",
                str(self.port),
                "--keys-file",
                str(keys_file),
                *self.init_options,
            ],
            env=_env(),
            check=True,
            capture_output=True,
        )
        created = json.loads(keys_file.read_text())
        self.api_keys, self.account = created["api_keys"], created["account"]

    def chain_account(self) -> LocalAccount:
        return load_keys(self.data_dir / "keys", PASSPHRASE).chain_account

    def start(self) -> None:
        self.log_path = self.data_dir / "gateway.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*CONFIRMNET, "gateway", "serve", "--config", str(self.config)],
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        wait_until(self._healthy, 60, f"{self.name} to start")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log_tail()}")
        try:
            return httpx.get(self.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, as a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.api_keys[user]}"}, timeout=30
        )

    def identity(self) -> dict[str, Any]:
        response = httpx.get(self.url + "/v1/identity", timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@dataclass
class Consortium:
    anvil: AnvilNode
    network_file: Path
    operator: Gateway
    firm: Gateway
    bank: Gateway
    regulator: Gateway

    @property
    def members(self) -> list[Gateway]:
        return [self.operator, self.firm, self.bank, self.regulator]

    def admit(self, gateway: Gateway) -> int:
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
            assert response.status_code == 202, response.text
        member_id: int = wait_until(lambda: gateway.identity()["member_id"], 60, f"{gateway.name} admitted")
        return member_id


def start_consortium(base: Path) -> Iterator[Consortium]:
    """Starts anvil and four gateways, deploys with the operator's key and admits the others."""
    network_file = base / "network.json"
    gateways = {
        "operator": Gateway(
            "operator", "中国银行业协会", "51100000500000074H", base / "operator", network_file
        ),
        "firm": Gateway("audit_firm", "明鉴会计师事务所", "91310000MA1FL0TE5Q", base / "firm", network_file),
        "bank": Gateway("bank", "东海银行", "91310000132206210U", base / "bank", network_file),
        "regulator": Gateway(
            "regulator", "财政部监督评价局", "11100000000013127B", base / "regulator", network_file
        ),
    }
    with AnvilNode(base / "chain") as anvil:
        for gateway in gateways.values():
            gateway.init()
        operator = gateways["operator"]
        sender = TransactionSender(connect(anvil.rpc_url), operator.chain_account())
        network = deploy_network(
            sender, operator_org_id=organisation_id(operator.registration_code), operator_name=operator.name
        )
        network.describe(anvil.rpc_url).save(network_file)
        consortium = Consortium(anvil=anvil, network_file=network_file, **gateways)
        try:
            for gateway in consortium.members:
                gateway.start()
            for gateway in (consortium.firm, consortium.bank, consortium.regulator):
                consortium.admit(gateway)
            yield consortium
        finally:
            for gateway in consortium.members:
                gateway.stop()
