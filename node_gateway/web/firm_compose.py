"""The audit firm's pages that create letters: compose one in a form, or upload a sheet of many.

Both read letters the one way ``protocol.workbook`` does: the form's fields are the sheet's columns
(the letter's on every row, one row per entry of an item, or one marking the item not applicable),
so a composed letter is checked exactly as an uploaded one (``plan_rows``, with the bank looked up
in the member registry as the firm's API lists it). The item tables are drawn from the letter's
schema (``workbook.ENTRY_MODELS``: each entry's fields, their types, which are figures), and the
letter's fields from ``workbook.LETTER_COLUMNS``; a new format, column or entry field shows up here
without a change to the pages. Letters are created by the firm API's own route (``POST
/v1/letters``), so the service decides (``services.letters.create_letters``).

An upload is read and checked at once; its plan (the issues row by row, or the letters) waits in an
in-process registry (``UploadJobs``, per application) under a random id, for the user who uploaded
it, until they confirm. A background thread then sends the letters in batches, each all-or-none, and
the page polls its progress. In process, not in the database: the plan holds the letters' data in
clear (the database holds letters only sealed in the vault, and only once created), and needs no
table of its own. A restart loses the job, never a letter half-written: an upload's letter ids are
derived from the letters (an HMAC under the member's storage key), so uploading the same sheet again
finds the letters already created (the API refuses an id twice) and sends only the others; the
page says so.
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import secrets
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from hashlib import sha256
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.errors import classify
from node_gateway.api.models import CreateLetters
from node_gateway.api.routes import firm as firm_api
from node_gateway.api.routes import letters as letters_api
from node_gateway.api.routes import members as members_api
from node_gateway.core.security import User
from node_gateway.errors import Conflict, FormatNotAccepted, InvalidRequest, NodeGatewayError, NotFound
from node_gateway.node import Node
from node_gateway.plugins import NavLink
from node_gateway.protocol.bank_rules import format_issues
from node_gateway.protocol.documents import (
    CHINA_TIME,
    AuditFirm,
    ConfirmationLetter,
    Entry,
    ItemKey,
    LetterFormat,
    LetterId,
)
from node_gateway.protocol.hashing import canonical_bytes
from node_gateway.protocol.workbook import (
    COLUMNS,
    ENTRY_MODELS,
    LETTER_COLUMNS,
    REQUIRED_COLUMNS,
    BulkPlan,
    MemberInfo,
    MemberLookup,
    PlannedLetter,
    RowIssue,
    SheetError,
    plan_rows,
    read_sheet,
    write_template,
)
from node_gateway.services import letters as letter_service
from node_gateway.services.bank_rules import accepted_formats
from node_gateway.web.bank_rules import rules_by_bank
from node_gateway.web.firm import FIRM, WIDE_FIELDS, beijing, confirmation_no_of
from node_gateway.web.pages import PageRoute, flash, language, redirect, render, require_page, site
from node_gateway.web.sessions import Person

log = logging.getLogger(__name__)

COMPOSE = f"{FIRM}/compose"
UPLOAD = f"{FIRM}/upload"
router = APIRouter(route_class=PageRoute, include_in_schema=False)
AuditorPerson = Annotated[Person, Depends(require_page("auditor"))]

NAV = (
    NavLink(COMPOSE, "nav.firm_compose", frozenset({"auditor"})),
    NavLink(UPLOAD, "nav.firm_upload", frozenset({"auditor"})),
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SEND_BATCH = 50  # letters per create: each batch is all-or-none; the progress moves per batch
KEEP_JOBS_S = 24 * 3600  # an upload's plan and outcome stay this long
POLL_S = 1
SHOWN_ISSUES = 500  # a sheet wrong throughout lists this many issues; the count says the rest
_ZERO_ID = "0x" + "00" * 32
# The letter's own columns the form shows as its own controls; the others as text or dates.
_OWN_CONTROLS = ("letter_key", "letter_format", "bank_member_no")
# An issue about an item as a whole (no row of it, a blank one) names it.
_ITEM_NAMED = re.compile(r"\bitem ([a-z_]+)\b")
# Where an issue about a part of the letter (named by the model, not the sheet) belongs.
_COLUMN_OF = {
    "registration_code": "auditee_code",
    "phone": "contact_phone",
    "email": "contact_email",
    "member_no": "bank_member_no",
}


def _t(request: Request) -> Callable[..., str]:
    return site(request).catalogue.translator(language(request))


async def _form(request: Request) -> FormData:
    return await request.form()  # parsed once: the CSRF check has read it already


FormDep = Annotated[FormData, Depends(_form)]


# --- the letter's schema as a form ---------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One column of an item's table, from the entry model's field."""

    name: str
    kind: str  # "text", "number", "date" or "choice"
    choices: tuple[str, ...] = ()
    required: bool = False
    figure: bool = False  # stated by the auditor in format one, filled in by the bank in format two


