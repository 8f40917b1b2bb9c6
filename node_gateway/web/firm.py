"""The audit firm's pages, for its auditors: the letters by status and deadline (with the
authorisation request for those awaiting the auditee), a letter's page (its parties and items, the
reply beside what was asked with each difference, the chain's timeline, the queued steps, follow
up, withdraw, close, the evidence package); the auditee's signing page is ``web.signing``.

Every read and every action is the firm's API's own: the route functions of ``api.routes.letters``
and ``api.routes.firm`` called with the signed-in person's user, so the letter's state, the firm's
ownership and the reply's check against the chain are decided by the same code
(``services.letters``). What the pages add is presentation: names for member numbers, Beijing
time, the overdue mark, the bank's statutory deadline (counted as the regulator's statistics count
it, from the chain's block times), the items as tables, each difference in words.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.models import CloseLetters, FollowUpIn, WithdrawIn
from node_gateway.api.routes import firm as firm_api
from node_gateway.api.routes import letters as letters_api
from node_gateway.api.types import LetterId
from node_gateway.chain.errors import ChainError
from node_gateway.errors import InvalidRequest, NodeGatewayError
from node_gateway.node import Node
from node_gateway.plugins import NavLink
from node_gateway.protocol.calendar import CALENDAR
from node_gateway.protocol.documents import (
    AMOUNT_FIELDS,
    CHINA_TIME,
    ConfirmationLetter,
    ConfirmationReply,
    Difference,
    DifferenceReason,
    Entry,
    ItemKey,
    ItemStatus,
)
from node_gateway.protocol.lifecycle import AWAITING, BY_EVENT
from node_gateway.protocol.wire import (
    AuthorisationBundle,
    AuthorisationRequestIn,
    LetterDetail,
    LetterSummary,
)
from node_gateway.services import letters as letter_service
from node_gateway.services.firm_review import may_recall, may_review
from node_gateway.services.letters import PENDING, PREPARED, RECALLED
from node_gateway.services.notices import notice_of
from node_gateway.services.statistics import (
    ACCEPTED,
    AUTHORISED,
    REJECTED,
    REPLIED,
    notice_deadline,
    reply_deadline,
)
from node_gateway.storage.models import ChainEventRow, LetterRow
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
from node_gateway.web.replies import reply_words
from node_gateway.web.sessions import Person
from node_gateway.web.tables import Column, TableView, export

FIRM = f"{PREFIX}/firm"
AUTHORISE = f"{PREFIX}/authorise"
router = APIRouter(route_class=PageRoute, include_in_schema=False)

AuditorPerson = Annotated[Person, Depends(require_page("auditor"))]
# The auditee's signer (a firm's user with the role ``auditee``) opens the link the auditor sends.
SignerPerson = Annotated[Person, Depends(require_page("auditee", "auditor"))]
ExportAs = Annotated[str, Query(alias="export")]
POLL_S = 5
PAGE_OF_API = 1000  # the letters API's largest page

NAV = (NavLink(f"{FIRM}/letters", "nav.firm_letters", frozenset({"auditor"})),)

# The statuses a firm's letter has here, in the lifecycle's order (PENDING: not on chain yet).
STATUSES = (
    PREPARED,
    PENDING,
    "REQUESTED",
    "AUTHORISED",
    "ACCEPTED",
    "REPLIED",
    "CLOSED",
    "REJECTED",
    "REFUSED",
    "WITHDRAWN",
    RECALLED,
)
_AWAITING_AUTHORISATION = (PENDING, "REQUESTED")
_AWAITING = {status.name for status in AWAITING} | {PENDING}
_AWAITING_BANK = ("AUTHORISED", "ACCEPTED")

# Fields whose values are long words (names, notes): they wrap; the others keep to one line.
WIDE_FIELDS = frozenset(
    {
        "account_name",
        "borrower_name",
        "lender_name",
        "counterparty_name",
        "acceptor_name",
        "beneficiary_name",
        "name",
        "product_name",
        "provider_name",
        "user_name",
        "description",
        "purpose",
        "security_note",
        "restriction_note",
        "note",
    }
)


def _t(request: Request) -> Callable[..., str]:
    return site(request).catalogue.translator(language(request))


def beijing(seconds: int | float) -> str:
    return datetime.fromtimestamp(seconds, CHINA_TIME).strftime("%Y-%m-%d %H:%M")


# --- the bank's statutory deadline (财会〔2020〕12号) ----------------------------------------------


@dataclass(frozen=True)
class Statutory:
    """The bank's statutory deadline of a letter, beside the firm's own due time: to reply (10
    working days), or for a rejected letter to send its non-compliance notice (3 working days), as
    the regulator's statistics count them from the chain's block times."""

    kind: str  # "reply" or "notice"
    due: date  # Beijing date
    provisional: bool  # counted through a year whose official calendar is not published
    state: str  # "running", "late" (awaiting the bank past it), "met" or "missed" (answered)
    working_days: int  # left while running; past the deadline when late or missed

    @property
    def late(self) -> bool:
        return self.state == "late"


def _day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, CHINA_TIME).date()


def statutory(status: str, first: dict[str, int], now: int) -> Statutory | None:
    """The statutory deadline of a letter in ``status`` whose chain steps first happened at
    ``first`` (event name → block time), judged at ``now``; None where none runs (not yet with the
    bank, withdrawn, refused)."""
    authorised, awaiting = first.get(AUTHORISED), status in _AWAITING_BANK
    if status == "REJECTED":
        kind, answered = "notice", first.get(REJECTED)
        deadline = notice_deadline(authorised)
    elif awaiting or status in ("REPLIED", "CLOSED"):
        kind, answered = "reply", first.get(REPLIED)
        deadline = reply_deadline(authorised, first.get(ACCEPTED))
    else:
        return None
    if deadline is None or (answered is None and not awaiting):
        return None
    due = deadline.due
    if answered is not None:
        on = _day(answered)
        state = "met" if on <= due else "missed"
    else:
        on = _day(now)
        state = "running" if on <= due else "late"
    days = CALENDAR.working_days_between(*((on, due) if state == "running" else (due, on)))
    return Statutory(kind, due, deadline.provisional, state, days)


def _first_steps(session: Session, letter_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """When each letter's bank-facing steps first happened on chain (block times), one query."""
    found: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(ChainEventRow.letter_id, ChainEventRow.name, func.min(ChainEventRow.block_timestamp))
        .where(
            ChainEventRow.letter_id.in_(letter_ids),
            ChainEventRow.name.in_((AUTHORISED, ACCEPTED, REJECTED, REPLIED)),
        )
        .group_by(ChainEventRow.letter_id, ChainEventRow.name)
    )
    for letter_id, name, at in rows:
        found.setdefault(str(letter_id), {})[name] = at  # never None: selected by id
    return found


