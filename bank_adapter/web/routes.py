"""The bank's pages: the inbox by deadline, a letter's case with its actions and PDFs, the mandates,
the core-data import.

Every read and every action is the bank's API's own (``bank_adapter.api``: its route functions,
called with the signed-in person's user), so the pages take no second path to the data and the
same checks apply: the roles (here ``require_page`` with the API's roles), maker–checker
(``approval``), the letter's state (``workflow``). What the pages add is presentation: working days
left on the official calendar, the draft beside the letter with each difference in words, who
may approve.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank_adapter import approval
from bank_adapter.api import cases, inbox, mandates
from bank_adapter.api.cases import CaseDetail, CaseSummary, Stage
from bank_adapter.approval import DraftStatus
from bank_adapter.core_rows import ROW_TYPES
from bank_adapter.core_sql import TABLES, CoreBank
from bank_adapter.deadlines import Urgency, official, today, working_days_between
from bank_adapter.errors import CoreUnavailable
from bank_adapter.generator import generate as generate_dataset
from bank_adapter.importer import ImportRejected, export_xlsx, import_files
from bank_adapter.workflow import core_for
from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.models import MandateIn
from node_gateway.api.routes import letters as letters_api
from node_gateway.api.types import LetterId, RegistrationCode, Signer
from node_gateway.errors import InvalidRequest
from node_gateway.node import Node
from node_gateway.plugins import NavLink
from node_gateway.protocol.documents import (
    CHINA_TIME,
    Difference,
    DifferenceReason,
    Entry,
    ItemKey,
    ItemStatus,
    RejectionReason,
)
from node_gateway.services.facade import Letters, Mandate
from node_gateway.services.notices import firm_words
from node_gateway.web.firm import beijing
from node_gateway.web.pages import (
    PREFIX,
    MemberNames,
    PageRoute,
    flash,
    language,
    no_store,
    redirect,
    render,
    require_page,
    site,
)
from node_gateway.web.replies import conclusion_words, difference_lines
from node_gateway.web.sessions import Person
from node_gateway.web.tables import XLSX, Column, TableView, export

BANK = f"{PREFIX}/bank"
router = APIRouter(prefix=BANK, route_class=PageRoute, include_in_schema=False)

AnyBankPerson = Annotated[Person, Depends(require_page("officer", "preparer", "reviewer"))]
OfficerPerson = Annotated[Person, Depends(require_page("officer"))]
PreparerPerson = Annotated[Person, Depends(require_page("preparer"))]
ReviewerPerson = Annotated[Person, Depends(require_page("reviewer"))]
ExportAs = Annotated[str, Query(alias="export")]
POLL_S = 5

NAV = (
    NavLink(f"{BANK}/inbox", "nav.bank_inbox", frozenset({"officer", "preparer", "reviewer"})),
    NavLink(f"{BANK}/mandates", "nav.bank_mandates", frozenset({"officer"})),
    NavLink(f"{BANK}/core-import", "nav.bank_core_import", frozenset({"officer"})),
)

INBOX_COLUMNS = (
    Column("due", "col.due"),
    Column("days_left", "col.left", numeric=True),
    Column("urgency", "col.urgency", choices=tuple(Urgency), choice_label="urgency."),
    Column("letter_id", "col.letter"),
    Column("auditee", "col.auditee"),
    Column("firm", "col.firm"),
    Column("stage", "col.stage", choices=tuple(Stage), choice_label="stage."),
    Column("received_on", "col.received"),
    Column("draft", "col.draft"),
)

MANDATE_COLUMNS = (
    Column("auditee_ref", "mandates.ref"),
    Column("signer", "mandates.signer"),
    Column("valid_until", "mandates.valid_until"),
    Column("state", "mandates.state", choices=("active", "expired", "revoked"), choice_label="mandate."),
    Column("registered", "mandates.registered"),
)


def _t(request: Request) -> Callable[..., str]:
    return site(request).catalogue.translator(language(request))


def _beijing(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def working_days_left(due: date | None, on: date) -> int | None:
    """Working days from ``on`` to ``due`` (0: due today); negative: how many have passed since."""
    if due is None:
        return None
    return working_days_between(on, due) if on <= due else -working_days_between(due, on)


def left_words(t: Callable[..., str], days: int | None, urgency: Urgency | None) -> str:
    if days is None:
        return t("left.none")
    if urgency is Urgency.OVERDUE:
        return t("left.overdue", n=-days) if days < 0 else t("left.overdue_now")
    return t("left.today") if days == 0 else t("left.days", n=days)


# --- the inbox -----------------------------------------------------------------------------------


@dataclass
class _Names:
    """The firms' names (from the chain's registry) and the auditees' (from the letters), read once
    per page."""

    node: Node
    session: Session
    firm: MemberNames = field(init=False)

    def __post_init__(self) -> None:
        self.firm = MemberNames(self.node)

    def auditee(self, letter_id: str) -> str:
        return Letters(self.node).document(self.session, letter_id).auditee.name


def _draft_words(t: Callable[..., str], draft: cases.DraftSummary | None) -> str:
    if draft is None:
        return t("draft.none")
    key = "draft.summary" if draft.exceptions else "draft.clean"
    return t(key, version=draft.version, exceptions=draft.exceptions, preparer=draft.preparer.name)


def _inbox_row(case: CaseSummary, on: date, names: _Names, t: Callable[..., str]) -> dict[str, Any]:
    days = working_days_left(case.due, on)
    draft = case.draft
    return {
        "letter_id": case.letter_id,
        "auditee": names.auditee(case.letter_id),
        "firm": names.firm(case.firm),
        "stage": case.stage.value,
        "received_on": case.received_on.isoformat(),
        "due": case.due.isoformat() if case.due else None,
        "days_left": days,
        "left_words": left_words(t, days, case.urgency),
        "urgency": case.urgency.value if case.urgency else None,
        "draft": _draft_words(t, draft),
        "exceptions": draft.exceptions if draft else 0,
    }


@router.get("/inbox")
def inbox_page(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: AnyBankPerson,
    export_as: ExportAs = "",
    partial: bool = False,
    everything: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    on, t = today(), _t(request)
    names = _Names(node, session)
    found = cases.list_cases(node, session, person.user, stage=None, open_only=not everything, limit=10_000)
    rows = [_inbox_row(case, on, names, t) for case in found]
    view = TableView.of(request, INBOX_COLUMNS, rows, default_sort="days_left")
    if everything:
        view.query["all"] = "1"
    if export_as:
        return export(view, export_as, "inbox", t)
    context = {"view": view, "poll_s": POLL_S, "official": official(on), "today": on, "all": everything}
    template = "bank/_inbox_table.html" if partial else "bank/inbox.html"
    return render(request, template, context, person=person)


# --- a letter's case -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One stated value of an entry, in words: its field's label and its value."""

    label: str
    value: str


