"""A whole network on loopback for the integration tests: anvil and one real gateway process per
member, over real HTTP (``confirmnet.launcher`` does the work, as for the demo).

``Gateway`` here is set up through the command line, ``confirmnet gateway init`` with its options,
as a member would do it; tests use it for members that join an existing consortium.

``wait_until`` here follows the running consortium's progress (``LocalNetwork.activity``): its
``timeout_s`` is how long the network may show nothing moving, not how long the wait may take, so
that a loaded machine makes the tests slow rather than failed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confirmnet import launcher
from confirmnet.launcher import CONFIRMNET, LaunchError, LocalNetwork, MemberSpec
from node_gateway.chain.devnet import AnvilNode

PASSPHRASE = "integration test passphrase, never used elsewhere"

__all__ = [
    "PASSPHRASE",
    "CliGateway",
    "Consortium",
    "Gateway",
    "cli_gateway",
    "start_consortium",
    "wait_until",
]


Gateway = launcher.Gateway
_running: list[LocalNetwork] = []  # the consortium that is up


def wait_until(
    condition: Callable[[], Any], timeout_s: float = 60.0, what: str = "condition", *, poll_s: float = 0.05
) -> Any:
    """Polls ``condition`` until it returns something true, for as long as the running consortium
    shows progress; gives up once nothing has moved in it for ``timeout_s``."""
    progress = _running[-1].activity if _running else None
    return launcher.wait_until(condition, timeout_s, what, progress=progress, poll_s=poll_s)


@dataclass
class CliGateway(launcher.Gateway):
    init_options: list[str] = field(default_factory=list)  # more `gateway init` options

    def init(self) -> None:
        keys_file = self.data_dir.parent / f"{self.data_dir.name}.keys.json"
        options = {
            "--role": self.role,
            "--name": self.name,
            "--registration-code": self.registration_code,
            "--data-dir": str(self.data_dir),
            "--network-file": str(self.network_file),
            "--port": str(self.port),
            "--keys-file": str(keys_file),
        }
        command = [
            *CONFIRMNET,
            "gateway",
            "init",
            *(x for pair in options.items() for x in pair),
            *self.init_options,
        ]
        result = subprocess.run(command, env=self.env(), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LaunchError(f"gateway init of {self.name} failed: {result.stdout}{result.stderr}")
        created = json.loads(keys_file.read_text())
        self.api_keys, self.account = created["api_keys"], created["account"]


def cli_gateway(
    role: str,
    name: str,
    code: str,
    data_dir: Path,
    network_file: Path,
    init_options: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> CliGateway:
    return CliGateway(
        MemberSpec(role, name, code, env or {}),
        data_dir,
        network_file,
        PASSPHRASE,
        init_options=init_options or [],
    )


@dataclass
class Consortium:
    network: LocalNetwork

    @property
    def anvil(self) -> AnvilNode:
        assert self.network.anvil is not None
        return self.network.anvil

    @property
    def network_file(self) -> Path:
        return self.network.network_file

    @property
    def members(self) -> list[Gateway]:
        return self.network.gateways

    @property
    def operator(self) -> Gateway:
        return self.network.gateways[0]

    @property
    def firm(self) -> Gateway:
        return self.network.gateways[1]

    @property
    def bank(self) -> Gateway:
        return self.network.gateways[2]

    @property
    def regulator(self) -> Gateway:
        return self.network.gateways[3]

    def admit(self, gateway: Gateway) -> int:
        self.network.request_admission(gateway)
        member_id: int = wait_until(gateway.member_id, 60, f"{gateway.name} admitted")
        return member_id


MEMBERS = [
    MemberSpec("operator", "中国银行业协会", "51100000500000074H"),
    MemberSpec("audit_firm", "明鉴会计师事务所", "91310000MA1FL0TE5Q"),
    MemberSpec("bank", "东海银行", "91310000132206210U"),
    MemberSpec("regulator", "财政部监督评价局", "11100000000013127B"),
]


def start_consortium(base: Path) -> Iterator[Consortium]:
    """Starts anvil and four gateways, deploys with the operator's key and admits the others."""
    network = LocalNetwork(base, MEMBERS, passphrase=PASSPHRASE)
    try:
        network.start()
        _running.append(network)
        yield Consortium(network)
    finally:
        if network in _running:
            _running.remove(network)
        network.stop()