def _bare(annotation: Any) -> Any:
    """The type under ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return str
            annotation = options[0]
        else:
            return annotation


def _spec(name: str, annotation: Any, *, required: bool, figure: bool) -> FieldSpec:
    bare = _bare(annotation)
    if bare is bool:
        return FieldSpec(name, "choice", ("yes", "no"), required, figure)
    if isinstance(bare, type) and issubclass(bare, Enum):
        return FieldSpec(name, "choice", tuple(str(member.value) for member in bare), required, figure)
    if bare is date:
        return FieldSpec(name, "date", (), required, figure)
    if bare in (Decimal, int):
        return FieldSpec(name, "number", (), required, figure)
    return FieldSpec(name, "text", (), required, figure)


@functools.cache
def item_fields(key: ItemKey) -> tuple[FieldSpec, ...]:
    """The columns of an item's table: its entry model's fields, the note last."""
    model = ENTRY_MODELS[key]
    specs = [
        _spec(name, info.annotation, required=info.is_required(), figure=name in model.figures)
        for name, info in model.model_fields.items()
    ]
    return tuple(sorted(specs, key=lambda spec: spec.name == "note"))


def letter_fields() -> tuple[FieldSpec, ...]:
    """The letter's fields the form shows as text or dates (the sheet's letter columns)."""
    return tuple(
        FieldSpec(
            name,
            "date" if name.endswith(("_date", "_due", "_start", "_end")) else "text",
            required=name in REQUIRED_COLUMNS,
        )
        for name in LETTER_COLUMNS
        if name not in _OWN_CONTROLS
    )


# --- issues in words -----------------------------------------------------------------------------

# The checks' messages (the workbook's, the letter model's, pydantic's), each with its message key;
# the named groups fill its placeholders. A message none matches is shown as it is.
_SAYINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"^(Field )?required( for the letter)?$|^String should have at least 1 character", "required"),
        (r"valid date|isoformat|^Input should be a valid datetime", "date"),
        (
            r"valid decimal|valid number|valid integer|^invalid literal for int|finite number|as strings, not floats",
            "number",
        ),
        (r"^at most (?P<n>\d+) decimal places$", "places"),
        (r"^must not be negative$", "negative"),
        (r"^must be below 10\^(?P<n>\d+)$", "too_big"),
        (r"pattern '\^\[A-Z\]\{3\}\$'", "currency"),
        (r"^String should match pattern", "pattern"),
        (r"^String should have at most (?P<n>\d+) characters", "too_long"),
        (r"^Input should be '", "choice"),
        (r"format one states every figure", "figure"),
        (r"is not yes or no$", "yes_no"),
        (r"^ignored: the auditor gives no salt", "ignored_salt"),
        (r"^the reply due date must be after today$", "due_past"),
        (r"^the reference date is after the letter's date$", "reference_late"),
        (r"^a registration code is", "registration_code"),
        (r"^the network has no member (?P<n>\d+)$", "no_member"),
        (r"^member (?P<n>\d+) \((?P<name>.*)\) is .*, not a bank$", "not_bank"),
        (r"^bank (?P<n>\d+) \((?P<name>.*)\) is (?P<status>\w+): it receives no letters$", "bank_inactive"),
        (r"^(?P<first>[a-z_]+) is after (?P<last>[a-z_]+)$", "dates_order"),
        (r"restricted account needs a restriction_note", "restriction"),
        (r"buys one currency and sells another", "fx_same"),
        (r"an amount needs a currency", "amount_currency"),
        (r"phone or email needs the contact's name", "contact_name"),
        (r"marked not applicable but has entries|not applicable has no entry values", "na_and_entries"),
        (r"item (?P<item>[a-z_]+) is blank|no row mentions item", "item_blank"),
        (r"no rows of letters", "no_rows"),
        (r"^unknown column \(did you mean (?P<column>\w+)\?\)$", "unknown_column_hint"),
        (r"^unknown column$", "unknown_column"),
        (r"^required column missing$", "column_missing"),
        (r"^the column appears twice$", "column_twice"),
        (r"^'(?P<value>.*)' is not an item", "not_an_item"),
        (r"^'(?P<value>.*)' is not one, two or capital", "not_a_format"),
        (r"letter lists the contributions it asks the bank to confirm", "capital_blank"),
        (r"only a capital-verification \(验资\) letter lists capital contributions", "capital_only"),
        (r"^item (?P<item>[a-z_]+) \(.*\) is not on a (?P<value>[a-z]+) letter$", "not_on_format"),
        (r"^does not belong to item", "foreign_field"),
        (r"^'(?P<here>.*)' here but '(?P<there>.*)' in row (?P<row>\d+) of the same letter$", "disagrees"),
        (r"beyond the last column$", "beyond"),
        (r"^more than \d+ rows", "too_many_rows"),
        (r"a letter with this id exists", "exists"),
        # A correction's checks (``services.notices.correction_problems``).
        (r"this firm sent no letter (?P<value>0x[0-9a-f]+) to correct", "correct_unknown"),
        (
            r"letter (?P<value>0x[0-9a-f]+) is (?P<status>\w+); only a letter the bank rejected",
            "correct_state",
        ),
        (r"a correction goes to the bank that rejected", "correct_bank"),
        (r"a correction confirms the same auditee", "correct_auditee"),
        # The bank's published rules (``services.bank_rules.format_refusal``).
        (
            r"bank (?P<n>\d+) accepts letters in (?P<value>.+) only \(its published rules\); "
            r"this letter is (?P<format>.+)$",
            "format_not_accepted",
        ),
    )
)


def say(t: Callable[..., str], message: str, item: str | None = None) -> str:
    """A check's message in the page's language (the fields it names as item ``item`` heads them)."""
    for pattern, key in _SAYINGS:
        found = pattern.search(message)
        if found:
            values = {
                name: column_label(t, v, item) if name in ("first", "last") else v
                for name, v in found.groupdict().items()
            }
            return t(f"compose.say.{key}", **{k: v or "" for k, v in values.items()})
    return message


def column_label(t: Callable[..., str], name: str | None, item: str | None = None) -> str:
    """A sheet column's name in words: as item ``item`` heads it where the item is known (the same
    field can be headed otherwise in another item); the column's own name where no words are known."""
    if not name:
        return ""
    for key in (f"compose.col.{name}", f"field.{item}.{name}", f"field.{name}"):
        words = t(key)
        if words != key:
            return words
    return name