@dataclass(frozen=True)
class DifferenceView:
    """A difference the draft states, in words: why, which field, the auditor's value against the
    bank's, and the preparer's note."""

    why: str
    field: str | None
    auditor: str | None
    bank: str | None
    note: str | None


@dataclass
class EntryView:
    """One line of an item: the auditor's entry (None for one only the bank lists), the bank's own
    entry when it adds one, and the differences the draft states about it."""

    auditor: list[Fact] | None
    bank: list[Fact] | None = None
    differences: list[DifferenceView] = field(default_factory=list)


@dataclass
class ItemView:
    key: str
    status: str | None  # the draft's answer (an ``ItemStatus``), None without a draft
    lines: list[EntryView]
    general: list[DifferenceView]  # differences about no particular entry of the letter
    blank: bool  # a format-two item the auditor left to the bank

    @property
    def exception(self) -> bool:
        return self.status == ItemStatus.EXCEPTION

    @property
    def shown(self) -> bool:
        """Whether it has anything to show beyond "not applicable"."""
        return bool(self.lines or self.general or self.blank or self.exception)


def _value(t: Callable[..., str], value: Any) -> str:
    """A value in words: coded values (account types, yes and no…) translated, amounts grouped."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, Decimal):
        return f"{value.normalize():f}"
    elif isinstance(value, Enum):
        value = value.value
    text = str(value)
    words = t(f"value.{text}")
    return text if words == f"value.{text}" else words


def facts(t: Callable[..., str], key: ItemKey, entry: Entry) -> list[Fact]:
    """The values an entry states, in the standard letter's order (a false flag left out)."""
    names = [name for name in type(entry).model_fields if name != "note"] + ["note"]  # the note last
    return [
        Fact(
            t(f"field.{key.value}.{name}"),
            f"{value:,}" if name in approval.AMOUNT_FIELDS else _value(t, value),
        )
        for name in names
        if (value := getattr(entry, name)) is not None and value is not False
    ]


def _difference(t: Callable[..., str], key: ItemKey, d: Difference) -> DifferenceView:
    shown = d.auditor_value is not None or d.bank_value is not None

    def side(value: str | None) -> str | None:
        if not shown:
            return None
        if value is None:
            return "—"
        if d.field in approval.AMOUNT_FIELDS:
            try:
                return f"{Decimal(value):,}"
            except ArithmeticError:  # "not recorded" and the like
                pass
        return _value(t, value)

    return DifferenceView(
        why=t(f"diff.{d.reason.value}"),
        field=t(f"field.{key.value}.{d.field}") if d.field else None,
        auditor=side(d.auditor_value),
        bank=side(d.bank_value),
        note=d.note,
    )


