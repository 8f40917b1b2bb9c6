"""The consortium operator's pages: the members (as the registry holds them now), a member's page
with suspend / reinstate / revoke, the admission form, and the network's health.

The changes are ``services.membership``'s, as the API's; they are queued for the chain, so the
pages poll their own partials (htmx, every ``POLL_S``) and show them once the chain has them.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from sqlalchemy import func, select

from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.chain.contracts import Member, MemberStatus, Role
from node_gateway.core.config import MemberRole
from node_gateway.errors import InvalidRequest, NotFound
from node_gateway.node import Node
from node_gateway.peer.endpoints import check_endpoint
from node_gateway.plugins import NavLink
from node_gateway.protocol.documents import CHINA_TIME
from node_gateway.protocol.hashing import to_hex
from node_gateway.services import membership
from node_gateway.services.membership import CHANGES, Admission
from node_gateway.services.outbox import stuck_steps
from node_gateway.storage.models import OutboxDelivery, OutboxTransaction
from node_gateway.web.pages import PREFIX, PageRoute, flash, language, redirect, render, require_page, site
from node_gateway.web.sessions import Person
from node_gateway.web.tables import Column, TableView, export

router = APIRouter(prefix=f"{PREFIX}/operator", route_class=PageRoute, include_in_schema=False)

OperatorPerson = Annotated[Person, Depends(require_page("operator"))]
ExportAs = Annotated[str, Query(alias="export")]
POLL_S = 5
HEALTH_TIMEOUT_S = 2.0
_ROLES = ("operator", "audit_firm", "bank", "regulator")
_STATUSES = ("active", "suspended", "revoked")

NAV = (
    NavLink(f"{PREFIX}/operator/members", "nav.members", frozenset({"operator"})),
    NavLink(f"{PREFIX}/operator/health", "nav.health", frozenset({"operator"})),
)

MEMBER_COLUMNS = (
    Column("member_id", "members.id", numeric=True),
    Column("display_name", "members.name"),
    Column("role", "members.role", choices=_ROLES, choice_label="role."),
    Column("status", "members.status", choices=_STATUSES, choice_label="status."),
    Column("account", "members.account"),
    Column("endpoint", "members.endpoint"),
)

HEALTH_COLUMNS = (
    Column("member_id", "members.id", numeric=True),
    Column("display_name", "members.name"),
    Column("role", "members.role", choices=_ROLES, choice_label="role."),
    Column("endpoint", "members.endpoint"),
    Column(
        "reach",
        "health.reachable",
        choices=("ok", "degraded", "unreachable", "no_endpoint"),
        choice_label="health.",
    ),
    Column("latency_ms", "health.latency", numeric=True),
    Column("chain_block", "frame.head", numeric=True),
    Column("indexed_to_block", "frame.indexed", numeric=True),
    Column("pending_transactions", "health.outbox", numeric=True),
)


def _members(node: Node) -> list[Member]:
    count = node.network.members.member_count()
    return [node.member(member_id, fresh=True) for member_id in range(1, count + 1)]


def _member_row(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.member_id,
        "display_name": member.display_name,
        "role": member.role.name.lower(),
        "status": member.status.name.lower(),
        "account": member.account,
        "endpoint": member.endpoint,
    }


def _t(request: Request) -> Any:
    return site(request).catalogue.translator(language(request))


@router.get("/members")
def members(
    request: Request, node: NodeDep, person: OperatorPerson, export_as: ExportAs = "", partial: bool = False
) -> Response:
    view = TableView.of(
        request, MEMBER_COLUMNS, [_member_row(m) for m in _members(node)], default_sort="member_id"
    )
    if export_as:
        return export(view, export_as, "members", _t(request))
    template = "operator/_members_table.html" if partial else "operator/members.html"
    return render(request, template, {"view": view, "poll_s": POLL_S}, person=person)


@router.get("/members/admit")
def admit_form(request: Request, node: NodeDep, person: OperatorPerson, endpoint: str = "") -> Response:
    fields: dict[str, str] = {"endpoint": endpoint}
    error = fetched = None
    if endpoint:
        try:
            fields.update(_identity_of(node, endpoint))
            fetched = endpoint
        except InvalidRequest as exc:
            error = str(exc)
    context = {"fields": fields, "error": error, "fetched": fetched, "roles": _ROLES[1:]}
    return render(request, "operator/admit.html", context, person=person, status=422 if error else 200)


def _identity_of(node: Node, endpoint: str) -> dict[str, str]:
    """What a gateway says of itself (``/v1/identity``, public), to fill in the admission form."""
    check_endpoint(endpoint, node.network_file.peer_endpoints, resolve=None)
    try:
        response = httpx.get(endpoint.rstrip("/") + "/v1/identity", timeout=HEALTH_TIMEOUT_S * 2)
        response.raise_for_status()
        identity = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidRequest(f"{endpoint} does not tell its identity: {exc}") from exc
    return {
        key: str(identity.get(key) or "")
        for key in ("account", "role", "registration_code", "display_name", "endpoint", "encryption_keys")
    }


@router.post("/members/admit")
def admit(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: OperatorPerson,
    account: Annotated[str, Form(max_length=42)],
    role: Annotated[str, Form()],
    registration_code: Annotated[str, Form(max_length=18)],
    display_name: Annotated[str, Form(min_length=1, max_length=200)],
    endpoint: Annotated[str, Form(max_length=500)] = "",
    encryption_keys: Annotated[str, Form(max_length=20000)] = "0x",
) -> Response:
    if role not in _ROLES:
        raise InvalidRequest(f"no kind of member {role!r}")
    admission = Admission(
        account=account.strip(),
        role=MemberRole(role),
        registration_code=registration_code.strip(),
        display_name=display_name.strip(),
        endpoint=endpoint.strip(),
        encryption_keys=encryption_keys.strip() or "0x",
    )
    queued = membership.admit(node, session, admission)
    flash(person, _t(request)("action.queued", what=queued))
    return redirect(f"{PREFIX}/operator/members")


@router.get("/members/{member_id}")
def member_page(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: OperatorPerson,
    member_id: int,
    partial: bool = False,
) -> Response:
    if not 0 < member_id <= node.network.members.member_count():
        raise NotFound(f"no member {member_id}")
    member = node.member(member_id, fresh=True)
    queued = membership.status_after_queued(session, member_id)
    current = queued or member.status
    actions = [step for step, (allowed, _) in CHANGES.items() if current in allowed]
    context = {
        "member": _member_row(member),
        "org_id": to_hex(member.org_id),
        "keys_length": len(member.encryption_keys),
        "queued": queued.name.lower() if queued else None,
        "actions": [] if member.role is Role.OPERATOR else actions,
        "is_operator": member.role is Role.OPERATOR,
        "poll_s": POLL_S,
    }
    template = "operator/_member_state.html" if partial else "operator/member.html"
    return render(request, template, context, person=person)


@router.post("/members/{member_id}/{step}")
def change_status(
    request: Request, node: NodeDep, session: SessionDep, person: OperatorPerson, member_id: int, step: str
) -> Response:
    if step not in CHANGES:
        raise InvalidRequest(f"no such change {step!r}: one of {', '.join(CHANGES)}")
    queued = membership.change_status(node, session, member_id, step)
    flash(person, _t(request)("action.queued", what=queued))
    return redirect(f"{PREFIX}/operator/members/{member_id}")


# --- health --------------------------------------------------------------------------------------


def _probe(member: Member) -> dict[str, Any]:
    row: dict[str, Any] = {
        "member_id": member.member_id,
        "display_name": member.display_name,
        "role": member.role.name.lower(),
        "endpoint": member.endpoint,
        "reach": "no_endpoint",
        "latency_ms": None,
        "chain_block": None,
        "indexed_to_block": None,
        "pending_transactions": None,
    }
    if not member.endpoint or member.status is MemberStatus.REVOKED:
        return row
    started = time.perf_counter()
    try:
        response = httpx.get(member.endpoint.rstrip("/") + "/health", timeout=HEALTH_TIMEOUT_S)
        health = response.json()
    except (httpx.HTTPError, ValueError):
        row["reach"] = "unreachable"
        return row
    row["latency_ms"] = round((time.perf_counter() - started) * 1000)
    row["reach"] = "ok" if response.status_code == 200 and health.get("status") == "ok" else "degraded"
    for key in ("chain_block", "indexed_to_block", "pending_transactions"):
        row[key] = health.get(key)
    return row


def _health_rows(node: Node) -> list[dict[str, Any]]:
    members = _members(node)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(members)))) as pool:
        return list(pool.map(_probe, members))


def _this_gateway(session: SessionDep) -> dict[str, int]:
    def count(model: Any, state: str) -> int:
        return session.scalar(select(func.count()).where(model.state == state)) or 0

    return {
        "pending_transactions": count(OutboxTransaction, "pending"),
        "failed_transactions": count(OutboxTransaction, "failed"),
        "stuck_transactions": stuck_steps(session),
        "pending_deliveries": count(OutboxDelivery, "pending"),
    }


@router.get("/health")
def health(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: OperatorPerson,
    export_as: ExportAs = "",
    partial: str = "",
) -> Response:
    """The page; its polled parts: ``partial=this`` (this gateway) and ``partial=table`` (the members')."""
    if partial == "this":
        return render(request, "operator/_health_this.html", {"this": _this_gateway(session)}, person=person)
    view = TableView.of(request, HEALTH_COLUMNS, _health_rows(node), default_sort="member_id")
    if export_as:
        return export(view, export_as, "health", _t(request))
    context = {
        "view": view,
        "this": _this_gateway(session),
        "checked": datetime.now(CHINA_TIME).strftime("%H:%M:%S"),  # Beijing time, as every date here
        "poll_s": POLL_S,
    }
    template = "operator/_health.html" if partial == "table" else "operator/health.html"
    return render(request, template, context, person=person)