# --- the network's banks, the firm -------------------------------------------------------------


def member_infos(node: Node, user: User) -> dict[int, MemberInfo]:
    """The network's members, as the firm's API lists them (``GET /v1/members``)."""
    return {
        member.member_id: MemberInfo(member.role, member.status, member.display_name)
        for member in members_api.list_members(node, user)
    }


def _lookup(members: Mapping[int, MemberInfo]) -> MemberLookup:
    return members.get


def _active_banks(members: Mapping[int, MemberInfo]) -> list[tuple[int, str]]:
    return [(n, m.name) for n, m in sorted(members.items()) if m.role == "bank" and m.status == "active"]


def _firm(node: Node) -> AuditFirm:
    return AuditFirm(member_no=node.member_id(), name=node.settings.display_name)


def _today() -> date:
    return datetime.now(CHINA_TIME).date()


# --- compose -------------------------------------------------------------------------------------


@dataclass
class ItemForm:
    """One item of the form: its table's rows as typed, not applicable or not, and its issues."""

    key: str
    fields: tuple[FieldSpec, ...]
    rows: list[dict[str, str]]
    not_applicable: bool
    errors: list[str] = field(default_factory=list)  # about the item as a whole
    row_errors: dict[int, list[str]] = field(default_factory=dict)  # about a row, by its index
    cell_errors: dict[tuple[int, str], list[str]] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.row_errors or self.cell_errors)


