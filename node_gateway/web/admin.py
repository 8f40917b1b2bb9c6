"""The admin's page of the member's users: list them, add one with roles and a one-time password,
reset a password, turn a lost TOTP off, revoke (the same ``core.security`` as ``/v1/users``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.core import security
from node_gateway.core.security import ADMIN, USER_ROLES
from node_gateway.web.pages import PREFIX, PageRoute, flash, language, redirect, render, require_page, site
from node_gateway.web.sessions import Person
from node_gateway.web.tables import Column, TableView, export

router = APIRouter(prefix=f"{PREFIX}/admin", route_class=PageRoute, include_in_schema=False)

AdminPerson = Annotated[Person, Depends(require_page(ADMIN))]

COLUMNS = (
    Column("name", "users.name"),
    Column("roles", "users.roles"),
    Column("password", "users.password", choices=("yes", "one_time", "no"), choice_label="users.password_"),
    Column("totp", "users.totp"),
    Column("created", "users.created"),
    Column("state", "users.state", choices=("active", "revoked"), choice_label="users."),
)


def _rows(session: SessionDep) -> list[dict[str, object]]:
    return [
        {
            "name": info.name,
            "roles": " ".join(sorted(info.roles)),
            "password": "one_time" if info.password_one_time else "yes" if info.has_password else "no",
            "totp": "✓" if info.has_totp else "",
            "created": info.created_at.strftime("%Y-%m-%d %H:%M"),
            "state": "revoked" if info.revoked else "active",
        }
        for info in security.list_users(session)
    ]


def _page(
    request: Request, node: NodeDep, session: SessionDep, person: Person, shown: dict[str, str] | None = None
) -> Response:
    view = TableView.of(request, COLUMNS, _rows(session), default_sort="name")
    roles = sorted(USER_ROLES[node.role])
    return render(request, "admin/users.html", {"view": view, "roles": roles, "shown": shown}, person=person)


@router.get("/users")
def users(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: AdminPerson,
    export_as: Annotated[str, Query(alias="export")] = "",
) -> Response:
    if export_as:
        view = TableView.of(request, COLUMNS, _rows(session), default_sort="name")
        return export(view, export_as, "users", site(request).catalogue.translator(language(request)))
    return _page(request, node, session, person)


@router.post("/users")
def add_user(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: AdminPerson,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    roles: Annotated[list[str], Form()],
) -> Response:
    password = security.one_time_password()
    key = security.create_user(session, node.role, name.strip(), set(roles), password=password)
    session.flush()
    shown = {"kind": "created", "name": name.strip(), "password": password, "api_key": key}
    return _page(request, node, session, person, shown)


@router.post("/users/{name}/password")
def reset_password(
    request: Request, node: NodeDep, session: SessionDep, person: AdminPerson, name: str
) -> Response:
    password = security.one_time_password()
    security.set_password(session, name, password, one_time=True)
    session.flush()
    return _page(request, node, session, person, {"kind": "reset", "name": name, "password": password})


@router.post("/users/{name}/totp/remove")
def remove_totp(request: Request, session: SessionDep, person: AdminPerson, name: str) -> Response:
    security.remove_totp(session, name)
    flash(person, site(request).catalogue.translator(language(request))("users.totp_removed", name=name))
    return redirect(f"{PREFIX}/admin/users")


@router.post("/users/{name}/revoke")
def revoke(request: Request, session: SessionDep, person: AdminPerson, name: str) -> Response:
    security.revoke_user(session, name)
    flash(person, site(request).catalogue.translator(language(request))("users.revoked_done", name=name))
    return redirect(f"{PREFIX}/admin/users")