def item_views(t: Callable[..., str], detail: CaseDetail) -> list[ItemView]:
    """The letter's items beside the live draft's answers, in letter order."""
    answers = dict(detail.current_draft.items.by_key()) if detail.current_draft else {}
    views = []
    for key, item in detail.letter.items.by_key():
        answer = answers.get(key)
        lines = [EntryView(facts(t, key, entry)) for entry in item.entries]
        general: list[DifferenceView] = []
        if answer is not None:
            for difference in answer.differences:
                if difference.entry is not None and difference.entry < len(lines):
                    lines[difference.entry].differences.append(_difference(t, key, difference))
                elif difference.reason is not DifferenceReason.NOT_LISTED_BY_AUDITOR:
                    general.append(_difference(t, key, difference))
            lines += [EntryView(None, facts(t, key, entry)) for entry in answer.entries]
        status = None if answer is None else answer.status.value
        views.append(ItemView(key.value, status, lines, general, item.blank))
    return views


@dataclass(frozen=True)
class Review:
    """Who may act on the live draft, as the approval code decides it (``approval``)."""

    preparer: str
    system_drafted: bool  # the system drafted it and it needs a person: a preparer drafts it again
    is_preparer: bool  # the signed-in person prepared it: they may not approve it
    may_review: bool  # the signed-in person may approve or return it


def review_of(detail: CaseDetail, person: Person) -> Review | None:
    draft = detail.current_draft
    if draft is None:
        return None
    user = person.user
    system = approval.is_system(draft.preparer.officer_id)
    mine = draft.preparer.officer_id.casefold() == user.name.casefold()
    pending = draft.status is DraftStatus.PENDING_REVIEW
    return Review(
        preparer=draft.preparer.name,
        system_drafted=system,
        is_preparer=mine,
        may_review=pending and user.has(approval.REVIEWER_ROLE) and not mine and not system,
    )


_DRAFTABLE = {Stage.AWAITING_DRAFT, Stage.AWAITING_REVIEW, Stage.RETURNED}


def _case_context(
    t: Callable[..., str], node: Node, session: Session, detail: CaseDetail, person: Person
) -> dict[str, Any]:
    on, user = today(), person.user
    days = working_days_left(detail.due, on)
    review = review_of(detail, person)
    draft = detail.current_draft
    items = item_views(t, detail)
    return {
        "case": detail,
        "letter": detail.letter,
        "items": [item for item in items if item.shown],
        "inapplicable": [item.key for item in items if not item.shown],
        "left_words": left_words(t, days, detail.urgency),
        "firm": _Names(node, session).firm(detail.firm),
        "review": review,
        "draft": draft,
        "decisions": [(d, _beijing(d.at)) for d in detail.decisions],
        "checked_at": _beijing(detail.compliance.checked_at) if detail.compliance else "",
        "drafted_at": _beijing(draft.created_at) if draft else "",
        "can_check": user.has("officer") and detail.stage is Stage.AWAITING_CHECK,
        "can_draft": user.has(approval.PREPARER_ROLE) and detail.stage in _DRAFTABLE,
        "has_core": node.settings.core_banking_url is not None,
        "reasons": [int(reason) for reason in RejectionReason],
        "conclusion": conclusion_words(draft.items) if draft else None,
        "difference_lines": difference_lines(t, draft.items, reasons="diff") if draft else [],
        "words": firm_words(node, session, detail.letter_id),  # the firm's follow-ups, withdrawal
        "words_delivery": False,  # the firm's side of the delivery is not the bank's to show
        "beijing_at": beijing,
        "poll_s": POLL_S,
    }


@router.get("/letters/{letter_id}")
def case_page(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: AnyBankPerson,
    partial: bool = False,
) -> Response:
    detail = cases.show_case(letter_id, node, session, person.user)
    context = _case_context(_t(request), node, session, detail, person)
    template = "bank/_case_state.html" if partial else "bank/case.html"
    return render(request, template, context, person=person)


def _case_url(letter_id: str) -> str:
    return f"{BANK}/letters/{letter_id.lower()}"


def _valid(make: Callable[[], Any]) -> Any:
    """A request body of the API made from a form, or the form's fault as the API's 422."""
    try:
        return make()
    except ValidationError as exc:
        raise InvalidRequest("; ".join(str(error["msg"]) for error in exc.errors())) from exc