@dataclass
class ComposeForm:
    """The letter as typed into the form, with the issues found beside its fields."""

    letter: dict[str, str]
    items: list[ItemForm]
    errors: dict[str, list[str]] = field(default_factory=dict)  # by letter column
    general: list[str] = field(default_factory=list)
    corrects: str = ""  # the rejected letter this one corrects (its id), if it is a correction

    @classmethod
    def blank(cls, today: date, person: Person) -> ComposeForm:
        """A new letter: format one, last year's audit, this person the firm's contact, every item
        not applicable until a row is added (the defaults only of the columns the sheet has)."""
        year = today.year - 1
        defaults = {
            "letter_format": LetterFormat.ONE.value,
            "letter_date": today.isoformat(),
            "reference_date": date(year, 12, 31).isoformat(),
            "audit_period_start": date(year, 1, 1).isoformat(),
            "audit_period_end": date(year, 12, 31).isoformat(),
            "firm_contact_name": person.user.name,
        }
        letter = {name: defaults.get(name, "") for name in LETTER_COLUMNS}
        return cls(letter, [ItemForm(key.value, item_fields(key), [], True) for key in ItemKey])

    @classmethod
    def correcting(cls, letter: ConfirmationLetter, today: date) -> ComposeForm:
        """A correction of a rejected letter: its values as the form's, dated today."""
        contact, period, closed = letter.auditee.contact, letter.audit_period, letter.closed_accounts_period
        fee, firm_contact = letter.fee_account, letter.firm_contact
        values = {
            "letter_format": letter.format.value,
            "reference_date": letter.reference_date.isoformat(),
            "letter_date": today.isoformat(),
            "audit_period_start": period.start.isoformat(),
            "audit_period_end": period.end.isoformat(),
            "closed_period_start": closed.start.isoformat() if closed else "",
            "closed_period_end": closed.end.isoformat() if closed else "",
            "bank_member_no": str(letter.bank.member_no),
            "bank_name": letter.bank.name,
            "bank_branch": letter.bank.branch or "",
            "auditee_code": letter.auditee.registration_code,
            "auditee_name": letter.auditee.name,
            "contact_name": contact.name if contact else "",
            "contact_phone": (contact.phone or "") if contact else "",
            "contact_email": (contact.email or "") if contact else "",
            "firm_contact_name": firm_contact.name,
            "firm_contact_phone": firm_contact.phone or "",
            "firm_contact_email": firm_contact.email or "",
            "fee_account_no": fee.account_no if fee else "",
            "fee_account_name": fee.account_name if fee else "",
        }
        carried = dict(letter.items.by_key())
        items = []
        for key in ItemKey:
            item = carried.get(key)
            rows = [_entry_cells(entry) for entry in item.entries] if item else []
            items.append(ItemForm(key.value, item_fields(key), rows, item is None or item.not_applicable))
        letter_values = {name: str(values.get(name) or "") for name in LETTER_COLUMNS}
        return cls(letter_values, items, corrects=letter.letter_id)

    @classmethod
    def posted(cls, form: FormData) -> ComposeForm:
        letter = {name: _text(form.get(name)) for name in LETTER_COLUMNS}
        items = []
        for key in ItemKey:
            fields = item_fields(key)
            prefix = f"e.{key.value}."
            indexes = sorted(
                {int(n.split(".")[2]) for n in form if n.startswith(prefix) and n.split(".")[2].isdigit()}
            )
            rows = [
                {spec.name: _text(form.get(f"{prefix}{i}.{spec.name}")) for spec in fields} for i in indexes
            ]
            rows = [row for row in rows if any(row.values())]
            items.append(ItemForm(key.value, fields, rows, form.get(f"na.{key.value}") == "yes"))
        return cls(letter, items, corrects=_text(form.get("corrects")))

    def sheet(self) -> tuple[list[str], list[tuple[int, list[str]]], dict[int, tuple[ItemForm, int | None]]]:
        """The form as sheet rows (numbered as a sheet's, from 2), and which item and entry each is."""
        header = list(COLUMNS)
        rows: list[tuple[int, list[str]]] = []
        where: dict[int, tuple[ItemForm, int | None]] = {}

        def add(item: ItemForm, index: int | None, cells: Mapping[str, str]) -> None:
            number = len(rows) + 2
            values = self.letter | {"letter_key": "", "item": item.key} | dict(cells)
            rows.append((number, [values.get(name, "") for name in header]))
            where[number] = (item, index)

        for item in self.items:
            if item.not_applicable:
                add(item, None, {"not_applicable": "yes"})
            for index, row in enumerate(item.rows):
                add(item, index, row)
        return header, rows, where

    def place(
        self,
        t: Callable[..., str],
        issues: Iterable[RowIssue],
        where: Mapping[int, tuple[ItemForm, int | None]],
    ) -> None:
        """Puts each issue beside the field it is about (in words), once."""
        for issue in issues:
            column = _COLUMN_OF.get(issue.column or "", issue.column)
            item, index = where.get(issue.row, (None, None))
            if column == "item" and (named := _ITEM_NAMED.search(issue.message)):
                item = next((x for x in self.items if x.key == named.group(1)), item)
                index = None
            item_key = item.key if item is not None else None
            words = say(t, issue.message, item_key)
            if column in LETTER_COLUMNS:
                _add(self.errors.setdefault(column, []), words)
            elif item is not None and (index is None or column == "not_applicable"):
                _add(item.errors, words)
            elif item is not None and index is not None and column in {spec.name for spec in item.fields}:
                _add(item.cell_errors.setdefault((index, column), []), words)
            elif item is not None and index is not None and column is None:
                _add(item.row_errors.setdefault(index, []), words)
            else:  # about the letter, in no field of the form
                _add(self.general, f"{column_label(t, column, item_key)}: {words}" if column else words)


