"""The regulator's pages, for its analysts: the statistics per bank over a period (with bar charts
drawn as inline SVG), the verification of a letter or a reply with its salt, and the check of the
deployed contracts against this gateway's own network file.

Each calls what the API and the CLI call: ``services.statistics`` (as ``/v1/statistics``),
``chain.verification.verify_document`` (as ``POST /v1/verify``) and ``chain.deployment`` (as
``confirmnet verify contracts``). The regulator sees no letter's data, only the chain's events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.chain.deployment import check_deployment
from node_gateway.chain.errors import ChainError
from node_gateway.chain.verification import verify_document
from node_gateway.errors import InvalidRequest
from node_gateway.plugins import NavLink
from node_gateway.protocol.documents import CHINA_TIME, RejectionReason
from node_gateway.protocol.hashing import from_hex
from node_gateway.services.statistics import BankStatistics, bank_statistics, network_summary, period
from node_gateway.web.pages import PREFIX, MemberNames, PageRoute, language, render, require_page, site
from node_gateway.web.sessions import Person
from node_gateway.web.tables import Column, TableView, export

router = APIRouter(prefix=f"{PREFIX}/regulator", route_class=PageRoute, include_in_schema=False)

AnalystPerson = Annotated[Person, Depends(require_page("analyst"))]
POLL_S = 5
CHART_BARS = 12  # the first banks in the table's order
MAX_DOCUMENT = 1_000_000  # characters of a pasted or uploaded document

NAV = (
    NavLink(f"{PREFIX}/regulator/statistics", "nav.statistics", frozenset({"analyst"})),
    NavLink(f"{PREFIX}/regulator/verify", "nav.verify", frozenset({"analyst"})),
    NavLink(f"{PREFIX}/regulator/contracts", "nav.contracts", frozenset({"analyst"})),
)

_SECONDS = ("median_reply_seconds", "p95_reply_seconds", "median_end_to_end_seconds")
_PERCENT = ("reply_rate", "notice_timeliness")
STATS_COLUMNS = (
    Column("bank", "stats.bank_no", numeric=True),
    Column("bank_name", "stats.bank"),
    Column("letters_received", "stats.received", numeric=True),
    Column("replied", "stats.replied", numeric=True),
    Column("rejected", "stats.rejected", numeric=True),
    Column("awaiting", "stats.awaiting", numeric=True),
    Column("overdue", "stats.overdue", numeric=True),
    Column("replied_late", "stats.replied_late", numeric=True),
    Column("reply_rate", "stats.reply_rate", numeric=True),
    Column("notice_timeliness", "stats.notice_timeliness", numeric=True),
    Column("median_reply_seconds", "stats.median_reply", numeric=True),
    Column("p95_reply_seconds", "stats.p95_reply", numeric=True),
    Column("median_end_to_end_seconds", "stats.median_end_to_end", numeric=True),
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown
    fraction: float  # of the chart's width


@dataclass(frozen=True)
class Chart:
    title: str  # a message key
    bars: Sequence[Bar]


def _t(request: Request) -> Callable[..., str]:
    return site(request).catalogue.translator(language(request))


def duration(seconds: int | None, t: Callable[..., str]) -> str:
    """``seconds`` as a person reads it: the two largest units (3 天 4 小时, 5 分 2 秒)."""
    if seconds is None:
        return "—"
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(t(f"unit.{unit}", n=seconds // size))
            seconds %= size
    return " ".join(parts[:2])


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _row(stats: BankStatistics, names: MemberNames) -> dict[str, Any]:
    row = stats.model_dump(include={column.key for column in STATS_COLUMNS})
    return row | {"bank_name": names(stats.bank)} | {key: _percent(row[key]) for key in _PERCENT}


@dataclass(frozen=True)
class ReasonCount:
    label: str
    count: int
    fraction: float  # of all rejections


def _reasons(counts: dict[str, int], t: Callable[..., str]) -> list[ReasonCount]:
    """The rejections per reason, most first, labelled as the firm's pages label them."""
    total = sum(counts.values()) or 1

    def label(name: str) -> str:
        reason = RejectionReason.__members__.get(name.upper())
        return name if reason is None else t(f"firm.rejection.{reason.value}")

    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [ReasonCount(label(name), n, n / total) for name, n in ordered]


def _charts(rows: Sequence[dict[str, Any]], t: Callable[..., str]) -> list[Chart]:
    shown = rows[:CHART_BARS]

    def chart(title: str, key: str, text: Callable[[Any], str], top: float | None = None) -> Chart:
        values = [float(row[key] or 0) for row in shown]
        scale = top or max(values, default=0) or 1
        bars = [
            Bar(row["bank_name"], value, text(row[key]), min(1.0, value / scale))
            for row, value in zip(shown, values, strict=True)
        ]
        return Chart(title, bars)

    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value}%"

    return [
        chart("stats.reply_rate", "reply_rate", percent, 100),
        chart("stats.notice_timeliness", "notice_timeliness", percent, 100),
        chart("stats.median_reply", "median_reply_seconds", lambda v: duration(v, t)),
        chart("stats.overdue", "overdue", str),
    ]