# --- the dashboard -------------------------------------------------------------------------------


def _all_letters(node: Node, session: Session, person: Person) -> list[LetterSummary]:
    """The firm's letters, every page of ``GET /v1/letters``."""
    found: list[LetterSummary] = []
    while True:
        page = letters_api.list_letters(
            node,
            session,
            person.user,
            status=None,
            overdue=None,
            due_before=None,
            due_after=None,
            counterparty=None,
            offset=len(found),
            limit=PAGE_OF_API,
        )
        found += page.items
        if not page.items or len(found) >= page.total:
            return found


def _auditees(node: Node, session: Session, found: Sequence[LetterSummary]) -> dict[str, str]:
    """Each letter's auditee, from the letters stored here."""
    rows = letter_service.letter_rows(session, [x.letter_id for x in found])
    return {
        letter_id: letter_service.stored_letter(node, row).auditee.name if row.letter_sealed else "—"
        for letter_id, row in rows.items()
    }


def _dashboard_row(
    letter: LetterSummary,
    auditees: dict[str, str],
    names: MemberNames,
    t: Callable[..., str],
    statute: Statutory | None,
) -> dict[str, Any]:
    return {
        "letter_id": letter.letter_id,
        "confirmation_no": letter.confirmation_no or f"{letter.letter_id[:10]}…",
        "status": letter.status,
        "returned": letter.returned or "",  # withdrawn by the gateway itself (退回)
        "overdue": "yes" if letter.overdue else "no",
        "due": beijing(letter.due_at),
        "bank": names(letter.bank),
        # Past the bank's statutory reply deadline while awaiting it (not the firm's due time).
        "bank_late": "yes" if statute and statute.late else "no",
        "bank_due": statute.due.isoformat() if statute and statute.state in ("running", "late") else "",
        "bank_late_days": statute.working_days if statute and statute.late else 0,
        "auditee": auditees.get(letter.letter_id, "—"),
        "requested": letter.created_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M"),
        "reply": t("firm.reply_verified") if letter.reply_verified else "",
    }


