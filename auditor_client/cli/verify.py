"""``confirmnet verify EVIDENCE --rpc URL --network FILE`` and ``confirmnet verify contracts``: no
gateway involved.

Both start from a trust anchor the user already holds: the network file (``--network``), or the
chain id and contract addresses pinned on the command line. A package's own statement of its
network is never trusted (anyone able to deploy on the chain can deploy byte-identical copies of
the contracts and record anything there), so without an anchor ``verify`` refuses to run (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup
from web3 import Web3

from auditor_client.cli._common import EXIT_FAILED, EXIT_INPUT, console, fail, progress, write_json
from auditor_client.evidence import EvidenceError, EvidencePackage, load_package
from auditor_client.verifier import (
    NETWORK,
    Anchor,
    Report,
    VerifierError,
    verify_contracts,
    verify_package,
)
from node_gateway.chain.network import NetworkFile, connect


class _EvidenceByDefault(TyperGroup):
    """``verify FILE`` (options before or after it) means ``verify evidence FILE``; ``verify
    contracts`` is the other command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's vendored click.Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["evidence", *args]
        return super().parse_args(ctx, args)


verify_app = typer.Typer(
    cls=_EvidenceByDefault,
    help="Check evidence against any node of the network, trusting no gateway: `confirmnet verify "
    "EVIDENCE --rpc URL --network FILE`; or check the deployed contracts: `confirmnet verify "
    "contracts --rpc URL --network FILE`. The network file (or pinned addresses) is the trust "
    "anchor: never the package's own.",
    no_args_is_help=True,
)

RpcOption = Annotated[
    str, typer.Option("--rpc", envvar="CONFIRMNET_RPC_URL", help="A JSON-RPC node of the network.")
]
NetworkOption = Annotated[
    Path | None,
    typer.Option(
        "--network",
        help="The trust anchor: the network file you already hold (chain id, contract addresses, "
        "deployment block); not one from whoever sent the package.",
    ),
]
ChainIdOption = Annotated[int | None, typer.Option("--chain-id", help="Instead of --network: the chain id.")]
MemberRegistryOption = Annotated[
    str | None, typer.Option("--member-registry", help="Instead of --network: the MemberRegistry address.")
]
ConfirmationRegistryOption = Annotated[
    str | None,
    typer.Option("--confirmation-registry", help="Instead of --network: the ConfirmationRegistry address."),
]
DeploymentBlockOption = Annotated[
    int | None,
    typer.Option("--deployment-block", help="With pinned addresses: the MemberRegistry's deployment block."),
]
_MARK = {"pass": "[green]PASS", "fail": "[red]FAIL", "note": "[yellow]NOTE"}


def _anchor(
    network: Path | None,
    pinned: tuple[int | None, str | None, str | None, int | None],
    package: EvidencePackage | None = None,
) -> Anchor:
    """The trust anchor: the network file, or the pinned (chain id, MemberRegistry,
    ConfirmationRegistry, deployment block); anything else ends here with exit 2."""
    chain_id, member_registry, confirmation_registry, deployment_block = pinned
    if network is not None:
        if any(value is not None for value in pinned):
            fail("give either --network or pinned --chain-id and addresses, not both", EXIT_INPUT)
        try:
            return Anchor.of(NetworkFile.load(network), source=f"network file {network}")
        except (OSError, ValueError) as exc:
            fail(f"{network}: {exc}", EXIT_INPUT)
    if chain_id is None or member_registry is None or confirmation_registry is None:
        fail(escape(_unanchored(package)), EXIT_INPUT)
    for option, address in (
        ("--member-registry", member_registry),
        ("--confirmation-registry", confirmation_registry),
    ):
        if not Web3.is_address(address):
            fail(f"{option}: {address!r} is not an address", EXIT_INPUT)
    return Anchor(
        chain_id, member_registry, confirmation_registry, deployment_block, "pinned on the command line"
    )


def _unanchored(package: EvidencePackage | None) -> str:
    message = (
        "no trust anchor: pass --network FILE (the network file you already hold), or pin --chain-id, "
        "--member-registry and --confirmation-registry. A package is never trusted to name its own "
        "network: anyone able to deploy on the chain can deploy copies of the contracts."
    )
    if package is not None:
        stated = package.network
        message += (
            f"\nThe package names chain id {stated.chain_id}, MemberRegistry {stated.member_registry}, "
            f"ConfirmationRegistry {stated.confirmation_registry}: unanchored, not trusted."
        )
    return message