def _add(found: list[str], words: str) -> None:
    if words not in found:
        found.append(words)


def _text(value: str | UploadFile | None) -> str:
    return value.strip() if isinstance(value, str) else ""


def _entry_cells(entry: Entry) -> dict[str, str]:
    """An entry as the form's cells (as typed: yes or no, decimals and dates as their JSON)."""
    return {
        name: ("yes" if value else "no") if isinstance(value, bool) else str(value)
        for name, value in entry.model_dump(mode="json", exclude_none=True).items()
    }


def _compose_page(
    request: Request,
    session: Session,
    person: Person,
    form: ComposeForm,
    banks: Sequence[tuple[int, str]],
    status: int = 200,
) -> Response:
    context = {
        "form": form,
        "corrected_no": confirmation_no_of(session, form.corrects) if form.corrects else "",
        "banks": banks,
        "formats": [f.value for f in LetterFormat],
        "letter_fields": letter_fields(),
        "column_label": functools.partial(column_label, _t(request)),
        "wide": WIDE_FIELDS,
        "bank_rules": rules_by_bank(request.app.state.node),  # the banks' rules, shown first
    }
    return render(request, "firm/compose.html", context, person=person, status=status)


@router.get(COMPOSE)
def compose_page(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: AuditorPerson,
    corrects: Annotated[LetterId | None, Query()] = None,
) -> Response:
    """A blank letter; or, with ``corrects``, the rejected letter's values to correct and send again."""
    banks = _active_banks(member_infos(node, person.user))
    form = ComposeForm.blank(_today(), person)
    if corrects is not None:
        detail = letters_api.show_letter(corrects, node, session, person.user)
        if detail.status != "REJECTED" or detail.letter is None:
            raise Conflict(_t(request)("compose.correct.not_rejected"))
        form = ComposeForm.correcting(detail.letter, _today())
    return _compose_page(request, session, person, form, banks)