def _columns(banks: Sequence[str]) -> tuple[Column, ...]:
    return (
        Column("due", "firm.col.due"),
        Column("overdue", "firm.col.overdue", choices=("yes", "no"), choice_label="firm.overdue."),
        Column("status", "firm.col.status", choices=STATUSES, choice_label="letterstatus."),
        Column("bank", "firm.col.bank", choices=tuple(banks)),
        Column("bank_late", "firm.col.bank_late", choices=("yes", "no"), choice_label="firm.bank_late."),
        Column("auditee", "firm.col.auditee"),
        Column("confirmation_no", "firm.col.letter"),
        Column("requested", "firm.col.requested"),
        Column("reply", "firm.col.reply"),
    )


@router.get(f"{FIRM}/letters")
def dashboard(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: AuditorPerson,
    export_as: ExportAs = "",
    partial: bool = False,
) -> Response:
    """The firm's letters by status and deadline; overdue ones first by default."""
    t, names = _t(request), MemberNames(node)
    found = _all_letters(node, session, person)
    auditees = _auditees(node, session, found)
    steps, now = _first_steps(session, [x.letter_id for x in found]), int(time.time())
    rows = [
        _dashboard_row(x, auditees, names, t, statutory(x.status, steps.get(x.letter_id, {}), now))
        for x in found
    ]
    columns = _columns(sorted({row["bank"] for row in rows}))
    view = TableView.of(request, columns, rows, default_sort="due")
    if export_as:
        return export(view, export_as, "letters", t)
    counts = {status: sum(1 for x in found if x.status == status) for status in STATUSES}
    context = {
        "view": view,
        "counts": {status: n for status, n in counts.items() if n},
        "overdue": sum(1 for x in found if x.overdue),
        "bank_late": sum(1 for row in rows if row["bank_late"] == "yes"),
        "total": len(found),
        "awaiting": [row for row in rows if row["status"] in _AWAITING_AUTHORISATION],
        "checked": datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S"),
        "poll_s": POLL_S,
    }
    template = "firm/_letters.html" if partial else "firm/letters.html"
    return render(request, template, context, person=person)


# --- a letter ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value of an entry as the letter states it; with the bank's value when it differs."""

    text: str
    bank: str | None = None  # the bank's value, where a difference names this field


@dataclass
class Row:
    cells: list[Cell]
    differences: list[DifferenceView] = field(default_factory=list)
    bank_only: bool = False  # an entry the bank lists and the letter does not


@dataclass(frozen=True)
class DifferenceView:
    why: str
    field: str | None
    auditor: str | None
    bank: str | None
    note: str | None


@dataclass
class ItemTable:
    key: str
    fields: list[str]  # the entry's fields that any row states
    rows: list[Row]
    status: str | None  # the reply's answer (an ``ItemStatus``), None before a reply
    general: list[DifferenceView]  # differences about no particular entry

    @property
    def exception(self) -> bool:
        return self.status == ItemStatus.EXCEPTION


