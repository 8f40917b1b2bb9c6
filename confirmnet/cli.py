"""The ``confirmnet`` command line: every package's commands under one root.

Each group is mounted from the package that owns it. A group whose package's extra is not
installed (``pip install 'confirmnet[gateway]'`` and so on) is still listed and says what to
install, so that the base install runs ``confirmnet verify`` with neither FastAPI nor SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from node_gateway.chain.devnet import Devnet, DevnetError
from node_gateway.chain.network import NetworkFile

app = typer.Typer(help="confirmnet: bank audit confirmations on a permissioned chain.", no_args_is_help=True)
devnet_app = typer.Typer(help="A local development chain with the contracts deployed.", no_args_is_help=True)
app.add_typer(devnet_app, name="devnet")

_OWN_PACKAGES = ("confirmnet", "node_gateway", "bank_adapter", "auditor_client")
# name, module, attribute, the extra that brings the module's dependencies
_GROUPS = [
    ("gateway", "node_gateway.gateway_cli", "gateway_app", "gateway"),
    ("network", "node_gateway.gateway_cli", "network_app", "gateway"),
    ("bank", "bank_adapter.cli", "bank_app", "bank"),
    ("auditor", "auditor_client.cli.auditor", "auditor_app", "auditor"),
    ("authorise", "auditor_client.cli.authorise", "authorise_app", "auditor"),
    ("verify", "auditor_client.cli.verify", "verify_app", "auditor"),
]


def _missing(name: str, extra: str, module: str) -> typer.Typer:
    """A group that only says which extra would bring it."""
    group = typer.Typer(help=f"(needs: pip install 'confirmnet[{extra}]')")

    @group.callback(invoke_without_command=True)
    def explain() -> None:
        typer.echo(
            f"confirmnet {name}: {module} is not installed; pip install 'confirmnet[{extra}]'", err=True
        )
        raise typer.Exit(2)

    return group


for _name, _module, _attribute, _extra in _GROUPS:
    try:
        _group: typer.Typer = getattr(import_module(_module), _attribute)
    except ModuleNotFoundError as _exc:
        if (_exc.name or "").split(".")[0] in _OWN_PACKAGES:
            raise  # our own code is missing: a broken install, not a missing extra
        _group = _missing(_name, _extra, _exc.name or _module)
    app.add_typer(_group, name=_name)

console = Console()

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where the devnet keeps its state, keys and network file.")
]
DEFAULT_DATA_DIR = Path(".devnet")


def _network_table(network: NetworkFile) -> Table:
    table = Table(show_header=False)
    table.add_row("chain id", str(network.chain_id))
    table.add_row("RPC URL", network.rpc_url)
    table.add_row("MemberRegistry", network.member_registry)
    table.add_row("ConfirmationRegistry", network.confirmation_registry)
    table.add_row("deployment block", str(network.deployment_block))
    return table


@devnet_app.command("up")
def devnet_up(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    port: Annotated[int, typer.Option(help="Loopback port for JSON-RPC (first start only).")] = 8545,
) -> None:
    """Start anvil on loopback (state kept in the data directory); deploy on first start."""
    devnet = Devnet(data_dir)
    try:
        network = devnet.up(port=port)
    except DevnetError as exc:
        console.print(f"[red]devnet: {exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(_network_table(network))
    console.print(f"network file: {devnet.network_file}")


@devnet_app.command("status")
def devnet_status(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Show whether the devnet runs, its block height and its contract addresses."""
    status = Devnet(data_dir).status()
    if status.network is None:
        console.print(f"no devnet in {data_dir} (run `confirmnet devnet up`)")
        raise typer.Exit(1)
    state = f"running (pid {status.pid}, block {status.block_number})" if status.running else "stopped"
    console.print(f"devnet: {state}")
    console.print(_network_table(status.network))
    if not status.running:
        raise typer.Exit(3)


@devnet_app.command("down")
def devnet_down(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Stop the devnet; its state stays in the data directory for the next `up`."""
    try:
        stopped = Devnet(data_dir).down()
    except DevnetError as exc:
        console.print(f"[red]devnet: {exc}[/red]")
        raise typer.Exit(1) from exc
    console.print("devnet stopped" if stopped else "devnet was not running")


@app.command("demo")
def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo network keeps its files (wiped first).")
    ] = Path(".demo"),
    letters: Annotated[int, typer.Option(min=20, max=5000, help="How many letters the season has.")] = 300,
    embedded: Annotated[
        bool, typer.Option(help="Everything in this process, on the in-process chain.")
    ] = False,
    exit_after: Annotated[bool, typer.Option("--exit", help="Stop the network after the summary.")] = False,
) -> None:
    """Run a whole network on this machine and an audit season through it."""
    import shutil

    from confirmnet.demo import run_demo

    shutil.rmtree(data_dir, ignore_errors=True)
    summary = run_demo(data_dir.resolve(), letters=letters, embedded=embedded, keep_running=not exit_after)
    if summary.verification_failures:
        raise typer.Exit(1)


def main() -> None:
    app()