@router.get("/statistics")
def statistics(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: AnalystPerson,
    from_text: Annotated[str, Query(alias="from", max_length=40)] = "",
    to_text: Annotated[str, Query(alias="to", max_length=40)] = "",
    export_as: Annotated[str, Query(alias="export")] = "",
    partial: bool = False,
) -> Response:
    """Per bank over the letters requested from ``from`` to ``to`` (Beijing dates, both included;
    an empty field leaves its end open, as the form sends it)."""
    first, to = _iso_date(from_text, "from"), _iso_date(to_text, "to")
    if first and to and first > to:
        raise InvalidRequest(f"the period starts ({first}) after it ends ({to})")
    t = _t(request)
    since, until = period(first, to)
    now = int(time.time())
    names = MemberNames(node)
    rows = [_row(s, names) for s in bank_statistics(session, now=now, since=since, until=until)]
    view = TableView.of(request, STATS_COLUMNS, rows, default_sort="letters_received", descending=True)
    view.query |= {k: v.isoformat() for k, v in (("from", first), ("to", to)) if v}
    if export_as:
        return export(view, export_as, "statistics", lambda key, **v: _export_label(t, key))
    summary = network_summary(session, now=now, since=since, until=until)
    context = {
        "view": view,
        "summary": summary,
        "charts": _charts(view.rows, t),
        "reasons": _reasons(summary.rejection_reasons, t),
        "chart_bars": CHART_BARS,
        "duration": lambda seconds: duration(seconds, t),
        "first": first.isoformat() if first else "",
        "to": to.isoformat() if to else "",
        "checked": datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S"),
        "poll_s": POLL_S,
    }
    template = "regulator/_statistics.html" if partial else "regulator/statistics.html"
    return render(request, template, context, person=person)


def _iso_date(text: str, field: str) -> date | None:
    """The ISO date (2026-11-30) typed in ``field``, None if it is empty."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(f"{field}: {text!r} is not a date as year-month-day (2026-11-30)") from None


def _export_label(t: Callable[..., str], key: str) -> str:
    column = next((c for c in STATS_COLUMNS if c.label == key), None)
    unit = "stats.in_seconds" if column and column.key in _SECONDS else ""
    unit = "stats.in_percent" if column and column.key in _PERCENT else unit
    return t(key) + (t(unit) if unit else "")


# --- verify a document ---------------------------------------------------------------------------


@router.get("/verify")
def verify_form(request: Request, person: AnalystPerson) -> Response:
    return render(
        request,
        "regulator/verify.html",
        {"fields": {"kind": "reply"}, "result": None, "error": None},
        person=person,
    )


def _document_and_salt(text: str, salt: str) -> tuple[dict[str, Any], str]:
    """The JSON document; also the wrappers the gateways hand out (``{"reply": …, "salt": …}``,
    ``{"document": …, "salt": …}``), whose salt is used when the form gives none."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(f"the document is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidRequest("the document is not a JSON object")
    inner = next((value[k] for k in ("document", "reply", "letter") if isinstance(value.get(k), dict)), None)
    if inner is not None and "salt" in value:
        return inner, salt or str(value["salt"])
    return value, salt


@router.post("/verify")
async def verify(
    request: Request,
    node: NodeDep,
    person: AnalystPerson,
    kind: Annotated[str, Form()],
    document: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
    salt: Annotated[str, Form(max_length=200)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if kind not in ("letter", "reply"):
        raise InvalidRequest(f"no kind of document {kind!r}: letter or reply")
    if upload is not None and upload.filename:
        document = (await upload.read(MAX_DOCUMENT + 1)).decode("utf-8-sig", errors="replace")
    fields = {"kind": kind, "document": document, "salt": salt}
    error = result = None
    try:
        parsed, salt = _document_and_salt(document.strip(), salt.strip())
        if not salt:
            raise InvalidRequest("the salt is missing")
        try:
            salt_bytes = from_hex(salt)
        except ValueError as exc:
            raise InvalidRequest("the salt is not hex") from exc
        result = verify_document(
            node.network.confirmations,
            node.network.members,
            kind="letter" if kind == "letter" else "reply",
            document_json=parsed,
            salt=salt_bytes,
            from_block=node.network.deployment_block,
        )
    except InvalidRequest as exc:
        error = str(exc)
    recorded_at = (
        datetime.fromtimestamp(result.recorded.block_timestamp, CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")
        if result and result.recorded
        else ""
    )
    context = {"fields": fields, "result": result, "error": error, "recorded_at": recorded_at}
    return render(request, "regulator/verify.html", context, person=person, status=422 if error else 200)


# --- the deployed contracts ----------------------------------------------------------------------


@router.get("/contracts")
def contracts(request: Request, node: NodeDep, person: AnalystPerson) -> Response:
    network = node.network_file
    error = None
    try:
        checks = check_deployment(
            node.w3,
            chain_id=network.chain_id,
            member_registry=network.member_registry,
            confirmation_registry=network.confirmation_registry,
            verifiers=network.verifiers,
        )
    except ChainError as exc:
        checks, error = [], str(exc)
    context = {
        "network": network,
        "checks": checks,
        "ok": bool(checks) and all(c.ok for c in checks) and checks[-1].name == "registry_link",
        "error": error,
        "checked": datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S"),
        "command": f"confirmnet verify contracts --rpc {network.rpc_url} --network network.json",
    }
    return render(request, "regulator/contracts.html", context, person=person)
