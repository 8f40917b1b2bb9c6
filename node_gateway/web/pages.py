"""What every page shares: the templates, the frame's figures (who this gateway is, the chain it
follows and whether it is in sync), who is signed in, the CSRF check, and errors as pages.

A page route is a ``PageRoute``: the package's errors become a page with their stable code and
the API's HTTP status (``api.errors.classify``); a page asked for without a session redirects to
the sign-in (htmx requests and form posts hear 401). Its dependency ``require_page(*roles)`` lets
through the user roles of the API (``core.security.USER_ROLES``; admin holds them all) and, for
any method but GET and HEAD, only with the session's CSRF token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from node_gateway.api.deps import SessionDep, get_node
from node_gateway.api.errors import classify
from node_gateway.chain.errors import ChainError
from node_gateway.core.security import USER_ROLES
from node_gateway.errors import Forbidden, NodeGatewayError, NotAuthenticated
from node_gateway.node import Node
from node_gateway.plugins import NavLink
from node_gateway.storage.models import IndexerCursor
from node_gateway.web import sessions
from node_gateway.web.i18n import Catalogue
from node_gateway.web.sessions import Person

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PREFIX = "/web"
LANG_COOKIE = "cn_lang"
# The indexer may trail the chain's head by this many blocks and still be "in sync".
SYNC_SLACK = 2


@dataclass
class MemberNames:
    """Members' names from the chain's registry, each read once per page; a member the registry
    cannot name (the node unreachable, say) is shown by its number."""

    node: Node
    known: dict[int, str] = field(default_factory=dict)

    def __call__(self, member_id: int) -> str:
        if member_id not in self.known:
            try:
                self.known[member_id] = self.node.member(member_id).display_name
            except (NodeGatewayError, ChainError, OSError, ValueError):
                self.known[member_id] = f"#{member_id}"
        return self.known[member_id]


@dataclass(frozen=True)
class Site:
    """The pages of one gateway: templates, messages and menu (the core's and its plugins')."""

    templates: Jinja2Templates
    catalogue: Catalogue
    nav: Sequence[NavLink]


def make_site(
    extra_templates: Sequence[Path], messages: Sequence[Mapping[str, tuple[str, str]]], nav: Sequence[NavLink]
) -> Site:
    loader = jinja2.FileSystemLoader([TEMPLATES, *extra_templates])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    return Site(Jinja2Templates(env=env), Catalogue(messages), tuple(nav))


def site(request: Request) -> Site:
    result: Site = request.app.state.web
    return result


def language(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


# --- the frame: identity and chain ---------------------------------------------------------------


@dataclass(frozen=True)
class ChainState:
    chain_id: int
    head: int | None  # None: the chain node does not answer
    indexed: int | None  # the last block the indexer has read

    @property
    def sync(self) -> str:
        """ "in_sync", "behind" (the indexer trails the head) or "unreachable"."""
        if self.head is None:
            return "unreachable"
        if self.indexed is None or self.head - self.indexed > SYNC_SLACK:
            return "behind"
        return "in_sync"

    @property
    def lag(self) -> int:
        return 0 if self.head is None else self.head - (self.indexed or 0)


def chain_state(node: Node, session: Session) -> ChainState:
    try:
        head: int | None = node.w3.eth.block_number
    except (ChainError, OSError, ValueError):
        head = None
    cursor = session.get(IndexerCursor, "events")
    return ChainState(node.network_file.chain_id, head, cursor.next_block - 1 if cursor else None)


def member_id_or_none(node: Node) -> int | None:
    try:
        return node.member_id() if node.is_member() else None
    except (NodeGatewayError, ChainError, OSError, ValueError):
        return None


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    person: Person | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page (or a partial) with the frame's figures and the translator ``t``."""
    node = get_node(request)
    web, lang = site(request), language(request)
    with node.db.session() as session:
        chain = chain_state(node, session)
    roles = person.user.roles if person else frozenset()
    full: dict[str, Any] = {
        "request": request,
        "t": web.catalogue.translator(lang),
        "lang": lang,
        "node": node,
        "member_id": member_id_or_none(node),
        "chain": chain,
        "person": person,
        "csrf_token": person.csrf_token if person else "",
        "nav": [link for link in web.nav if person and (roles & link.roles or "admin" in roles)],
        "prefix": PREFIX,
        "path": request.url.path,
        **(context or {}),
    }
    response = web.templates.TemplateResponse(request, template, full, status_code=status, headers=headers)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- who is signed in ----------------------------------------------------------------------------


