"""``confirmnet auditor …``: the audit firm's staff at their gateway."""

from __future__ import annotations

import csv
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer
from pydantic import TypeAdapter
from rich.table import Table

from auditor_client.cli._common import (
    EXIT_FAILED,
    EXIT_INPUT,
    ApiKeyOption,
    GatewayOption,
    LetterIdArgument,
    check_letter_ids,
    client,
    console,
    describe,
    fail,
    gateway_errors,
    parse_day,
    print_table,
    progress,
    when,
    write_json,
)
from auditor_client.evidence import export_package
from auditor_client.members import registry_lookup
from auditor_client.sdk import (
    Call,
    Client,
    ConfirmnetError,
    Identity,
    LetterDraft,
    LetterFilter,
    LetterSummary,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from node_gateway.chain.errors import ChainError
from node_gateway.protocol import CHINA_TIME, ITEM_TITLES, InvalidDocument, new_letter_id, parse_letter
from node_gateway.protocol.bank_rules import FORMAT_NAMES, format_issues
from node_gateway.protocol.documents import CONCLUSION_TITLES, AuditFirm, LetterFormat, Officer, Person
from node_gateway.protocol.wire import FirmWordsText, MemberOut
from node_gateway.protocol.workbook import (
    BulkPlan,
    MemberInfo,
    MemberLookup,
    SheetError,
    plan_file,
    write_template,
)

auditor_app = typer.Typer(
    help="The audit firm: send letters (one by one or from CSV/Excel), follow them, fetch replies, "
    "close, and export evidence.",
    no_args_is_help=True,
)

UPLOAD_BATCH = 500  # letters per request: each request is all-or-none at the gateway

LetterIds = Annotated[
    list[str], typer.Argument(help="Letter ids (0x…).", show_default=False, callback=check_letter_ids)
]
RpcOption = Annotated[
    str | None,
    typer.Option(
        "--rpc",
        envvar="CONFIRMNET_RPC_URL",
        help="A JSON-RPC node of the network: the banks the letters address are looked up in its "
        "member registry (by default they are asked of the gateway, if it lists members to its users).",
    ),
]
_MEMBERS = TypeAdapter(list[MemberOut])


def _firm(gateway: str, api_key: str) -> tuple[AuditFirm, Identity]:
    with gateway_errors(), client(gateway, api_key) as api:
        identity = api.identity()
    if identity.role != "audit_firm" or identity.member_id is None:
        fail(f"{gateway} is the gateway of a {identity.role}, not of an admitted audit firm")
    return AuditFirm(member_no=identity.member_id, name=identity.display_name), identity


# --- creating letters ----------------------------------------------------------------------------


@auditor_app.command("template")
def template(output: Annotated[Path, typer.Argument(help="The CSV file to write.")]) -> None:
    """Write a CSV with every column and example rows (docs/AUDITOR_CLIENT.md explains the layout)."""
    if output.exists():
        fail(f"{output} exists", EXIT_INPUT)
    write_template(output)
    console.print(f"template written to {output}")


def _show_plan_issues(plan: BulkPlan) -> None:
    issues = plan.issues_by_row()
    table = Table(title=f"{plan.source}: {len(plan.issues)} problem(s); nothing was sent", show_lines=False)
    table.add_column("row", justify="right")
    table.add_column("letter")
    table.add_column("item")
    table.add_column("verdict")
    for number in sorted(issues.keys() - {row.number for row in plan.rows}):
        table.add_row(
            str(number), "", "", "[red]" + "; ".join(f"{i.column or ''}: {i.message}" for i in issues[number])
        )
    for row in plan.rows:
        found = issues.get(row.number, [])
        verdict = (
            "[green]ok"
            if not found
            else "[red]" + "; ".join(f"{i.column or '—'}: {i.message}" for i in found)
        )
        table.add_row(str(row.number), row.letter_key[:40], row.cells.get("item", ""), verdict)
    print_table(table)


def _write_report(path: Path, plan: BulkPlan) -> None:
    issues = plan.issues_by_row()
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "letter_key", "item", "verdict", "column", "message"])
        for number in sorted(issues.keys() - {row.number for row in plan.rows}):
            for issue in issues[number]:
                writer.writerow([number, "", "", "error", issue.column or "", issue.message])
        for row in plan.rows:
            found = issues.get(row.number, [])
            if not found:
                writer.writerow([row.number, row.letter_key, row.cells.get("item", ""), "ok", "", ""])
            for issue in found:
                writer.writerow(
                    [
                        row.number,
                        row.letter_key,
                        row.cells.get("item", ""),
                        "error",
                        issue.column or "",
                        issue.message,
                    ]
                )


