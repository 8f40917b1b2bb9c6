"""``confirmnet bank …``: the bank officers' command line.

Most commands talk to the bank's gateway over its user API with the officer's API key
(``--gateway`` / ``CONFIRMNET_GATEWAY_URL``, ``--api-key`` / ``CONFIRMNET_API_KEY``); what the
gateway refuses is shown with its code and message. ``import`` and ``generate`` work on the core
bank's database directly (``--core-url``, or the gateway's configuration file).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from bank_adapter.core_sql import CoreBank
from bank_adapter.generator import generate as generate_dataset
from bank_adapter.importer import ImportRejected, export_csv, export_xlsx, import_files
from bank_adapter.mandates import read_mandates
from bank_adapter.port import CoreBankingError
from node_gateway.core.config import ConfigError, GatewaySettings
from node_gateway.protocol.documents import RejectionReason

bank_app = typer.Typer(
    help="A bank's officers: letters, drafts, approval, deadlines, core data.", no_args_is_help=True
)
mandates_app = typer.Typer(
    help="The signers who may authorise letters for each customer.", no_args_is_help=True
)
bank_app.add_typer(mandates_app, name="mandates")
console = Console()


class GatewayClient:
    """The bank gateway's user API, for one officer."""

    def __init__(self, url: str, api_key: str | None) -> None:
        if not api_key:
            raise _fail("give the officer's API key: --api-key or CONFIRMNET_API_KEY")
        self._http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        try:
            response = self._http.request(
                method, path, json=body, params={k: v for k, v in params.items() if v is not None}
            )
        except httpx.HTTPError as exc:
            raise _fail(f"the gateway at {self._http.base_url} did not answer: {exc}") from exc
        if response.is_error:
            try:
                error = response.json()["error"]
                message = f"{error['code']}: {error['message']}"
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {response.status_code}: {response.text[:500]}"
            raise _fail(message)
        return response.json()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(1)


@bank_app.callback()
def _connect(
    context: typer.Context,
    gateway: Annotated[
        str, typer.Option(envvar="CONFIRMNET_GATEWAY_URL", help="The bank gateway's URL.")
    ] = "http://127.0.0.1:8700",
    api_key: Annotated[
        str | None,
        typer.Option(envvar="CONFIRMNET_API_KEY", help="The officer's API key.", show_default=False),
    ] = None,
) -> None:
    context.obj = (gateway, api_key)


def _client(context: typer.Context) -> GatewayClient:
    gateway, api_key = context.obj
    return GatewayClient(gateway, api_key)


Letter = Annotated[str, typer.Argument(help="The letter id (0x…).")]
Version = Annotated[int | None, typer.Option(help="The draft version reviewed (refused if replaced).")]


# --- letters --------------------------------------------------------------------------------------


@bank_app.command()
def inbox(
    context: typer.Context,
    all_letters: Annotated[bool, typer.Option("--all", help="Also letters answered or ended.")] = False,
) -> None:
    """Received letters with their stage and deadline, the earliest due first."""
    cases = _client(context).call("GET", "/v1/bank/letters", open=not all_letters)
    table = Table("letter", "firm", "stage", "received", "due", "urgency", "draft")
    for case in cases:
        draft = case["draft"]
        table.add_row(
            case["letter_id"],
            str(case["firm"]),
            case["stage"],
            case["received_on"],
            case["due"] or "",
            case["urgency"] or "",
            "" if draft is None else f"v{draft['version']} {draft['status']} ({draft['exceptions']} exc.)",
        )
    console.print(table)


@bank_app.command()
def show(context: typer.Context, letter_id: Letter) -> None:
    """A letter: its stage, compliance check, current draft item by item, and decisions."""
    case = _client(context).call("GET", f"/v1/bank/letters/{letter_id}")
    letter = case["letter"]
    console.print(f"[bold]{case['letter_id']}[/bold]  {case['status']} / {case['stage']}")
    console.print(
        f"format {letter['format']}, reference date {letter['reference_date']}, auditee {letter['auditee']['name']}"
    )
    console.print(
        f"received {case['received_on']}; reject by {case['compliance_due']}; reply by {case['reply_due']}"
    )
    if case["compliance"]:
        check = case["compliance"]
        console.print(f"compliance: {check['outcome']} ({check['decided_by']}): {check['detail']}")
    draft = case["current_draft"]
    if draft:
        console.print(
            f"draft v{draft['version']} {draft['status']}, prepared by {draft['preparer']['officer_id']}"
            + (f", reviewed by {draft['reviewer']['officer_id']}" if draft["reviewer"] else "")
        )
        table = Table("item", "status", "differences", "bank entries")
        for key, item in draft["items"].items():
            differences = "\n".join(
                f"{d['reason']}"
                + (f" [{d['entry']}]" if d["entry"] is not None else "")
                + (f" {d['field']}: {d['auditor_value']} → {d['bank_value']}" if d["field"] else "")
                + (f" {d['note']}" if d["note"] else "")
                for d in item["differences"]
            )
            table.add_row(
                key, item["status"], differences, str(len(item["entries"])) if item["entries"] else ""
            )
        console.print(table)
        for point in draft["attention_points"]:
            console.print(f"[yellow]attention:[/yellow] {point}")
    _print_decisions(case["decisions"])