@router.post(COMPOSE)
def compose(
    request: Request, node: NodeDep, session: SessionDep, person: AuditorPerson, posted: FormDep
) -> Response:
    """Checks the letter as an upload's row would be; creates it (as ``POST /v1/letters``) when
    clean, else shows the form again, filled in, each issue beside its field."""
    t, members = _t(request), member_infos(node, person.user)
    form = ComposeForm.posted(posted)
    number = form.letter["bank_member_no"]
    if not form.letter["bank_name"] and number.isdigit() and int(number) in members:
        form.letter["bank_name"] = members[int(number)].name  # the registry's name unless given
    header, rows, where = form.sheet()
    plan = plan_rows(header, rows, audit_firm=_firm(node), source="form", members=_lookup(members))
    corrects = _corrected_id(form.corrects)
    damaged = bool(form.corrects) and corrects is None
    if damaged:
        form.general.append(t("compose.correct.damaged"))
    if plan.ok and not damaged:
        planned = plan.letters[0]
        if corrects is not None:
            planned = replace(planned, letter=planned.letter.model_copy(update={"corrects": corrects}))
        try:
            created = firm_api.create_letters(
                CreateLetters(letters=[planned.draft()]), node, session, person.user
            )
        except FormatNotAccepted as exc:  # beside the format chosen
            form.place(t, [RowIssue(2, "letter_format", str(exc))], {})
        except InvalidRequest as exc:
            form.place(t, [RowIssue(2, None, str(exc))], {})
        else:
            letter_id = created[0].letter_id
            flash(person, t("compose.created"))
            return redirect(f"{FIRM}/letters/{letter_id.lower()}")
    else:
        form.place(t, plan.issues, where)
    return _compose_page(request, session, person, form, _active_banks(members), status=422)


_LETTER_ID: TypeAdapter[str] = TypeAdapter(LetterId)


def _corrected_id(text: str) -> str | None:
    """The id the form's ``corrects`` names, as the letter states ids; None if blank or damaged."""
    try:
        return _LETTER_ID.validate_python(text) if text else None
    except ValidationError:
        return None


# --- upload --------------------------------------------------------------------------------------


@dataclass
class UploadJob:
    """An uploaded sheet: its plan, then the sending of its letters."""

    job_id: str
    user_id: int
    source: str  # the file's name
    plan: BulkPlan
    created_at: float = field(default_factory=time.time)
    state: str = "planned"  # planned → sending → done | failed
    created: int = 0  # letters this job created
    held: list[str] = field(default_factory=list)  # letters the gateway held already: not sent again
    error: str | None = None  # why it stopped, as the service said it
    error_code: str | None = None
    ended_at: float | None = None

    @property
    def total(self) -> int:
        return len(self.plan.letters)

    @property
    def handled(self) -> int:
        return self.created + len(self.held)

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.handled * 100 // self.total