Text = Annotated[str, Form(max_length=2000)]
Version = Annotated[int | None, Form()]


@router.post("/letters/{letter_id}/accept")
def accept(
    request: Request, letter_id: LetterId, node: NodeDep, session: SessionDep, person: OfficerPerson
) -> Response:
    inbox.accept(letter_id, node, session, person.user)
    flash(person, _t(request)("done.accept"))
    return redirect(_case_url(letter_id))


@router.post("/letters/{letter_id}/reject")
def reject(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: OfficerPerson,
    reason: Annotated[int, Form()],
    note: Text = "",
) -> Response:
    body = _valid(lambda: cases.RejectLetterIn(reason=reason, note=note.strip() or None))
    cases.reject(letter_id, body, node, session, person.user)
    flash(person, _t(request)("done.reject"))
    return redirect(_case_url(letter_id))


@router.post("/letters/{letter_id}/draft")
def draft(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: PreparerPerson,
    remarks: Text = "",
) -> Response:
    body = _valid(lambda: cases.DraftIn(remarks=remarks.strip() or None))
    made = cases.draft(letter_id, body, node, session, person.user)
    flash(person, _t(request)("done.draft", version=made.version))
    return redirect(_case_url(letter_id))


@router.post("/letters/{letter_id}/approve")
def approve(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: ReviewerPerson,
    draft_version: Version = None,
) -> Response:
    body = _valid(lambda: cases.ReviewIn(draft_version=draft_version))
    cases.approve(letter_id, body, node, session, person.user)
    flash(person, _t(request)("done.approve"))
    return redirect(_case_url(letter_id))


@router.post("/letters/{letter_id}/return")
def return_(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: ReviewerPerson,
    note: Text,
    draft_version: Version = None,
) -> Response:
    body = _valid(lambda: cases.ReturnIn(draft_version=draft_version, note=note.strip()))
    cases.return_(letter_id, body, node, session, person.user)
    flash(person, _t(request)("done.return"))
    return redirect(_case_url(letter_id))


# --- mandates ------------------------------------------------------------------------------------

_CODE: TypeAdapter[str] = TypeAdapter(RegistrationCode)
_SIGNER: TypeAdapter[str] = TypeAdapter(Signer)
# A signer in hex: an address (42 characters) or a verifier and a key (a passkey's: 170).
SignerText = Annotated[str, Form(max_length=2100)]


def _mandate_row(mandate: Mandate, now: datetime) -> dict[str, Any]:
    until = datetime.fromtimestamp(mandate.valid_until, CHINA_TIME)
    state = "revoked" if mandate.revoked else "expired" if until <= now else "active"
    return {
        "auditee_ref": mandate.auditee_ref,
        "signer": mandate.signer,
        "valid_until": until.strftime("%Y-%m-%d"),
        "state": state,
        "registered": _beijing(mandate.created_at),
    }


@router.get("/mandates")
def mandates_page(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: OfficerPerson,
    export_as: ExportAs = "",
    code: str = "",
) -> Response:
    """The mandates as the API lists them (the facade's), narrowed to one customer by its code."""
    now = datetime.now(CHINA_TIME)
    rows = [_mandate_row(m, now) for m in Letters(node).mandates(session)]
    found = None
    if code.strip():
        code = _valid(lambda: _CODE.validate_python(code))
        found = mandates.customer_reference(code, node, person.user).auditee_ref
        rows = [row for row in rows if row["auditee_ref"] == found]
    view = TableView.of(request, MANDATE_COLUMNS, rows, default_sort="registered", descending=True)
    if found:
        view.query["code"] = code
    if export_as:
        return export(view, export_as, "mandates", _t(request))
    context = {"view": view, "code": code, "found": found}
    return render(request, "bank/mandates.html", context, person=person)


@router.post("/mandates")
def register_mandate(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: OfficerPerson,
    registration_code: Annotated[str, Form(max_length=40)],
    signer: SignerText,
    valid_until: Annotated[date, Form()],
) -> Response:
    end_of_day = datetime.combine(valid_until, time.max, CHINA_TIME)
    body = _valid(
        lambda: MandateIn(
            registration_code=registration_code.strip(),
            signer=signer.strip(),
            valid_until=int(end_of_day.timestamp()),
        )
    )
    mandates.register_mandate(body, node, session, person.user)
    flash(person, _t(request)("mandates.done_register"))
    return redirect(f"{BANK}/mandates?code={body.registration_code}")