def _member_lookup(api: Client, identity: Identity, rpc: str | None) -> MemberLookup | None:
    """How to look up the banks the letters address: in the member registry through ``rpc``, or in
    the gateway's list of members; None if this key may not read that list (only auditors may)."""
    if rpc is None:
        try:
            listed = api.send(Call("GET", "/v1/members", _MEMBERS.validate_python, idempotent=True))
        except PermissionDenied:
            return None
        members = {m.member_id: MemberInfo(m.role, m.status, m.display_name) for m in listed}
        return members.get
    from node_gateway.chain.network import connect

    try:
        lookup = registry_lookup(connect(rpc), identity.member_registry)
    except ChainError as exc:
        fail(f"cannot read the member registry through {rpc}: {exc}")

    def checked(number: int) -> MemberInfo | None:
        try:
            return lookup(number)
        except ChainError as exc:
            fail(f"cannot read member {number} through {rpc}: {exc}")

    return checked


@auditor_app.command("upload")
def upload(
    sheet_file: Annotated[
        Path, typer.Argument(help="A .csv or .xlsx file, one row per account or item entry.")
    ],
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    sheet: Annotated[str | None, typer.Option(help="The Excel sheet (default: the first).")] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Check every row, and the banks it addresses, and stop; send nothing.")
    ] = False,
    report: Annotated[Path | None, typer.Option(help="Also write the row-by-row report here (CSV).")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write the created letters (key, id, hash) here (CSV).")
    ] = None,
    rpc: RpcOption = None,
) -> None:
    """Create letters in bulk: every row is checked first, and that each letter's bank is an active
    bank of the network; any problem and nothing is sent."""
    firm, identity = _firm(gateway, api_key)
    with gateway_errors(), client(gateway, api_key) as api:
        members = _member_lookup(api, identity, rpc)
    if members is None and dry_run:
        fail(
            "the dry run cannot check that the letters' banks are active banks: this API key may not "
            "list the network's members; use an auditor's key, or give --rpc (or CONFIRMNET_RPC_URL)"
        )
    try:
        plan = plan_file(sheet_file, audit_firm=firm, sheet=sheet, members=members)
    except (SheetError, OSError) as exc:
        fail(str(exc), EXIT_INPUT)
    for notice in plan.notices:
        console.print(f"[yellow]{notice}")
    if plan.ok:
        with gateway_errors(), client(gateway, api_key) as api:
            # Here, not with the batch that holds it: nothing is sent after earlier batches went out.
            plan.issues += format_issues(plan.letters, _accepted_formats(api))
    if report is not None:
        _write_report(report, plan)
    if not plan.ok:
        _show_plan_issues(plan)
        raise typer.Exit(EXIT_INPUT)
    console.print(
        f"{len(plan.rows)} rows checked: {len(plan.letters)} letters from {firm.name} (member {firm.member_no})"
    )
    if members is None:
        console.print("the banks were not checked here (give --rpc); the gateway checks them as it creates")
    if dry_run:
        console.print("dry run: nothing sent")
        return
    created: list[tuple[str, LetterSummary]] = []
    with gateway_errors(), client(gateway, api_key) as api, progress() as bar:
        task = bar.add_task("sending letters", total=len(plan.letters))
        for start in range(0, len(plan.letters), UPLOAD_BATCH):
            batch = plan.letters[start : start + UPLOAD_BATCH]
            try:
                summaries = api.create_letters([planned.draft() for planned in batch])
            except Exception:
                if created:
                    console.print(
                        f"[red]{len(created)} letters were created before this failure; see --output"
                    )
                    _write_created(output, created)
                raise
            created += [(planned.key, summary) for planned, summary in zip(batch, summaries, strict=True)]
            bar.advance(task, len(batch))
    _write_created(output, created)
    table = Table(title=f"{len(created)} letters created")
    for column in ("letter key", "函证编号", "letter id", "status", "due"):
        table.add_column(column)
    for key, summary in created[:50]:
        table.add_row(
            key[:50], summary.confirmation_no or "—", summary.letter_id, summary.status, when(summary.due_at)
        )
    print_table(table)
    if len(created) > 50:
        console.print(f"… and {len(created) - 50} more" + (f"; all in {output}" if output else ""))