class UploadJobs:
    """The uploads of one gateway's pages, by id; each visible to the user who uploaded it."""

    def __init__(self) -> None:
        self._jobs: dict[str, UploadJob] = {}
        self.lock = threading.Lock()

    def add(self, user_id: int, source: str, plan: BulkPlan) -> UploadJob:
        job = UploadJob(secrets.token_urlsafe(16), user_id, source, plan)
        with self.lock:
            gone = time.time() - KEEP_JOBS_S
            self._jobs = {k: j for k, j in self._jobs.items() if j.state == "sending" or j.created_at > gone}
            self._jobs[job.job_id] = job
        return job

    def get(self, job_id: str, user: User) -> UploadJob | None:
        with self.lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.user_id == user.id else None

    def mine(self, user: User) -> list[UploadJob]:
        with self.lock:
            return sorted(
                (j for j in self._jobs.values() if j.user_id == user.id), key=lambda j: -j.created_at
            )

    def start(self, job: UploadJob, node: Node, user: User) -> None:
        with self.lock:
            if job.state != "planned" or not job.plan.ok:
                raise Conflict("this upload has been sent already, or has issues")
            job.state = "sending"
        threading.Thread(
            target=self._send, args=(job, node, user), name=f"upload-{job.job_id[:8]}", daemon=True
        ).start()

    def _send(self, job: UploadJob, node: Node, user: User) -> None:
        error: tuple[str, str] | None = None  # the code and the words of what stopped it
        try:
            for start in range(0, job.total, SEND_BATCH):
                batch = job.plan.letters[start : start + SEND_BATCH]
                with node.db.session() as session:
                    held = letter_service.letter_rows(session, [p.letter.letter_id for p in batch])
                    fresh = [p for p in batch if p.letter.letter_id not in held]
                    if fresh:
                        body = CreateLetters(letters=[p.draft() for p in fresh])
                        firm_api.create_letters(body, node, session, user)
                node.notify()
                with self.lock:
                    job.created += len(fresh)
                    job.held += sorted(held)
        except Exception as exc:  # whatever stops it, the page says what and how far
            log.warning("upload %s stopped after %d letters: %s", job.job_id, job.handled, exc, exc_info=exc)
            code = classify(exc)[1] if isinstance(exc, NodeGatewayError) else type(exc).__name__
            error = (code, str(exc))
        with self.lock:
            job.state, job.ended_at = ("failed" if error else "done"), time.time()
            job.error_code, job.error = error or (None, None)


_REGISTRY_LOCK = threading.Lock()


def upload_jobs(request: Request) -> UploadJobs:
    """The uploads of this application (each gateway in a process has its own)."""
    state = request.app.state
    with _REGISTRY_LOCK:
        if not hasattr(state, "firm_uploads"):
            state.firm_uploads = UploadJobs()
        jobs: UploadJobs = state.firm_uploads
    return jobs


def stable_letter_ids(plan: BulkPlan, storage_key: bytes) -> None:
    """Gives each planned letter an id derived from the letter itself (its key in the sheet, due
    time and content), keyed by the member's storage key: the same sheet uploaded again yields
    the same ids, so letters created before are recognised; the ids reveal nothing on chain."""
    key = hmac.new(storage_key, b"confirmnet web upload: letter ids", sha256).digest()

    def stable(planned: PlannedLetter) -> PlannedLetter:
        content = canonical_bytes(planned.letter.model_copy(update={"letter_id": _ZERO_ID}))
        parts = (planned.key.encode(), str(planned.due_at).encode(), content)
        letter_id = "0x" + hmac.new(key, b"\0".join(parts), sha256).hexdigest()
        return replace(planned, letter=planned.letter.model_copy(update={"letter_id": letter_id}))

    plan.letters = [stable(planned) for planned in plan.letters]


@dataclass(frozen=True)
class IssueLine:
    row: int
    column: str
    message: str


def _issue_lines(t: Callable[..., str], issues: Sequence[RowIssue]) -> list[IssueLine]:
    return [
        IssueLine(issue.row, column_label(t, issue.column), say(t, issue.message))
        for issue in issues[:SHOWN_ISSUES]
    ]


def _letter_lines(t: Callable[..., str], plan: BulkPlan) -> list[dict[str, Any]]:
    lines = []
    for planned in plan.letters:
        letter = planned.letter
        items = letter.items.by_key()
        lines.append(
            {
                "letter_id": letter.letter_id,
                "rows": f"{planned.rows[0]}–{planned.rows[-1]}"
                if len(planned.rows) > 1
                else str(planned.rows[0]),
                "auditee": letter.auditee.name,
                "bank": f"{letter.bank.name} ({letter.bank.member_no})",
                "format": t(f"firm.format.{letter.format.value}"),
                "reference_date": letter.reference_date.isoformat(),
                "entries": sum(len(item.entries) for _, item in items),
                "item_names": [t(f"item.{key.value}") for key, item in items if item.entries],
                "due": beijing(planned.due_at) if planned.due_at else t("compose.due_default"),
            }
        )
    return lines


