"""Signing in and out, the language, a person's own password and TOTP second factor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.core import security
from node_gateway.errors import Forbidden, InvalidRequest, NotAuthenticated, TooManyAttempts
from node_gateway.web import sessions
from node_gateway.web.pages import (
    LANG_COOKIE,
    PREFIX,
    PageRoute,
    SignedIn,
    flash,
    language,
    redirect,
    render,
    signed_in_with,
    site,
)
from node_gateway.web.sessions import PENDING_PASSWORD, PENDING_TOTP, Person
from node_gateway.web.sign_in_limit import SignInLimit, default_limit

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)

AtTotp = Annotated[Person, Depends(signed_in_with(PENDING_TOTP))]
AtPassword = Annotated[Person, Depends(signed_in_with(PENDING_PASSWORD, None))]
LimitDep = Annotated[SignInLimit, Depends(default_limit)]


def _secure(request: Request) -> bool:
    from node_gateway.api.deps import get_node

    return get_node(request).settings.effective_public_url.startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=_secure(request)
    )


def _safe_next(target: str | None) -> str:
    """Only a path of this gateway's pages (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refusal(request: Request, exc: TooManyAttempts) -> tuple[dict[str, str], dict[str, str]]:
    """The page's words for a refusal by the sign-in limit (with its code), and its headers."""
    t = site(request).catalogue.translator(language(request))
    seconds = exc.retry_after
    wait = t("wait.minutes", n=-(-seconds // 60)) if seconds >= 60 else t("wait.seconds", n=seconds)
    words = {"error": t("sign_in.too_many", wait=wait), "error_code": exc.code}
    return words, {"Retry-After": str(seconds)}


def _sign_in_page(
    request: Request,
    next_path: str,
    error: Mapping[str, str] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    token = sessions.new_sign_in_token()
    context = {"next": next_path, "error": None, "error_code": None, "sign_in_token": token, **(error or {})}
    response = render(request, "sign_in.html", context, status=status, headers=headers)
    set_cookie(request, response, sessions.SIGN_IN_COOKIE, token, max_age=3600)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return _sign_in_page(request, _safe_next(next))


@router.post("/sign-in")
def sign_in(
    request: Request,
    session: SessionDep,
    limit: LimitDep,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    if not sessions.tokens_match(request.cookies.get(sessions.SIGN_IN_COOKIE), csrf_token):
        raise Forbidden("the sign-in form's CSRF token is missing or wrong: reload the page")
    name, address = name.strip(), _client_address(request)
    try:
        limit.check(session, name, address)
        checked = security.check_password(session, name, password)
    except TooManyAttempts as exc:
        words, headers = _refusal(request, exc)
        return _sign_in_page(request, _safe_next(next), words, status=429, headers=headers)
    except NotAuthenticated:
        limit.failed(session, name, address)
        t = site(request).catalogue.translator(language(request))
        return _sign_in_page(request, _safe_next(next), {"error": t("sign_in.failed")}, status=401)
    pending = (
        PENDING_TOTP if checked.needs_totp else PENDING_PASSWORD if checked.must_change_password else None
    )
    if pending != PENDING_TOTP:  # with TOTP, its code is still to come: the failures stay counted
        limit.succeeded(session, name)
    token = sessions.start(session, checked.user, pending)
    target = {
        PENDING_TOTP: f"{PREFIX}/sign-in/totp",
        PENDING_PASSWORD: f"{PREFIX}/account/password",
        None: _safe_next(next),
    }[pending]
    response = redirect(target)
    set_cookie(request, response, sessions.COOKIE, token, max_age=int(sessions.LIFETIME.total_seconds()))
    response.delete_cookie(sessions.SIGN_IN_COOKIE, path="/")
    return response


@router.get("/sign-in/totp")
def totp_form(request: Request, person: AtTotp) -> Response:
    return render(request, "totp.html", {"error": None, "error_code": None}, person=person)


@router.post("/sign-in/totp")
def totp(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    limit: LimitDep,
    person: AtTotp,
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    name, address = person.user.name, _client_address(request)
    try:
        limit.check(session, name, address)
        security.check_totp(session, node.keys.storage_key, person.user.id, code)
    except TooManyAttempts as exc:
        words, headers = _refusal(request, exc)
        return render(request, "totp.html", words, person=person, status=429, headers=headers)
    except NotAuthenticated:
        limit.failed(session, name, address)
        t = site(request).catalogue.translator(language(request))
        context = {"error": t("totp.failed"), "error_code": None}
        return render(request, "totp.html", context, person=person, status=401)
    limit.succeeded(session, name)
    one_time = security.user_info(session, person.user.id).password_one_time
    person.row.pending = PENDING_PASSWORD if one_time else None
    return redirect(f"{PREFIX}/account/password" if one_time else f"{PREFIX}/")


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep, _: AtPassword) -> Response:
    sessions.end(session, request.cookies.get(sessions.COOKIE))
    response = redirect(f"{PREFIX}/sign-in")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def choose_language(request: Request, lang: str, next: str | None = None) -> RedirectResponse:
    target = next if next and (next.startswith(PREFIX + "/") or next == "/docs") else PREFIX + "/"
    response = redirect(_safe_next(target) if target != "/docs" else target)
    set_cookie(request, response, LANG_COOKIE, "en" if lang == "en" else "zh", max_age=365 * 86400)
    return response


@router.get("/account/password")
def password_form(request: Request, person: AtPassword) -> Response:
    return render(request, "password.html", {"error": None}, person=person)


@router.post("/account/password")
def change_password(
    request: Request,
    session: SessionDep,
    person: AtPassword,
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
    repeat: Annotated[str, Form(max_length=1000)],
) -> Response:
    t = site(request).catalogue.translator(language(request))
    try:
        if new != repeat:
            raise InvalidRequest(t("password.mismatch"))
        security.change_password(session, person.user.id, current, new)
    except InvalidRequest as exc:
        return render(request, "password.html", {"error": str(exc)}, person=person, status=422)
    person.row.pending = None
    flash(person, t("password.changed"))
    return redirect(f"{PREFIX}/account")


@router.get("/account")
def account(request: Request, session: SessionDep, person: SignedIn) -> Response:
    info = security.user_info(session, person.user.id)
    return render(request, "account.html", {"info": info, "enrol": None, "error": None}, person=person)


@router.post("/account/totp/start")
def totp_start(request: Request, node: NodeDep, session: SessionDep, person: SignedIn) -> Response:
    return _enrol_page(request, node, session, person, security.new_totp_secret(), None)


def _enrol_page(
    request: Request, node: NodeDep, session: SessionDep, person: Person, secret: str, error: str | None
) -> Response:
    uri = security.totp_uri(secret, person.user.name, f"confirmnet {node.settings.display_name}")
    context = {"info": security.user_info(session, person.user.id), "enrol": {"secret": secret, "uri": uri}}
    return render(
        request, "account.html", {**context, "error": error}, person=person, status=422 if error else 200
    )


@router.post("/account/totp/confirm")
def totp_confirm(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: SignedIn,
    secret: Annotated[str, Form(max_length=64)],
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    try:
        security.enrol_totp(session, node.keys.storage_key, person.user.id, secret, code)
    except InvalidRequest as exc:
        return _enrol_page(request, node, session, person, secret, str(exc))
    flash(person, site(request).catalogue.translator(language(request))("account.totp_enabled"))
    return redirect(f"{PREFIX}/account")