def _print_decisions(decisions: list[dict[str, Any]]) -> None:
    table = Table("when", "letter", "action", "who", "draft", "reason", "note")
    for d in decisions:
        table.add_row(
            d["at"],
            d["letter_id"][:10] + "…",
            d["action"],
            d["actor_id"],
            "" if d["draft_version"] is None else f"v{d['draft_version']}",
            "" if d["reason"] is None else str(d["reason"]),
            d["note"] or "",
        )
    console.print(table)


@bank_app.command()
def draft(
    context: typer.Context,
    letter_id: Letter,
    items: Annotated[
        Path | None,
        typer.Option(help="A JSON file with the answers (reply items); default: draft from the core."),
    ] = None,
    remarks: Annotated[str | None, typer.Option(help="Remarks for the reply.")] = None,
) -> None:
    """Draft the reply (as the preparer): again from the core, or with your own answers."""
    body: dict[str, Any] = {"remarks": remarks}
    if items is not None:
        loaded = json.loads(items.read_text(encoding="utf-8"))
        body["items"] = loaded.get("items", loaded)
    made = _client(context).call("POST", f"/v1/bank/letters/{letter_id}/draft", body)
    console.print(f"draft v{made['version']} stored: {made['exceptions']} exception(s); awaiting a reviewer")


@bank_app.command()
def approve(context: typer.Context, letter_id: Letter, draft_version: Version = None) -> None:
    """Approve the draft (as a reviewer other than its preparer); the reply goes out."""
    result = _client(context).call(
        "POST", f"/v1/bank/letters/{letter_id}/approve", {"draft_version": draft_version}
    )
    console.print(
        f"draft v{result['draft_version']} approved by {result['reviewer']['officer_id']}"
        f" (prepared by {result['preparer']['officer_id']}); the reply is being recorded and delivered"
    )


@bank_app.command("return")
def return_draft(
    context: typer.Context,
    letter_id: Letter,
    note: Annotated[str, typer.Option(help="What the preparer must change.")],
    draft_version: Version = None,
) -> None:
    """Return the draft to the preparers with a note."""
    result = _client(context).call(
        "POST", f"/v1/bank/letters/{letter_id}/return", {"note": note, "draft_version": draft_version}
    )
    console.print(f"draft v{result['draft_version']} returned to {result['preparer']['officer_id']}")


@bank_app.command()
def reject(
    context: typer.Context,
    letter_id: Letter,
    reason: Annotated[str, typer.Option(help="INCOMPLETE, REFERENCE_DATE_INVALID, UNKNOWN_CUSTOMER, …")],
    note: Annotated[str | None, typer.Option(help="Why, for the decision log.")] = None,
) -> None:
    """Reject a letter as not compliant, with its reason code."""
    try:
        code = RejectionReason[reason.upper()] if not reason.isdigit() else RejectionReason(int(reason))
    except (KeyError, ValueError) as exc:
        raise _fail(f"no reason {reason}; one of {', '.join(r.name for r in RejectionReason)}") from exc
    _client(context).call("POST", f"/v1/bank/letters/{letter_id}/reject", {"reason": int(code), "note": note})
    console.print(f"letter {letter_id} rejected ({code.name}); the rejection is being recorded on chain")


@bank_app.command()
def deadlines(
    context: typer.Context,
    within: Annotated[int, typer.Option(help="Near due: within this many working days.")] = 2,
) -> None:
    """Overdue and near-due letters, counted in official working days."""
    lists = _client(context).call("GET", "/v1/bank/deadlines", within=within)
    if not lists["official_calendar"]:
        console.print("[yellow]this year's official calendar is not known yet: weekdays stand in[/yellow]")
    for title in ("overdue", "near_due"):
        table = Table("letter", "stage", "due", "rule", title=f"{title.replace('_', ' ')} ({lists['today']})")
        for item in lists[title]:
            table.add_row(item["letter_id"], item["stage"], item["due"], item["working_day_rule"])
        console.print(table)