@router.post("/mandates/revoke")
def revoke_mandate(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: OfficerPerson,
    registration_code: Annotated[str, Form(max_length=40)],
    signer: SignerText,
) -> Response:
    code = _valid(lambda: _CODE.validate_python(registration_code.strip()))
    address = _valid(lambda: _SIGNER.validate_python(signer.strip()))
    mandates.revoke_mandate(code, address, node, session, person.user)
    flash(person, _t(request)("mandates.done_revoke"))
    return redirect(f"{BANK}/mandates?code={code}")


# --- the letter and the reply as PDFs ------------------------------------------------------------


@router.get("/letters/{letter_id}/letter.pdf")
def letter_pdf(letter_id: LetterId, node: NodeDep, session: SessionDep, person: AnyBankPerson) -> Response:
    """The letter's PDF, as ``GET /v1/letters/{id}/letter.pdf`` gives it."""
    return no_store(letters_api.letter_pdf(letter_id, node, session, person.user))


@router.get("/letters/{letter_id}/reply.pdf")
def reply_pdf(letter_id: LetterId, node: NodeDep, session: SessionDep, person: AnyBankPerson) -> Response:
    """The reply the bank sent, with its letter, as ``GET /v1/letters/{id}/reply.pdf`` gives it."""
    return no_store(letters_api.reply_pdf(letter_id, node, session, person.user))


# --- the core bank's data ------------------------------------------------------------------------
# The import is the CLI's (``confirmnet bank import``: ``importer.import_files``), on the gateway's
# own core bank; every row is checked before anything is written, all or nothing. The importer
# records no history (the CLI writes to the core directly), so the status is the core's own rows.

CORE_IMPORT = f"{BANK}/core-import"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
Upload = Annotated[UploadFile | None, File()]


def _core(node: Node) -> CoreBank:
    core = core_for(node.settings.core_banking_url)
    if core is None:
        raise CoreUnavailable("this gateway has no core bank configured (core_banking_url)")
    return core


def core_counts(core: CoreBank) -> dict[str, int]:
    """How many rows of each kind the core bank holds now."""
    with core.engine.connect() as connection:
        return {
            row_type.table: connection.scalar(select(func.count()).select_from(TABLES[row_type])) or 0
            for row_type in ROW_TYPES
        }


def _import_page(request: Request, node: Node, person: Person, status: int = 200, **context: Any) -> Response:
    core = core_for(node.settings.core_banking_url)
    full = {
        "tables": [row_type.table for row_type in ROW_TYPES],
        "counts": core_counts(core) if core else None,
        "max_mb": MAX_UPLOAD_BYTES // 2**20,
        "error": None,
        "problems": None,
        "checked": None,
        "filename": None,
        **context,
    }
    return render(request, "bank/core_import.html", full, person=person, status=status)


@router.get("/core-import")
def core_import_page(request: Request, node: NodeDep, person: OfficerPerson) -> Response:
    return _import_page(request, node, person)


@router.get("/core-import/example.xlsx")
def core_import_example(person: OfficerPerson) -> Response:
    """A workbook in the import's layout (one sheet per table), holding one generated demo customer."""
    with tempfile.TemporaryDirectory() as folder:
        data = export_xlsx(generate_dataset(customers=1), Path(folder) / "core.xlsx").read_bytes()
    headers = {"Content-Disposition": 'attachment; filename="core-data-example.xlsx"'}
    return Response(data, media_type=XLSX, headers=headers)


@router.post("/core-import")
def core_import(
    request: Request,
    node: NodeDep,
    person: OfficerPerson,
    workbook: Upload = None,
    table: Annotated[str, Form(max_length=40)] = "",
    action: Annotated[Literal["check", "import"], Form()] = "check",
) -> Response:
    """Checks the file row by row, and with ``action=import`` loads it (all or nothing)."""
    t = _t(request)
    if workbook is None or not workbook.filename:
        return _import_page(request, node, person, 422, error=t("core.choose"))
    data = workbook.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _import_page(request, node, person, 413, error=t("core.too_big", mb=MAX_UPLOAD_BYTES // 2**20))
    name = Path(workbook.filename).name  # its suffix says CSV or Excel; a CSV's stem names its table
    core, dry_run = _core(node), action == "check"
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            counts = import_files(core, [path], table=table or None, dry_run=dry_run)
    except ImportRejected as exc:
        return _import_page(request, node, person, 422, problems=exc.problems, filename=name)
    if dry_run:
        return _import_page(request, node, person, checked=counts, filename=name)
    done = ", ".join(t("core.count", table=t(f"core.table.{name}"), n=n) for name, n in counts.items())
    flash(person, t("core.done", file=name, at=_beijing(datetime.now(CHINA_TIME)), counts=done))
    return redirect(CORE_IMPORT)