def _accepted_formats(api: Client) -> Callable[[int], list[LetterFormat] | None]:
    """The formats each bank's published rules accept, asked of the gateway once a bank; None for
    a bank whose rules it cannot show (none published, none to check now, or not to this key, as a
    dry run's with --rpc): the gateway decides as it creates."""

    @functools.cache
    def accepted(bank: int) -> list[LetterFormat] | None:
        try:
            return api.bank_rules(bank).formats
        except (NotFound, Unavailable, PermissionDenied):
            return None

    return accepted


def _write_created(path: Path | None, created: list[tuple[str, LetterSummary]]) -> None:
    if path is None:
        return
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["letter_key", "confirmation_no", "letter_id", "letter_hash", "bank", "due_at", "status"]
        )
        for key, s in created:
            writer.writerow(
                [key, s.confirmation_no or "", s.letter_id, s.letter_hash, s.bank, s.due_at, s.status]
            )


@auditor_app.command("create")
def create(
    letters: Annotated[
        list[Path], typer.Argument(help="Letter documents (JSON); a missing letter_id is drawn.")
    ],
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    due: Annotated[str | None, typer.Option(help="Reply due date (YYYY-MM-DD); default two weeks.")] = None,
) -> None:
    """Create letters one by one from their JSON documents (all or none)."""
    firm, _ = _firm(gateway, api_key)
    drafts = []
    for path in letters:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            document.setdefault("letter_id", new_letter_id())
            document.setdefault("audit_firm", firm.model_dump())
            letter = parse_letter(document)
        except (OSError, ValueError) as exc:
            fail(f"{path}: {exc}", EXIT_INPUT)
        except InvalidDocument as exc:
            where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors[:10])
            fail(f"{path} is not a valid letter: {where}", EXIT_INPUT)
        drafts.append(LetterDraft(letter=letter, due_at=parse_day(due, end=True)))
    with gateway_errors(), client(gateway, api_key) as api:
        created = api.create_letters(drafts)
    for path, summary in zip(letters, created, strict=True):
        console.print(
            f"{path}: letter {summary.confirmation_no} {summary.letter_id} "
            f"({summary.status}, due {when(summary.due_at)})"
        )


# --- following letters -----------------------------------------------------------------------------