def _upload_page(request: Request, person: Person, error: str | None = None, status: int = 200) -> Response:
    jobs = upload_jobs(request).mine(person.user)
    context = {"error": error, "jobs": jobs, "max_mb": MAX_UPLOAD_BYTES // 2**20, "beijing": beijing}
    return render(request, "firm/upload.html", context, person=person, status=status)


@router.get(UPLOAD)
def upload_page(request: Request, person: AuditorPerson) -> Response:
    return _upload_page(request, person)


@router.get(f"{UPLOAD}/template.csv")
def upload_template(person: AuditorPerson) -> Response:
    """The sheet's layout with example rows (``confirmnet auditor template`` writes the same)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "letters.csv"
        write_template(path)
        data = path.read_bytes()
    headers = {
        "Content-Disposition": 'attachment; filename="letters-template.csv"',
        "Cache-Control": "no-store",
    }
    return Response(data, media_type="text/csv; charset=utf-8", headers=headers)


@router.post(UPLOAD)
def upload(request: Request, node: NodeDep, person: AuditorPerson, posted: FormDep) -> Response:
    """Reads and checks the sheet; its plan (issues or letters) waits for the user's confirmation."""
    t = _t(request)
    sheet = posted.get("sheet")
    if not isinstance(sheet, UploadFile) or not sheet.filename:
        return _upload_page(request, person, t("compose.upload.choose"), status=422)
    data = sheet.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _upload_page(
            request, person, t("compose.upload.too_big", mb=MAX_UPLOAD_BYTES // 2**20), status=413
        )
    members = member_infos(node, person.user)
    try:
        header, rows = read_sheet(data, sheet.filename)
        plan = plan_rows(
            header, rows, audit_firm=_firm(node), source=sheet.filename, members=_lookup(members)
        )
    except (SheetError, UnicodeDecodeError) as exc:
        return _upload_page(request, person, t("compose.upload.unreadable", error=str(exc)), status=422)
    if plan.ok:  # the banks' formats, before the first batch goes out
        with node.db.session() as session:
            plan.issues += format_issues(plan.letters, functools.partial(accepted_formats, session))
    stable_letter_ids(plan, node.keys.storage_key)
    job = upload_jobs(request).add(person.user.id, sheet.filename, plan)
    return redirect(f"{UPLOAD}/{job.job_id}")


def _job(request: Request, job_id: str, person: Person) -> UploadJob:
    job = upload_jobs(request).get(job_id, person.user)
    if job is None:
        raise NotFound(_t(request)("compose.upload.gone"))
    return job


@router.get(f"{UPLOAD}/{{job_id}}")
def upload_job(
    request: Request, job_id: str, session: SessionDep, person: AuditorPerson, partial: bool = False
) -> Response:
    """An upload's plan (its issues row by row, or its letters and the button that sends them), or
    the progress of its sending (the partial, polled while it runs)."""
    t, job = _t(request), _job(request, job_id, person)
    context: dict[str, Any] = {"job": job, "poll_s": POLL_S, "say": functools.partial(say, t)}
    if partial:
        return render(request, "firm/_upload_progress.html", context, person=person)
    held_before = []
    if job.state == "planned" and job.plan.ok:
        held_before = sorted(
            letter_service.letter_rows(session, [p.letter.letter_id for p in job.plan.letters])
        )
    context |= {
        "issues": _issue_lines(t, job.plan.issues),
        "notices": _issue_lines(t, job.plan.notices),
        "letters": _letter_lines(t, job.plan),
        "held_before": held_before,
        "shown_issues": SHOWN_ISSUES,
    }
    return render(request, "firm/upload_job.html", context, person=person)


@router.post(f"{UPLOAD}/{{job_id}}/send")
def upload_send(request: Request, job_id: str, node: NodeDep, person: AuditorPerson) -> Response:
    upload_jobs(request).start(_job(request, job_id, person), node, person.user)
    return redirect(f"{UPLOAD}/{job_id}")