def _print(report: Report, *, verbose: bool) -> None:
    subjects = report.subjects()
    table = Table(title="verification")
    for column in ("subject", "check", "verdict", "detail"):
        table.add_column(column, overflow="fold")
    for subject, checks in subjects.items():
        shown = checks if verbose or subject == NETWORK else [c for c in checks if c.verdict == "fail"]
        if not shown:
            passed = sum(c.verdict == "pass" for c in checks)
            table.add_row(subject[:18] + "…", f"{passed} checks", _MARK["pass"], "every check passed")
        for check in shown:
            table.add_row(
                subject if subject == NETWORK else subject[:18] + "…",
                check.name,
                _MARK[check.verdict],
                escape(check.detail),
            )
    console.print(table)
    if report.anchor is not None:
        console.print(escape(report.anchor.describe()), soft_wrap=True)
    rate = report.documents / report.seconds if report.seconds else 0.0
    verdict = "[green]VALID" if report.ok else f"[red]INVALID: {len(report.failures)} check(s) failed"
    console.print(
        f"{verdict}[/] — {report.letters} letters, {report.documents} documents, {len(report.checks)} checks "
        f"in {report.seconds:.2f} s ({rate:.0f} documents/s)"
    )


def _require_pdf() -> None:
    """Before anything is verified: the PDF summary needs the ``auditor`` extra (reportlab)."""
    try:
        import auditor_client.pdf  # noqa: F401
    except ModuleNotFoundError as exc:
        fail(
            escape(f"--pdf needs {exc.name}, of the auditor extra: pip install 'confirmnet[auditor]'"),
            EXIT_INPUT,
        )


@verify_app.command("evidence")
def evidence(
    package_file: Annotated[Path, typer.Argument(help="An evidence package (JSON).")],
    rpc: RpcOption,
    network: NetworkOption = None,
    chain_id: ChainIdOption = None,
    member_registry: MemberRegistryOption = None,
    confirmation_registry: ConfirmationRegistryOption = None,
    deployment_block: DeploymentBlockOption = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Show every check, not only failures.")
    ] = False,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Write every verdict here (JSON).")
    ] = None,
    pdf: Annotated[Path | None, typer.Option(help="Write a PDF summary with the verdicts.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes checking the letters (the chain is read once, by this one); the same "
            "verdicts with any number. One by default: more pay off for packages of thousands of letters.",
        ),
    ] = 1,
) -> None:
    """Check every document, salt and chain reference of an evidence package against the chain,
    on the network of the trust anchor (--network FILE, or pinned chain id and addresses)."""
    if pdf is not None:
        _require_pdf()
    try:
        package = load_package(package_file)
    except EvidenceError as exc:
        fail(f"package: {exc}", EXIT_INPUT)
    anchor = _anchor(network, (chain_id, member_registry, confirmation_registry, deployment_block), package)
    try:
        with progress() as bar:
            task = bar.add_task("verifying letters", total=len(package.letters))
            report = verify_package(
                package,
                connect(rpc),
                anchor=anchor,
                progress=lambda n: bar.advance(task, n),
                workers=workers,
            )
    except VerifierError as exc:
        fail(f"cannot verify: {exc}", EXIT_INPUT)
    _print(report, verbose=verbose)
    if report_file is not None:
        write_json(report_file, report.as_json())
    if pdf is not None:
        from auditor_client.pdf import write_summary

        write_summary(package, package_file, pdf, report=report)
        console.print(f"summary written to {pdf}")
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@verify_app.command("contracts")
def contracts(
    rpc: RpcOption,
    network: NetworkOption = None,
    chain_id: ChainIdOption = None,
    member_registry: MemberRegistryOption = None,
    confirmation_registry: ConfirmationRegistryOption = None,
) -> None:
    """Check that the anchor's contracts on the node are the committed build, byte for byte, each
    immutable holding its own value on this network."""
    anchor = _anchor(network, (chain_id, member_registry, confirmation_registry, None))
    try:
        report = verify_contracts(connect(rpc), anchor)
    except VerifierError as exc:
        fail(f"cannot verify: {exc}", EXIT_INPUT)
    _print(report, verbose=True)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)
