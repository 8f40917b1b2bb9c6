"""`confirmnet devnet up | status | down`: a real anvil that keeps its contracts and state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

from confirmnet.cli import app
from node_gateway.chain.contracts import Role
from node_gateway.chain.devnet import DEVNET_BLOCK_GAS_LIMIT, AnvilNode, Devnet, free_port
from node_gateway.chain.network import Network, NetworkFile, connect
from node_gateway.chain.transactions import TransactionSender

pytestmark = pytest.mark.anvil

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "devnet"
    Devnet(tmp_path / "devnet").down()


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_devnet_up_status_down_keeps_contracts_and_state(data_dir: Path) -> None:
    up = _cli("devnet", "up", "--data-dir", str(data_dir), "--port", str(free_port()))
    network = NetworkFile.load(data_dir / "network.json")
    assert network.member_registry in up
    assert network.confirmation_registry in up

    status = _cli("devnet", "status", "--data-dir", str(data_dir))
    assert "running" in status
    assert network.confirmation_registry in status

    # Some state: the operator admits a bank.
    w3 = connect(network.rpc_url)
    chain = Network.attach(w3, network)
    bank = Account.create()
    operator = TransactionSender(w3, Devnet(data_dir).operator_account())
    operator.send(
        chain.members.admit(account=bank.address, role=Role.BANK, org_id=b"\x07" * 32, display_name="B")
    )
    assert chain.members.member_count() == 2

    assert "devnet stopped" in _cli("devnet", "down", "--data-dir", str(data_dir))
    stopped = runner.invoke(app, ["devnet", "status", "--data-dir", str(data_dir)])
    assert stopped.exit_code == 3
    assert "stopped" in stopped.output

    again = _cli("devnet", "up", "--data-dir", str(data_dir))
    assert network.member_registry in again
    assert NetworkFile.load(data_dir / "network.json") == network
    restarted = Network.attach(connect(network.rpc_url), network)
    assert restarted.members.member_count() == 2
    assert restarted.members.member_id_of(bank.address) == 2
    assert restarted.confirmations.member_registry() == network.member_registry


def test_status_without_devnet_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["devnet", "status", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no devnet" in result.output


def test_a_node_spills_past_states_to_a_directory_of_its_own_removed_when_it_stops() -> None:
    """anvil's default, ~/.foundry/anvil/tmp, outlives every node and filled the disk under load."""
    with AnvilNode() as node:
        cache = node.cache_dir
        assert cache is not None
        assert cache.is_dir()
        command = Path(f"/proc/{node.pid}/cmdline").read_bytes().split(b"\0")
        assert command[command.index(b"--cache-path") + 1] == str(cache).encode()
        assert connect(node.rpc_url).eth.block_number >= 0
    assert not cache.exists()


def test_a_node_mines_blocks_of_the_production_chains_gas() -> None:
    """deploy/besu's genesis gives blocks DEVNET_BLOCK_GAS_LIMIT gas (test_besu_kit holds the two
    equal); anvil's own default is 30M."""
    with AnvilNode() as node:
        w3 = connect(node.rpc_url)
        assert w3.eth.get_block("latest")["gasLimit"] == DEVNET_BLOCK_GAS_LIMIT
        assert TransactionSender(w3, Account.create()).block_gas_limit == DEVNET_BLOCK_GAS_LIMIT


def test_the_detached_devnet_keeps_its_spilled_states_in_its_data_directory(data_dir: Path) -> None:
    devnet = Devnet(data_dir)
    devnet.up(port=free_port())
    pid = int(devnet.pid_file.read_text())
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert command[command.index(b"--cache-path") + 1] == str(data_dir / "anvil-cache").encode()
