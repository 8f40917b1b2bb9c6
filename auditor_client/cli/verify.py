"""``confirmnet verify EVIDENCE --rpc URL`` and ``confirmnet verify contracts``: no gateway involved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from auditor_client.cli._common import EXIT_FAILED, EXIT_INPUT, console, fail, progress
from auditor_client.evidence import EvidenceError, load_package
from auditor_client.verifier import NETWORK, Report, VerifierError, verify_contracts, verify_package
from node_gateway.chain.network import NetworkFile, connect


class _EvidenceByDefault(TyperGroup):
    """``verify FILE`` means ``verify evidence FILE``; ``verify contracts`` is the other command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's vendored click.Context
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["evidence", *args]
        return super().parse_args(ctx, args)


verify_app = typer.Typer(
    cls=_EvidenceByDefault,
    help="Check evidence against any node of the network, trusting no gateway: `confirmnet verify "
    "EVIDENCE --rpc URL`; or check the deployed contracts: `confirmnet verify contracts`.",
    no_args_is_help=True,
)

RpcOption = Annotated[
    str, typer.Option("--rpc", envvar="CONFIRMNET_RPC_URL", help="A JSON-RPC node of the network.")
]
_MARK = {"pass": "[green]PASS", "fail": "[red]FAIL", "note": "[yellow]NOTE"}


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
                check.detail,
            )
    console.print(table)
    rate = report.documents / report.seconds if report.seconds else 0.0
    verdict = "[green]VALID" if report.ok else f"[red]INVALID: {len(report.failures)} check(s) failed"
    console.print(
        f"{verdict}[/] — {report.letters} letters, {report.documents} documents, {len(report.checks)} checks "
        f"in {report.seconds:.2f} s ({rate:.0f} documents/s)"
    )


def _save(report: Report, path: Path | None) -> None:
    if path is None:
        return
    checks = [vars(c) for c in report.checks]
    path.write_text(
        json.dumps(
            {"valid": report.ok, "seconds": report.seconds, "checks": checks}, ensure_ascii=False, indent=1
        ),
        encoding="utf-8",
    )


@verify_app.command("evidence")
def evidence(
    package_file: Annotated[Path, typer.Argument(help="An evidence package (JSON).")],
    rpc: RpcOption,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Show every check, not only failures.")
    ] = False,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Write every verdict here (JSON).")
    ] = None,
    pdf: Annotated[Path | None, typer.Option(help="Write a PDF summary with the verdicts.")] = None,
) -> None:
    """Check every document, salt and chain reference of an evidence package against the chain."""
    try:
        package = load_package(package_file)
    except EvidenceError as exc:
        fail(f"package: {exc}", EXIT_INPUT)
    try:
        with progress() as bar:
            task = bar.add_task("verifying letters", total=len(package.letters))
            report = verify_package(package, connect(rpc), progress=lambda n: bar.advance(task, n))
    except VerifierError as exc:
        fail(f"cannot verify: {exc}", EXIT_INPUT)
    _print(report, verbose=verbose)
    _save(report, report_file)
    if pdf is not None:
        from auditor_client.pdf import write_summary

        write_summary(package, package_file, pdf, report=report)
        console.print(f"summary written to {pdf}")
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@verify_app.command("contracts")
def contracts(
    rpc: RpcOption,
    network: Annotated[Path, typer.Option("--network", help="The network file (chain id and addresses).")],
) -> None:
    """Check that the contracts deployed on the node are the committed build, byte for byte."""
    try:
        network_file = NetworkFile.load(network)
    except (OSError, ValueError) as exc:
        fail(f"{network}: {exc}", EXIT_INPUT)
    try:
        report = verify_contracts(connect(rpc), network_file)
    except VerifierError as exc:
        fail(f"cannot verify: {exc}", EXIT_INPUT)
    _print(report, verbose=True)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)