def _value(t: Callable[..., str], name: str | None, value: Any) -> str:
    """A value in words: coded values translated, amounts grouped by thousands."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, Enum):
        value = value.value
    if name in AMOUNT_FIELDS:  # the schema's money fields: grouped by thousands
        try:
            return f"{Decimal(str(value)):,}"
        except InvalidOperation:  # "not recorded" and the like
            pass
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    text = str(value)
    words = t(f"value.{text}")
    return text if words == f"value.{text}" else words


def _difference(t: Callable[..., str], key: ItemKey, d: Difference) -> DifferenceView:
    stated = d.auditor_value is not None or d.bank_value is not None
    return DifferenceView(
        why=t(f"firm.diff.{d.reason.value}"),
        field=t(f"field.{key.value}.{d.field}") if d.field else None,
        auditor=_value(t, d.field, d.auditor_value) if stated else None,
        bank=_value(t, d.field, d.bank_value) if stated else None,
        note=d.note,
    )


def _fields(entries: Sequence[Entry]) -> list[str]:
    if not entries:
        return []
    names = [name for name in type(entries[0]).model_fields if name != "note"] + ["note"]
    return [n for n in names if any(getattr(e, n) not in (None, False) for e in entries)]


def item_tables(
    t: Callable[..., str], letter: ConfirmationLetter, reply: ConfirmationReply | None
) -> list[ItemTable]:
    """Each item of the letter with entries (or with the bank's answer to show), as a table: the
    letter's entries, each difference the reply states on its row, the entries only the bank lists."""
    answers = dict(reply.items.by_key()) if reply else {}
    tables = []
    for key, item in letter.items.by_key():
        answer = answers.get(key)
        bank_entries = list(answer.entries) if answer else []
        fields = _fields([*item.entries, *bank_entries])
        rows = [Row([Cell(_value(t, n, getattr(e, n))) for n in fields]) for e in item.entries]
        general: list[DifferenceView] = []
        for d in answer.differences if answer else ():
            if d.entry is not None and d.entry < len(rows):
                row = rows[d.entry]
                row.differences.append(_difference(t, key, d))
                if d.field in fields and d.bank_value is not None:
                    at = fields.index(d.field)
                    row.cells[at] = Cell(row.cells[at].text, _value(t, d.field, d.bank_value))
            elif d.reason is not DifferenceReason.NOT_LISTED_BY_AUDITOR or not bank_entries:
                general.append(_difference(t, key, d))
        rows += [
            Row([Cell(_value(t, n, getattr(e, n))) for n in fields], bank_only=True) for e in bank_entries
        ]
        status = answer.status.value if answer else None
        if rows or general or status == ItemStatus.EXCEPTION:
            tables.append(ItemTable(key.value, fields, rows, status, general))
    return tables


@dataclass(frozen=True)
class Step:
    """One step of the letter on chain, as a person reads it."""

    name: str  # the event
    at: str  # Beijing time
    who: str
    block: int
    transaction_hash: str
    detail: str


def _steps(t: Callable[..., str], detail: LetterDetail, names: MemberNames) -> list[Step]:
    steps = []
    for event in detail.history:
        transition = BY_EVENT.get(event.name)
        party = transition.party if transition else None
        if party == "firm":
            who = names(detail.firm)
        elif party == "bank":
            who = names(detail.bank)
        else:
            # The chain names the signer by its id; the firm relayed its authorisation, so it knows it.
            who = t("firm.signer", address=(detail.authorisation or {}).get("signer", "?"))
        reason = event.args.get("reason")
        shown = ""
        if event.name == "LetterRejected" and reason is not None:
            shown = t(f"firm.rejection.{reason}")
        elif event.name == "AuthorisationRefused" and reason is not None:
            shown = t(f"firm.refusal.{reason}")
        steps.append(
            Step(
                event.name,
                beijing(event.block_timestamp),
                who,
                event.block_number,
                event.transaction_hash,
                shown,
            )
        )
    return steps


@router.get(f"{FIRM}/letters/{{letter_id}}")
def letter_page(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: AuditorPerson,
    partial: bool = False,
) -> Response:
    t, names = _t(request), MemberNames(node)
    detail = letters_api.show_letter(letter_id, node, session, person.user)
    reply = reply_error = None
    if detail.has_reply:
        try:
            reply = firm_api.get_reply(letter_id, node, session, person.user).reply
        except (NodeGatewayError, ChainError, ValueError) as exc:
            reply_error = str(exc)
    letter = detail.letter
    tables = item_tables(t, letter, reply) if letter else []
    shown = {table.key for table in tables}
    first: dict[str, int] = {}
    for event in detail.history:
        first.setdefault(event.name, event.block_timestamp)  # the history is in chain order
    context = {
        "detail": detail,
        "letter": letter,
        "reply": reply,
        "reply_error": reply_error,
        "tables": tables,
        "said": reply_words(t, reply) if reply else None,
        "notice": notice_of(node, session, detail.letter_id),
        "wide": WIDE_FIELDS,
        "inapplicable": [key.value for key, item in letter.items.by_key() if key.value not in shown]
        if letter
        else [],
        "steps": _steps(t, detail, names),
        "pending": [s for s in detail.pending_steps if s.state != "done"],
        "bank": names(detail.bank),
        "firm": names(detail.firm),
        "due": beijing(detail.due_at),
        "statutory": statutory(detail.status, first, int(time.time())),
        "words": detail,  # the firm's words to the bank (_firm_words.html)
        "words_delivery": True,
        "beijing_at": beijing,
        "may_follow_up": detail.status in _AWAITING - {PENDING},
        "may_withdraw": detail.status in _AWAITING - {PENDING},
        "may_close": detail.status == "REPLIED"
        and detail.reply_verified
        and reply is not None
        and (not node.settings.firm_review_required or may_review(detail.prepared_by, person.user)),
        # The firm's review (审核) and recall (召回) of a prepared letter; closing is acceptance (验收).
        "may_approve": detail.status == PREPARED and may_review(detail.prepared_by, person.user),
        "may_recall": detail.status == PREPARED and may_recall(detail.prepared_by, person.user),
        # A rejected letter is corrected and sent again as a new letter that names it (``corrects``).
        "may_correct": detail.status == "REJECTED" and letter is not None,
        "corrected_no": confirmation_no_of(session, letter.corrects) if letter and letter.corrects else "",
        "corrections": _corrections(node, session, detail.letter_id) if detail.status == "REJECTED" else [],
        "review_required": node.settings.firm_review_required,
        "poll_s": POLL_S,
    }
    template = "firm/_letter_state.html" if partial else "firm/letter.html"
    return render(request, template, context, person=person)


@router.get(f"{FIRM}/letters/{{letter_id}}/evidence.json")
def evidence(letter_id: LetterId, node: NodeDep, session: SessionDep, person: AuditorPerson) -> Response:
    """The evidence package, as ``GET /v1/letters/{id}/evidence`` gives it."""
    package = firm_api.evidence(letter_id, node, session, person.user)
    name = f"evidence-{letter_id.lower()[2:14]}.json"
    return Response(
        package.model_dump_json(by_alias=True),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def confirmation_no_of(session: Session, letter_id: str) -> str:
    """The 函证编号 of a letter of this gateway's, or its id where it has none."""
    row = letter_service.letter_rows(session, [letter_id]).get(letter_id)
    return (row.confirmation_no if row is not None else None) or letter_id


def _corrections(node: Node, session: Session, rejected: str) -> list[tuple[str, str]]:
    """The letters that correct a rejected one (id, 函证编号): its firm's later letters to its bank
    whose document names it. The documents are sealed, so each of those is opened; only a rejected
    letter's page asks."""
    row = letter_service.letter_row(session, rejected)
    later = session.scalars(
        select(LetterRow).where(
            LetterRow.bank == row.bank,
            LetterRow.created_at >= row.created_at,
            LetterRow.letter_id != row.letter_id,
            LetterRow.letter_sealed.is_not(None),
        )
    )
    return [
        (x.letter_id, x.confirmation_no or x.letter_id)
        for x in later
        if letter_service.stored_letter(node, x).corrects == row.letter_id
    ]


@router.get(f"{FIRM}/letters/{{letter_id}}/letter.pdf")
def letter_pdf(letter_id: LetterId, node: NodeDep, session: SessionDep, person: AuditorPerson) -> Response:
    """The letter's PDF, as ``GET /v1/letters/{id}/letter.pdf`` gives it."""
    return no_store(letters_api.letter_pdf(letter_id, node, session, person.user))


@router.get(f"{FIRM}/letters/{{letter_id}}/reply.pdf")
def reply_pdf(letter_id: LetterId, node: NodeDep, session: SessionDep, person: AuditorPerson) -> Response:
    """The reply's PDF, checked against the chain first, as ``GET /v1/letters/{id}/reply.pdf``."""
    return no_store(letters_api.reply_pdf(letter_id, node, session, person.user))


def _letter_url(letter_id: str) -> str:
    return f"{FIRM}/letters/{letter_id.lower()}"


# A follow-up's message or a withdrawal's reason as typed (the API's model bounds it: 1-500).
Words = Annotated[str, Form(max_length=2000)]
WordsBody = TypeVar("WordsBody", FollowUpIn, WithdrawIn)


def _words_body(make: Callable[[], WordsBody]) -> WordsBody:
    """The API's body made from the form, or its fault as the API's 422."""
    try:
        return make()
    except ValidationError as exc:
        raise InvalidRequest("; ".join(str(error["msg"]) for error in exc.errors())) from exc


@router.post(f"{FIRM}/letters/{{letter_id}}/follow-up")
def follow_up(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: AuditorPerson,
    message: Words = "",
) -> Response:
    body = _words_body(lambda: FollowUpIn(message=message.strip() or None))
    firm_api.follow_up(letter_id, node, session, person.user, body)
    flash(person, _t(request)("firm.done.follow_up"))
    return redirect(_letter_url(letter_id))


@router.post(f"{FIRM}/letters/{{letter_id}}/withdraw")
def withdraw(
    request: Request,
    letter_id: LetterId,
    node: NodeDep,
    session: SessionDep,
    person: AuditorPerson,
    reason_text: Words = "",
) -> Response:
    body = _words_body(lambda: WithdrawIn(reason_text=reason_text.strip() or None))
    firm_api.withdraw(letter_id, node, session, person.user, body)
    flash(person, _t(request)("firm.done.withdraw"))
    return redirect(_letter_url(letter_id))


@router.post(f"{FIRM}/letters/{{letter_id}}/approve")
def approve(
    request: Request, letter_id: LetterId, node: NodeDep, session: SessionDep, person: AuditorPerson
) -> Response:
    firm_api.approve_letters(CloseLetters(letter_ids=[letter_id]), node, session, person.user)
    flash(person, _t(request)("firm.done.approve"))
    return redirect(_letter_url(letter_id))


@router.post(f"{FIRM}/letters/{{letter_id}}/recall")
def recall(
    request: Request, letter_id: LetterId, node: NodeDep, session: SessionDep, person: AuditorPerson
) -> Response:
    firm_api.recall(letter_id, node, session, person.user)
    flash(person, _t(request)("firm.done.recall"))
    return redirect(_letter_url(letter_id))


@router.post(f"{FIRM}/letters/{{letter_id}}/close")
def close(
    request: Request, letter_id: LetterId, node: NodeDep, session: SessionDep, person: AuditorPerson
) -> Response:
    firm_api.close(letter_id, node, session, person.user)
    flash(person, _t(request)("firm.done.close"))
    return redirect(_letter_url(letter_id))


# --- the authorisation request -------------------------------------------------------------------


def request_token(letter_ids: Sequence[str]) -> str:
    """The link's reference to a request: its letters' ids, in order (base64url, unpadded). The
    page behind it checks everything again, so the token grants nothing by itself."""
    raw = b"".join(bytes.fromhex(letter_id.lower().removeprefix("0x")) for letter_id in letter_ids)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token_letters(token: str) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("the link is damaged: ask the auditor for it again") from exc
    if not raw or len(raw) % 32:
        raise InvalidRequest("the link is damaged: ask the auditor for it again")
    return ["0x" + raw[i : i + 32].hex() for i in range(0, len(raw), 32)]


def _bundle_context(bundle: dict[str, Any], names: MemberNames) -> dict[str, Any]:
    message = bundle["typed_data"]["message"]
    letters = [
        {
            "letter_id": x["letter_id"],
            "bank": names(x["bank"]),
            "auditee": x["document"]["auditee"]["name"],
            "reference_date": x["document"]["reference_date"],
        }
        for x in bundle["letters"]
    ]
    return {
        "letters": letters,
        "banks": sorted({x["bank"] for x in letters}),
        "root": message["requestsRoot"],
        "valid_until": beijing(int(message["validUntil"])),
    }


@router.post(f"{FIRM}/authorisations")
def create_request(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: AuditorPerson,
    letter_id: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Creates the request (as ``POST /v1/authorisations/requests``) and shows its link."""
    try:
        body = AuthorisationRequestIn(letter_ids=letter_id or [])
    except ValidationError as exc:
        raise InvalidRequest(_t(request)("firm.auth.none_chosen")) from exc
    bundle = firm_api.authorisation_request(body, node, session, person.user)
    token = request_token(body.letter_ids)
    link = str(request.base_url).rstrip("/") + f"{AUTHORISE}/{token}"
    context = _bundle_context(bundle.model_dump(), MemberNames(node)) | {"link": link}
    return render(request, "firm/authorisation.html", context, person=person, status=201)


@router.get(f"{AUTHORISE}/{{token}}/bundle.json")
def authorise_bundle(token: str, node: NodeDep, session: SessionDep, person: SignerPerson) -> Response:
    """The bundle for ``confirmnet authorise sign`` (as ``POST /v1/authorisations/requests``)."""
    body = AuthorisationRequestIn(letter_ids=token_letters(token))
    bundle = AuthorisationBundle(**letter_service.authorisation_request(node, session, body.letter_ids))
    return Response(
        bundle.model_dump_json(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="bundle-{int(time.time())}.json"',
            "Cache-Control": "no-store",
        },
    )
