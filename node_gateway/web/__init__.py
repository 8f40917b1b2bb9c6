"""The gateway's web pages, for the member's people: server-rendered (Jinja2), a little htmx, every
asset served by the gateway itself (banks run these on closed networks).

- ``pages``: the frame (identity, chain, sync state), who is signed in, CSRF, errors as pages;
- ``sessions``: server-side sessions in the gateway's database;
- ``account``: sign-in (password, then TOTP when the user has it), sign-out, language, one's own
  password and TOTP;
- ``admin``: the member's users (admins); ``operator``: the consortium operator's pages;
  ``regulator``: the regulator's (statistics, document verification, the contracts' check);
  ``firm``: the audit firm's (its letters, a letter with its reply and timeline, authorisation
  requests); ``firm_compose``: the firm's letter composer and bulk upload;
- ``tables``: filter, sort, page, export; ``i18n``: the messages in Chinese and English.

``install`` mounts them on an application: the core's pages, those of the member's role, and those
the plugins serving the role add (``plugins.Pages``); and ``/docs``, Swagger UI from the gateway's
own copy (``static/vendor``, ``make web-assets``). docs/WEB.md says more.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from node_gateway.core.config import MemberRole
from node_gateway.plugins import GatewayPlugin, NavLink
from node_gateway.web import account, admin, firm, firm_compose, operator, regulator, signing
from node_gateway.web.pages import PREFIX, STATIC, PageRoute, SignedIn, make_site, redirect, render

VENDOR = f"{PREFIX}/static/vendor"

_ROLE_PAGES: dict[MemberRole, tuple[Sequence[APIRouter], Sequence[NavLink]]] = {
    MemberRole.OPERATOR: ((operator.router,), operator.NAV),
    MemberRole.REGULATOR: ((regulator.router,), regulator.NAV),
    MemberRole.AUDIT_FIRM: (
        (firm.router, firm_compose.router, signing.router),
        (*firm.NAV, *firm_compose.NAV),
    ),
}
_CORE_NAV = (NavLink(f"{PREFIX}/admin/users", "nav.users", frozenset({"admin"})),)

frame = APIRouter(route_class=PageRoute, include_in_schema=False)


@frame.get("/")
def root() -> Response:
    return redirect(f"{PREFIX}/")


@frame.get(f"{PREFIX}/")
def home(request: Request, person: SignedIn) -> Response:
    """The first page of the menu this person may see; a page saying what comes when none."""
    web = request.app.state.web
    roles = person.user.roles
    for link in web.nav:
        if link.path != f"{PREFIX}/admin/users" and (roles & link.roles or "admin" in roles):
            return redirect(link.path)
    return render(request, "home.html", person=person)


@frame.get(f"{PREFIX}/status")
def status(request: Request) -> Response:
    """The frame's chain and sync figures (polled by every page)."""
    return render(request, "_status.html")


def _docs(request: Request) -> Response:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} — API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from validator.swagger.io
    )


def install(app: FastAPI, role: MemberRole, plugins: Sequence[GatewayPlugin]) -> None:
    """Mounts the pages of ``role`` and of ``plugins`` (those serving it), and ``/docs``, on ``app``
    (created with ``docs_url=None``)."""
    routers, nav = _ROLE_PAGES.get(role, ((), ()))
    offered = [(plugin.name, pages) for plugin in plugins if (pages := plugin.pages()) is not None]
    app.state.web = make_site(
        [pages.templates for _, pages in offered if pages.templates],
        [pages.messages for _, pages in offered],
        [*nav, *(link for _, pages in offered for link in pages.nav), *_CORE_NAV],
    )
    for name, pages in offered:  # before the core's static files, which would take their paths
        if pages.static is not None:
            app.mount(
                f"{PREFIX}/static/{name}", StaticFiles(directory=pages.static), name=f"web-static-{name}"
            )
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_api_route("/docs", _docs, methods=["GET"], include_in_schema=False)
    for router in (
        frame,
        account.router,
        admin.router,
        *routers,
        *(r for _, p in offered for r in p.routers),
    ):
        app.include_router(router)
