"""``confirmnet gateway init | serve | add-user``: set up and run a member's gateway."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from node_gateway.core.config import ConfigError, GatewaySettings, MemberRole, check_passphrase
from node_gateway.core.keys import (
    KeystoreError,
    MemberKeys,
    change_passphrase,
    load_keys,
    pending_account,
    rotate_encryption_keys,
)
from node_gateway.core.provision import provision
from node_gateway.core.security import ADMIN, create_user, set_password, set_person
from node_gateway.errors import InvalidRequest
from node_gateway.protocol.envelopes import DEFAULT_SUITE, EnvelopeSuite
from node_gateway.storage.db import Database

gateway_app = typer.Typer(
    help="A member's gateway: its keys, configuration and service.", no_args_is_help=True
)
console = Console()


ConfigFile = Annotated[Path, typer.Option("--config", help="The gateway.toml written by init.")]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(2)


@gateway_app.command("init")
def init(
    role: Annotated[MemberRole, typer.Option(help="What kind of member this gateway serves.")],
    name: Annotated[str, typer.Option(help="The member's display name.")],
    registration_code: Annotated[str, typer.Option(help="The organisation's registration code.")],
    data_dir: Annotated[Path, typer.Option(help="Where keys, database and configuration live.")],
    network_file: Annotated[Path, typer.Option(help="The network file of the chain to join.")],
    host: str = "127.0.0.1",
    port: int = 8700,
    public_url: Annotated[
        str | None, typer.Option(help="URL other gateways use; default http://host:port")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL; default a SQLite file")] = None,
    hybrid: Annotated[bool, typer.Option(help="Also publish an ML-KEM-768+X25519 key, preferred.")] = False,
    keys_file: Annotated[
        Path | None, typer.Option(help="Also write the first API keys here (mode 600).")
    ] = None,
    core_banking_url: Annotated[
        str | None, typer.Option(help="Bank: SQLAlchemy URL of the core bank the bank adapter reads.")
    ] = None,
    approval_policy: Annotated[
        Literal["manual", "straight_through"],
        typer.Option(help="Bank: review every draft, or let clean drafts straight through."),
    ] = "manual",
    straight_through_limit: Annotated[
        str | None,
        typer.Option(
            help="Bank: per currency, the largest amount a straight-through reply may state "
            "(CNY=30000000,USD=4000000; a bare number is a CNY limit; other currencies are reviewed)."
        ),
    ] = None,
) -> None:
    """Create the member's keys (encrypted), its configuration, its database and the first API keys.

    The passphrase comes from CONFIRMNET_PASSPHRASE or CONFIRMNET_PASSPHRASE_FILE, never a flag.
    """
    suites = (EnvelopeSuite.MLKEM768_X25519, EnvelopeSuite.X25519) if hybrid else (DEFAULT_SUITE,)
    settings = GatewaySettings(
        role=role,
        display_name=name,
        registration_code=registration_code,
        data_dir=data_dir.resolve(),
        network_file=network_file.resolve(),
        host=host,
        port=port,
        public_url=public_url,
        database_url=database_url,
        envelope_suite=suites[0],
        core_banking_url=core_banking_url,
        approval_policy=approval_policy,
        straight_through_limit=straight_through_limit,
    )
    try:
        done = provision(settings, settings.read_passphrase(), suites)
    except (ConfigError, KeystoreError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"gateway of [bold]{name}[/bold] ({role.value}) initialised in {settings.data_dir}")
    console.print(f"chain account: {done.account}  (the operator admits this account)")
    console.print(f"configuration: {done.config_path}")
    for user_role, key in done.api_keys.items():
        console.print(f"API key for user {user_role!r}: {key}")
    console.print("The API keys are shown once; only their hashes are kept.")
    if keys_file is not None:
        descriptor = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"account": done.account, "api_keys": done.api_keys}, handle, indent=2)


def _keys(settings: GatewaySettings) -> MemberKeys:
    try:
        return load_keys(settings.keystore_dir, settings.read_passphrase())
    except (ConfigError, KeystoreError) as exc:
        raise _fail(str(exc)) from exc


def _settings(config: Path) -> GatewaySettings:
    try:
        return GatewaySettings.from_file(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


@gateway_app.command("serve")
def serve(config: ConfigFile) -> None:
    """Run the gateway: the user API, the peer API and its workers."""
    from node_gateway.api.app import create_app
    from node_gateway.api.server import serve as serve_app
    from node_gateway.core.logging import configure_logging
    from node_gateway.node import Node
    from node_gateway.protocol.errors import ProtocolError

    settings = _settings(config)
    if pending_account(settings.keystore_dir) is not None:
        raise _fail("an account rotation is pending: finish it with `confirmnet gateway rotate-account`")
    keys = _keys(settings)
    configure_logging(settings.display_name, settings.log_level)
    try:
        node = Node.open(settings, keys)
    except ProtocolError as exc:  # a published calendar missing, or not the file the network recorded
        raise _fail(str(exc)) from exc
    serve_app(create_app(node), host=settings.host, port=settings.port)


network_app = typer.Typer(help="The consortium's network: its contracts on the chain.", no_args_is_help=True)


@network_app.command("deploy")
def network_deploy(
    config: Annotated[Path, typer.Option(help="The operator gateway's gateway.toml.")],
    rpc_url: Annotated[str, typer.Option(help="JSON-RPC of a node of the chain.")],
    out: Annotated[Path, typer.Option(help="Where to write the network file every gateway reads.")],
    chain_id: Annotated[
        int | None, typer.Option(help="Refuse to deploy unless the node is on this chain.")
    ] = None,
    governance_delay: Annotated[
        int,
        typer.Option(
            min=3600,
            help="Seconds every member has to see a change to the operators coming (fixed for good).",
        ),
    ] = 2 * 24 * 3600,  # network.DEFAULT_GOVERNANCE_DELAY; web3 is not imported at start
    peer_endpoints: Annotated[
        Literal["public", "private", "development"],
        typer.Option(
            help="Where members' gateways may live: public https addresses only; private ranges too "
            "(a closed network); or plain http and loopback too (development only).",
        ),
    ] = "public",
) -> None:
    """Deploy the contracts with the operator gateway's own key and write the network file.

    The operator's account becomes member 1; on a chain with a zero gas price it needs no funds.
    Further operators are admitted by proposal, quorum and delay (docs/SECURITY.md, Governance).
    """
    from node_gateway.chain.errors import ChainError
    from node_gateway.chain.network import EndpointPolicy, connect, deploy_network
    from node_gateway.chain.transactions import TransactionSender, rpc
    from node_gateway.protocol.hashing import organisation_id

    settings = _settings(config)
    if settings.role is not MemberRole.OPERATOR:
        raise _fail(f"{config} is the gateway of a {settings.role.value}, not of the operator")
    if out.exists():
        raise _fail(f"{out} exists: the contracts are deployed already")
    keys = _keys(settings)
    try:
        w3 = connect(rpc_url)
        found = rpc(lambda: w3.eth.chain_id)
        if chain_id is not None and found != chain_id:
            raise _fail(f"the node at {rpc_url} is on chain {found}, not {chain_id}")
        network = deploy_network(
            TransactionSender(w3, keys.chain_account),
            operator_org_id=organisation_id(settings.registration_code),
            operator_name=settings.display_name,
            governance_delay=governance_delay,
        )
    except ChainError as exc:
        raise _fail(str(exc)) from exc
    network.describe(rpc_url, peer_endpoints=EndpointPolicy(peer_endpoints)).save(out)
    console.print(
        f"chain {found}, deployed at block {network.deployment_block} by {keys.chain_account.address}"
    )
    console.print(f"MemberRegistry        {network.members.address}")
    console.print(f"ConfirmationRegistry  {network.confirmations.address}")
    console.print(f"governance delay      {governance_delay} s")
    console.print(f"peer endpoints        {peer_endpoints}")
    console.print(f"network file          {out}")


@network_app.command("publish-calendar")
def network_publish_calendar(
    calendar_file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="A year of the State Council's holiday notice as JSON (docs/OPERATIONS.md).",
        ),
    ],
    network_file: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="The network file to record the calendar in.")
    ],
) -> None:
    """Publish an official working-day calendar: recorded by its SHA-256 in the network file and
    stored beside it (calendars/<year>.json). Send both to every member; each gateway refuses to
    start with a calendar file that does not match."""
    from node_gateway.chain.network import calendar_path, publish_calendar
    from node_gateway.protocol.calendar import calendar_hash
    from node_gateway.protocol.errors import ProtocolError

    data = calendar_file.read_bytes()
    try:
        official = publish_calendar(network_file, data)
    except ProtocolError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"calendar of {official.year} ({official.notice}) published")
    console.print(f"holidays {len(official.holidays)}, make-up working days {len(official.workdays)}")
    console.print(f"SHA-256               {calendar_hash(data)}")
    console.print(f"stored as             {calendar_path(network_file, official.year)}")
    console.print(f"network file          {network_file}")


@gateway_app.command("change-passphrase")
def change_passphrase_command(
    config: ConfigFile,
    new_passphrase_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the new passphrase (else CONFIRMNET_NEW_PASSPHRASE, else asked)."),
    ] = None,
) -> None:
    """Encrypt the gateway's keys under a new passphrase (the keys themselves stay).

    The current passphrase comes as for serve; give the new one to the gateway's next start.
    """
    settings = _settings(config)
    try:
        if new_passphrase_file is not None:
            new = new_passphrase_file.read_text(encoding="utf-8").strip()
        else:
            new = os.environ.get("CONFIRMNET_NEW_PASSPHRASE") or typer.prompt(
                "New passphrase", hide_input=True, confirmation_prompt=True
            )
        check_passphrase(new)
        keys = change_passphrase(settings.keystore_dir, settings.read_passphrase(), new)
    except OSError as exc:
        raise _fail(f"cannot read the new passphrase: {exc}") from exc
    except (ConfigError, KeystoreError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"the keys of {keys.chain_account.address} are now encrypted under the new passphrase")


@gateway_app.command("rotate-account")
def rotate_account_command(
    config: ConfigFile,
) -> None:
    """Move the member's chain account to a new key; its member number and history stay.

    Stop the gateway first. If this is cut short, run it again: it finishes what it began.
    """
    from node_gateway.chain.errors import ChainError
    from node_gateway.core.rotation import rotate_account
    from node_gateway.node import attach_network

    settings = _settings(config)
    try:
        _, network = attach_network(settings)
        old, new = rotate_account(settings.keystore_dir, settings.read_passphrase(), network)
    except (ConfigError, KeystoreError, ChainError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"the member's account moved from {old} to {new}; back up {settings.keystore_dir} now")


@gateway_app.command("rotate-encryption-keys")
def rotate_encryption_keys_command(
    config: ConfigFile,
) -> None:
    """New envelope keys for the same suites; the gateway publishes them when it next starts.

    The replaced keys are kept to open envelopes sealed to them before peers saw the new ones;
    the next rotation drops them.
    """
    settings = _settings(config)
    try:
        keys = rotate_encryption_keys(settings.keystore_dir, settings.read_passphrase())
    except (ConfigError, KeystoreError) as exc:
        raise _fail(str(exc)) from exc
    suites = ", ".join(pair.suite.value for pair in keys.encryption_keys)
    console.print(f"new envelope keys ({suites}); restart the gateway to publish them, then back up its keys")


@gateway_app.command("add-user")
def add_user(
    config: ConfigFile,
    name: Annotated[str, typer.Option(help="The user's name.")],
    roles: Annotated[list[str], typer.Option("--role", help="A role within the member (repeatable).")],
    password_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the user's password for the web pages (its first line)."),
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(help="The person's name as documents name them (a bank reply's 经办 and 复核)."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="The person's title (职务), with --person.")] = None,
) -> None:
    """Add a user and print its API key (shown once); with --password-file, the user also signs in
    to the web pages with that password; with --person and --title, documents name them so."""
    if (person is None) != (title is None):
        raise _fail("give --person and --title together")
    settings = _settings(config)
    password = None
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise _fail(f"cannot read a password from {password_file}: {exc}") from exc
    db = Database(settings.effective_database_url)
    db.migrate()
    try:
        with db.session() as session:
            key = create_user(session, settings.role, name, set(roles) or {ADMIN})
            session.flush()
            if password is not None:  # the person running this chose it: not a one-time password
                set_password(session, name, password, one_time=False)
            if person is not None and title is not None:
                set_person(session, name, person, title)
    except InvalidRequest as exc:
        raise _fail(str(exc)) from exc
    console.print(f"API key for {name!r}: {key}")
    if password is not None:
        console.print(f"{name!r} signs in to the pages at {settings.effective_public_url}/web/")