@auditor_app.command("status")
def status(
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    state: Annotated[
        list[str] | None, typer.Option("--status", help="Only letters in this status (repeatable).")
    ] = None,
    overdue: Annotated[
        bool | None, typer.Option("--overdue/--not-overdue", help="Only overdue letters, or none.")
    ] = None,
    bank: Annotated[int | None, typer.Option(help="Only letters to this bank (member number).")] = None,
    due_before: Annotated[str | None, typer.Option(help="Due before this date (YYYY-MM-DD).")] = None,
    due_after: Annotated[str | None, typer.Option(help="Due on or after this date (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """List this firm's letters with their status, overdue ones in red."""
    where = LetterFilter(
        status=state or (),
        overdue=overdue,
        due_before=parse_day(due_before),
        due_after=parse_day(due_after),
        counterparty=bank,
    )
    with gateway_errors(), client(gateway, api_key) as api:
        page = api.list_letters(where, limit=min(limit, 1000))
        items = page.items[:limit]
    if as_json:
        for item in items:
            console.print_json(item.model_dump_json())
        return
    table = Table(title=f"{len(items)} of {page.total} letters")
    for column in ("函证编号", "letter id", "bank", "status", "due", "reply", "created"):
        table.add_column(column)
    for item in items:
        state_text = f"[red]{item.status} OVERDUE" if item.overdue else item.status
        reply = "verified" if item.reply_verified else ("received" if item.has_reply else "—")
        table.add_row(
            item.confirmation_no or "—",
            item.letter_id,
            str(item.bank),
            state_text,
            when(item.due_at),
            reply,
            f"{item.created_at:%Y-%m-%d %H:%M}",
        )
    print_table(table)


@auditor_app.command("show")
def show(letter_id: LetterIdArgument, gateway: GatewayOption, api_key: ApiKeyOption) -> None:
    """One letter: its parties, status and every step on chain."""
    with gateway_errors(), client(gateway, api_key) as api:
        detail = api.get_letter(letter_id)
    console.print(
        f"letter {detail.confirmation_no or '—'} {detail.letter_id}: [bold]{detail.status}[/bold]"
        + (" [red]OVERDUE" if detail.overdue else "")
    )
    if detail.letter is not None:
        console.print(
            f"{detail.letter.auditee.name} ({detail.letter.auditee.registration_code}) at "
            f"{detail.letter.bank.name}, reference date {detail.letter.reference_date}, format {detail.letter.format.value}"
        )
    console.print(
        f"due {when(detail.due_at)}; letter hash {detail.letter_hash}; reply hash {detail.reply_hash or '—'}"
    )
    table = Table(title="on chain")
    for column in ("step", "block", "time", "transaction"):
        table.add_column(column)
    for step in detail.history:
        table.add_row(step.name, str(step.block_number), when(step.block_timestamp), step.transaction_hash)
    print_table(table)
    for pending in detail.pending_steps:
        if pending.state != "done":
            console.print(
                f"pending: {pending.step} ({pending.state}, {pending.attempts} attempts) {pending.error_message or ''}"
            )


def _each(letter_ids: list[str], gateway: str, api_key: str, action: str, words: str | None = None) -> None:
    failures = 0
    with client(gateway, api_key) as api:
        act = getattr(api, action)
        for letter_id in letter_ids:
            try:
                act(letter_id) if words is None else act(letter_id, words)
                console.print(f"{letter_id}: {action.replace('_', '-')} queued")
            except Exception as exc:  # one refused letter does not stop the others
                failures += 1
                console.print(f"[red]{letter_id}: {exc}")
    if failures:
        raise typer.Exit(EXIT_FAILED)


def _firm_words(value: str | None) -> str | None:
    """A follow-up's message or a withdrawal's reason, checked as the gateway will (1-500
    characters once trimmed) before anything is sent."""
    if value is None:
        return None
    try:
        return _FIRM_WORDS.validate_python(value)
    except ValueError as exc:
        raise typer.BadParameter("give 1 to 500 characters") from exc


_FIRM_WORDS: TypeAdapter[str] = TypeAdapter(FirmWordsText)
MessageOption = Annotated[
    str | None,
    typer.Option(
        "--message",
        callback=_firm_words,
        help="A message to the bank with the follow-up (1-500 characters): sent encrypted once the "
        "follow-up is on chain, if the bank holds the letter; never on chain.",
    ),
]
ReasonTextOption = Annotated[
    str | None,
    typer.Option(
        "--reason-text",
        callback=_firm_words,
        help="The reason for withdrawing, in words (1-500 characters): sent encrypted to the bank once "
        "the withdrawal is on chain, if the bank holds the letter; never on chain.",
    ),
]


@auditor_app.command("follow-up")
def follow_up(
    letter_ids: LetterIds, gateway: GatewayOption, api_key: ApiKeyOption, message: MessageOption = None
) -> None:
    """Record a follow-up (催函) of letters awaiting the bank, with a message to it if given."""
    _each(letter_ids, gateway, api_key, "follow_up", message)


@auditor_app.command("withdraw")
def withdraw(
    letter_ids: LetterIds, gateway: GatewayOption, api_key: ApiKeyOption, reason_text: ReasonTextOption = None
) -> None:
    """Withdraw letters (撤回) before their reply, giving the bank the reason if given."""
    _each(letter_ids, gateway, api_key, "withdraw", reason_text)


@auditor_app.command("close")
def close(
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    letter_ids: Annotated[
        list[str] | None, typer.Argument(help="Letter ids; or --all-replied.", callback=check_letter_ids)
    ] = None,
    all_replied: Annotated[bool, typer.Option(help="Close every letter with a verified reply.")] = False,
) -> None:
    """Close letters whose reply was verified against the chain."""
    ids = list(letter_ids or [])
    if all_replied:
        with gateway_errors(), client(gateway, api_key) as api:
            ids += [
                x.letter_id for x in api.iter_letters(LetterFilter(status=["REPLIED"])) if x.reply_verified
            ]
    if not ids:
        fail("name letters or pass --all-replied", EXIT_INPUT)
    _each(ids, gateway, api_key, "close")


@auditor_app.command("reply")
def reply(
    letter_id: LetterIdArgument,
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the reply and its salt here (JSON).")
    ] = None,
) -> None:
    """Fetch a bank's reply, verified against its hash on chain, item by item."""
    with gateway_errors(), client(gateway, api_key) as api:
        answer = api.get_reply(letter_id)
    if output is not None:
        write_json(output, answer.model_dump(mode="json", by_alias=True))
    made = answer.reply
    if made.no_relationship:  # a red flag: audit evidence, not a rejection
        console.print(
            "[bold red]⚠ the bank holds no relationship with the auditee (本行与被审计单位无业务关系)"
        )
    console.print(f"函证编号 {made.confirmation_no}; 结论 {CONCLUSION_TITLES[made.conclusion]}")
    table = Table(
        title=f"reply to {answer.letter_id} ({'verified on chain' if answer.verified else 'NOT verified'})"
    )
    for column in ("item", "status", "differences"):
        table.add_column(column)
    for key, item in answer.reply.items.by_key():
        differences = "; ".join(
            f"{d.reason.value} {d.reference or ''} {d.currency or ''} {d.field or ''} "
            f"{d.auditor_value or ''}→{d.bank_value or ''} {d.note or ''}".strip()
            for d in item.differences
        )
        colour = (
            "red"
            if item.status.value == "exception"
            else "green"
            if item.status.value == "confirmed"
            else "dim"
        )
        table.add_row(key.value, f"[{colour}]{item.status.value}", differences)
    console.print(table)
    console.print(
        f"prepared by {_person(made.preparer)}, reviewed by {_person(made.reviewer)}, dated {made.replied_on}"
    )
    if made.automated_control is not None:
        control = made.automated_control
        console.print(
            f"approved by the bank's automated control {control.name!r}; accountable: {_person(control.accountable)}"
        )


def _person(person: Officer | Person) -> str:
    return f"{person.name} ({person.title})" if person.title else person.name


@auditor_app.command("notice")
def notice(letter_id: LetterIdArgument, gateway: GatewayOption, api_key: ApiKeyOption) -> None:
    """The bank's non-compliance notice about a rejected letter: the 函证编号 and the reason."""
    with gateway_errors(), client(gateway, api_key) as api:
        got = api.get_notice(letter_id)
    console.print(f"[bold red]notice on {got.confirmation_no} ({got.letter_id}), {got.issued_on}")
    console.print(f"reason {int(got.reason)}: {got.reason_words} — {got.detail}")
    console.print(
        f"by {_person(got.decided_by)}; correct it with a new letter whose 'corrects' is {got.letter_id}"
    )


# --- the auditee's authorisation ---------------------------------------------------------------------


@auditor_app.command("authorisation-request")
def authorisation_request(
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The bundle file to hand to the auditee's signer.")
    ],
    letter_ids: Annotated[
        list[str] | None, typer.Argument(help="Letter ids; or --all-requested.", callback=check_letter_ids)
    ] = None,
    all_requested: Annotated[bool, typer.Option(help="Every letter awaiting authorisation.")] = False,
    valid_days: Annotated[
        int | None, typer.Option(help="How long the authorisation holds (default 180 days).")
    ] = None,
) -> None:
    """Prepare what the auditee's signer signs: one bundle, one signature over all its letters."""
    ids = list(letter_ids or [])
    with gateway_errors(), client(gateway, api_key) as api:
        if all_requested:
            ids += [x.letter_id for x in api.iter_letters(LetterFilter(status=["REQUESTED"]))]
        if not ids:
            fail("name letters or pass --all-requested", EXIT_INPUT)
        until = int(time.time()) + valid_days * 86400 if valid_days else None
        bundle = api.authorisation_request(ids, valid_until=until)
    write_json(output, bundle.model_dump(mode="json"))
    console.print(
        f"bundle of {len(bundle.letters)} letters written to {output}; the signer runs `confirmnet authorise sign`"
    )


# --- the firm's review (审核, 召回) and the banks' rules ------------------------------------------------


def _summaries_table(title: str, summaries: list[LetterSummary]) -> Table:
    table = Table(title=title)
    for column in ("函证编号", "letter id", "bank", "status", "prepared by", "reviewed by"):
        table.add_column(column)
    for item in summaries:
        table.add_row(
            item.confirmation_no or "—",
            item.letter_id,
            str(item.bank),
            item.status,
            item.prepared_by or "—",
            item.reviewed_by or "—",
        )
    return table


@auditor_app.command("approve")
def approve(letter_ids: LetterIds, gateway: GatewayOption, api_key: ApiKeyOption) -> None:
    """Approve prepared letters (审核通过), all or none: a manager who did not prepare them. They
    then go out to the auditee for authorisation as any letter."""
    with gateway_errors(), client(gateway, api_key) as api:
        approved = api.approve(letter_ids)
    print_table(_summaries_table(f"{len(approved)} letters approved", approved))


@auditor_app.command("recall")
def recall(letter_ids: LetterIds, gateway: GatewayOption, api_key: ApiKeyOption) -> None:
    """Recall prepared letters (召回) before they go out: their preparer or a manager. A recalled
    letter never goes out; one refused letter does not stop the others."""
    recalled: list[LetterSummary] = []
    with client(gateway, api_key) as api:
        for letter_id in letter_ids:
            try:
                recalled.append(api.recall(letter_id))
            except ConfirmnetError as exc:
                console.print(f"[red]{letter_id}: {describe(exc)}")
    if recalled:
        print_table(_summaries_table(f"{len(recalled)} letters recalled", recalled))
    if len(recalled) < len(letter_ids):
        raise typer.Exit(EXIT_FAILED)


@auditor_app.command("bank-rules")
def bank_rules(
    bank: Annotated[int, typer.Argument(help="The bank's member number.", min=1)],
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rules as JSON.")] = False,
) -> None:
    """A bank's published business rules (业务规则): the items it confirms, the letter formats it
    accepts, its fee and whom to contact, as the firm's gateway checked them against the bank's
    signature."""
    with gateway_errors(), client(gateway, api_key) as api:
        rules = api.bank_rules(bank)
    if as_json:
        console.print_json(rules.model_dump_json(by_alias=True))
        return
    table = Table(title=f"bank {rules.bank_member_no}: business rules", show_header=False)
    table.add_row("published", f"{rules.published_at.astimezone(CHINA_TIME):%Y-%m-%d %H:%M} +08:00")
    table.add_row("formats accepted", "、".join(f"{FORMAT_NAMES[f]} ({f.value})" for f in rules.formats))
    table.add_row("items confirmed", "、".join(ITEM_TITLES[key] for key in rules.items))
    fee = rules.fee
    table.add_row(
        "fee (函证费)",
        (f"{fee.per_letter} CNY a letter" if rules.charges else "none")
        + (f"; {fee.note}" if fee.note else ""),
    )
    table.add_row("department", rules.department)
    contact = rules.contact
    table.add_row("contact", " ".join(x for x in (contact.name, contact.phone, contact.email) if x))
    if rules.notes:
        table.add_row("notes", rules.notes)
    print_table(table)


# --- evidence ------------------------------------------------------------------------------------------


def _fetch_pdf(api: Client) -> Callable[[str, Literal["letter", "reply"]], bytes]:
    return lambda letter_id, kind: api.letter_pdf(letter_id) if kind == "letter" else api.reply_pdf(letter_id)


@auditor_app.command("pdf")
def pdf_documents(
    letter_ids: LetterIds,
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="The folder to write <letter id>-letter.pdf and -reply.pdf into."
        ),
    ] = Path("."),
) -> None:
    """Download letters (询证函) and their replies (回函) as the gateway prints them: PDFs with
    embedded fonts and the QR code of their chain record."""
    output.mkdir(parents=True, exist_ok=True)
    failures = 0
    with gateway_errors(), client(gateway, api_key) as api:
        for letter_id in letter_ids:
            for kind in ("letter", "reply"):
                path = output / f"{letter_id}-{kind}.pdf"
                try:
                    path.write_bytes(_fetch_pdf(api)(letter_id, kind))
                except NotFound as exc:
                    if kind == "letter":
                        failures += 1
                    console.print(f"[yellow]{letter_id}: no {kind} ({exc.message})")
                    continue
                console.print(f"{path}")
    if failures:
        raise typer.Exit(EXIT_FAILED)