@bank_app.command("log")
def decision_log(
    context: typer.Context,
    letter_id: Annotated[str | None, typer.Argument(help="Only this letter.")] = None,
    limit: int = 100,
) -> None:
    """The decision log: who decided what, and when."""
    _print_decisions(_client(context).call("GET", "/v1/bank/decisions", letter_id=letter_id, limit=limit))


# --- mandates -------------------------------------------------------------------------------------


@mandates_app.command("list")
def list_mandates(context: typer.Context) -> None:
    """The mandates this bank registered."""
    table = Table("auditee reference", "signer", "valid until", "revoked")
    for m in _client(context).call("GET", "/v1/mandates"):
        table.add_row(m["auditee_ref"], m["signer"], str(m["valid_until"]), "yes" if m["revoked"] else "")
    console.print(table)


@mandates_app.command("import")
def import_mandates(
    context: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="CSV or Excel: registration_code, signer, valid_until.")
    ],
) -> None:
    """Register the mandates in the files on chain: all of them, or none if any row is wrong."""
    try:
        records = read_mandates(files)
    except ImportRejected as exc:
        raise _fail(str(exc)) from exc
    if not records:
        raise _fail("the files hold no mandates")
    body = {"mandates": [r.model_dump(mode="json") for r in records]}
    registered = _client(context).call("POST", "/v1/bank/mandates/import", body)
    console.print(f"{len(registered)} mandate(s) registered; they are being recorded on chain")


@mandates_app.command("revoke")
def revoke_mandate(
    context: typer.Context,
    registration_code: Annotated[str, typer.Argument(help="The customer's registration code.")],
    signer: Annotated[str, typer.Argument(help="The signer's account address.")],
) -> None:
    """Revoke a signer's mandate for a customer."""
    _client(context).call("DELETE", f"/v1/mandates/{registration_code}/{signer}")
    console.print(f"mandate of {signer} revoked; the revocation is being recorded on chain")


# --- the core bank's data -------------------------------------------------------------------------

CoreUrl = Annotated[
    str | None,
    typer.Option(
        envvar="CONFIRMNET_CORE_BANKING_URL", help="SQLAlchemy URL of the core bank.", show_default=False
    ),
]
Config = Annotated[Path | None, typer.Option(help="A gateway.toml whose core_banking_url to use.")]


def _core(core_url: str | None, config: Path | None) -> CoreBank:
    if core_url is None and config is not None:
        try:
            core_url = GatewaySettings.from_file(config).core_banking_url
        except ConfigError as exc:
            raise _fail(str(exc)) from exc
    if core_url is None:
        raise _fail("name the core bank: --core-url, CONFIRMNET_CORE_BANKING_URL or --config")
    try:
        return CoreBank(core_url)
    except CoreBankingError as exc:
        raise _fail(str(exc)) from exc


@bank_app.command("import")
def import_core_data(
    files: Annotated[
        list[Path], typer.Argument(help="CSV files (one table each, named by the file) or .xlsx.")
    ],
    core_url: CoreUrl = None,
    config: Config = None,
    table: Annotated[str | None, typer.Option(help="The table, when the file name does not say it.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check every row, import nothing.")] = False,
) -> None:
    """Import core-banking data: every row checked first, then all or nothing."""
    core = _core(core_url, config)
    try:
        counts = import_files(core, files, table=table, dry_run=dry_run)
    except ImportRejected as exc:
        raise _fail(str(exc)) from exc
    except CoreBankingError as exc:
        raise _fail(str(exc)) from exc
    finally:
        core.dispose()
    verb = "checked" if dry_run else "imported"
    console.print(f"{verb}: " + ", ".join(f"{n} {name}" for name, n in counts.items()))


@bank_app.command("generate")
def generate(
    core_url: CoreUrl = None,
    config: Config = None,
    customers: Annotated[int, typer.Option(min=1, help="How many customers.")] = 50,
    seed: Annotated[int, typer.Option(help="The same seed gives the same data.")] = 1,
    reference_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default last year end.")] = None,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="Also write the data as CSV files here.")
    ] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Also write the data as an Excel workbook.")] = None,
) -> None:
    """Generate realistic demo customers and load them into the core bank (or write them out)."""
    dataset = generate_dataset(
        customers=customers,
        seed=seed,
        reference_date=date.fromisoformat(reference_date) if reference_date else None,
    )
    if csv_dir is not None:
        export_csv(dataset, csv_dir)
    if xlsx is not None:
        export_xlsx(dataset, xlsx)
    if core_url is None and config is None and (csv_dir or xlsx):
        console.print("written; nothing loaded (no core bank named)")
        return
    core = _core(core_url, config)
    try:
        counts = core.load(dataset)
    except CoreBankingError as exc:
        raise _fail(str(exc)) from exc
    finally:
        core.dispose()
    console.print("loaded: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