def _csrf_given(request: Request, form: Mapping[str, Any]) -> str | None:
    given = form.get(sessions.CSRF_FIELD) or request.headers.get(sessions.CSRF_HEADER)
    return given if isinstance(given, str) else None


async def _person(request: Request, session: Session, allowed_pending: frozenset[str | None]) -> Person:
    person = sessions.load(session, request.cookies.get(sessions.COOKIE))
    if person is None:
        raise NotAuthenticated("sign in first")
    if person.row.pending not in allowed_pending:
        raise NotAuthenticated(f"finish signing in first ({person.row.pending})")
    if request.method not in ("GET", "HEAD"):
        form = await request.form()
        if not sessions.tokens_match(person.csrf_token, _csrf_given(request, form)):
            raise Forbidden("the form's CSRF token is missing or wrong: reload the page and try again")
    elif "HX-Request" not in request.headers and person.row.flash:
        person.flash, person.row.flash = person.row.flash, None
    return person


def signed_in_with(*pending: str | None) -> Callable[[Request, Session], Coroutine[Any, Any, Person]]:
    """A dependency: the person of this session, while its sign-in is at one of ``pending``."""
    allowed = frozenset(pending)

    async def dependency(request: Request, session: SessionDep) -> Person:
        return await _person(request, session, allowed)

    return dependency


def require_page(*roles: str) -> Callable[[Request, Session], Coroutine[Any, Any, Person]]:
    """A dependency: a person fully signed in, holding one of ``roles`` (or admin); none for any
    signed-in person."""
    known = set().union(*USER_ROLES.values())
    if not known.issuperset(roles):
        raise ValueError(f"unknown roles {sorted(set(roles) - known)}")

    async def dependency(request: Request, session: SessionDep) -> Person:
        person = await _person(request, session, frozenset({None}))
        if roles and not any(person.user.has(role) for role in roles):
            raise Forbidden(f"user {person.user.name!r} lacks the role {' or '.join(map(repr, roles))}")
        return person

    return dependency


SignedIn = Annotated[Person, Depends(require_page())]


def flash(person: Person, message: str) -> None:
    """A message for the next page this person sees."""
    person.row.flash = message


def no_store(response: Response) -> Response:
    """A download of a letter's data, kept out of shared caches as every page is."""
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- errors as pages -----------------------------------------------------------------------------


def error_page(request: Request, status: int, code: str, message: str, details: Any = None) -> Response:
    if status == 401 and request.method in ("GET", "HEAD") and "HX-Request" not in request.headers:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PREFIX}/sign-in?next={quote(target, safe='')}")
    context = {"status": status, "code": code, "message": message, "details": details}
    return render(request, "error.html", context, status=status)


class PageRoute(APIRoute):
    """A page: its errors are pages too (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except NodeGatewayError as exc:
                status, code, details = classify(exc)
                if status == 500:
                    log.error("%s: %s", type(exc).__name__, exc, exc_info=exc)
                return error_page(request, status, code, str(exc), details)
            except RequestValidationError as exc:
                details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
                return error_page(request, 422, "invalid_request", "the form is incomplete or wrong", details)
            except HTTPException as exc:
                return error_page(request, exc.status_code, "http_error", str(exc.detail))

        return handle