@auditor_app.command("evidence")
def evidence(
    gateway: GatewayOption,
    api_key: ApiKeyOption,
    output: Annotated[Path, typer.Option("-o", "--output", help="The evidence package to write (JSON).")],
    letter_ids: Annotated[
        list[str] | None, typer.Argument(help="Letter ids; or --all / --status.", callback=check_letter_ids)
    ] = None,
    all_letters: Annotated[bool, typer.Option("--all", help="Every letter of this firm.")] = False,
    state: Annotated[
        list[str] | None, typer.Option("--status", help="Every letter in this status (repeatable).")
    ] = None,
    engagement: Annotated[
        str | None, typer.Option(help="The engagement's name, printed on the summary.")
    ] = None,
    split: Annotated[
        Path | None, typer.Option(help="Also write one package per letter into this folder.")
    ] = None,
    pdf: Annotated[Path | None, typer.Option(help="Also write a PDF summary for the working papers.")] = None,
    printouts: Annotated[
        bool,
        typer.Option(
            "--printouts/--no-printouts",
            help="Include the letter and the reply as the gateway prints them (PDF) in the package.",
        ),
    ] = True,
) -> None:
    """Export the evidence of letters: documents, salts, authorisation, chain references and the
    letters' and replies' PDFs; a replied letter's auditee salt (the bank's, with its reply)
    opens its auditee reference."""
    with gateway_errors(), client(gateway, api_key) as api:
        ids = list(letter_ids or [])
        if all_letters or state:
            ids += [
                x.letter_id
                for x in api.iter_letters(LetterFilter(status=state or ()))
                if x.status != "PENDING"
            ]
        if not ids:
            fail("name letters, or pass --all or --status", EXIT_INPUT)
        identity = api.identity()
        with progress() as bar:
            task = bar.add_task("fetching evidence", total=len(ids))
            package = export_package(
                api.get_evidence,
                list(dict.fromkeys(ids)),
                identity=identity,
                gateway=gateway,
                engagement=engagement,
                progress=lambda n: bar.advance(task, n),
                fetch_pdf=_fetch_pdf(api) if printouts else None,
            )
    package.save(output)
    console.print(f"evidence of {len(package.letters)} letters written to {output}")
    if split is not None:
        split.mkdir(parents=True, exist_ok=True)
        for single in package.split():
            single.save(split / f"{single.letters[0].letter_id}.json")
        console.print(f"one package per letter in {split}")
    if pdf is not None:
        from auditor_client.pdf import write_summary

        write_summary(package, output, pdf)
        console.print(f"summary written to {pdf}")
