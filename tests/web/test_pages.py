"""The pages without a browser: sign-in, sessions, CSRF, roles, TOTP, the admin's users, the
operator's pages and /docs, on an operator's gateway over the in-process chain (no workers run:
a queued change stays queued)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
from gateway.api_apps import Gateway, client, gateway

from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.storage.models import UserRow

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def operator(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    built = gateway(in_process.deploy(), MemberRole.OPERATOR, tmp_path_factory.mktemp("web"))
    with built.node.db.session() as session:
        for name, roles in (("ops", {"operator"}), ("root", {"admin"}), ("newcomer", {"operator"})):
            create_user(session, MemberRole.OPERATOR, name, roles, password=PASSWORD)
        for name in ("ops", "root"):
            set_password(session, name, PASSWORD, one_time=False)
        key_only = session.query(UserRow).filter_by(name="user-operator").one()
        assert key_only.password_hash is None
    yield built
    built.node.db.dispose()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(gw: Gateway, name: str, password: str = PASSWORD) -> TestClient:
    http = client(gw.app)
    form = http.get("/web/sign-in")
    response = http.post(
        "/web/sign-in",
        data={"name": name, "password": password, "csrf_token": _csrf(form.text), "next": "/web/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return http


def page_csrf(http: TestClient, path: str) -> str:
    page = http.get(path)
    assert page.status_code == 200, page.text
    return _csrf(page.text)


def test_a_page_without_a_session_redirects_to_the_sign_in(operator: Gateway) -> None:
    response = client(operator.app).get("/web/operator/members?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/web/sign-in?next=%2Fweb%2Foperator%2Fmembers%3Fq%3Dx"
    partial = client(operator.app).get("/web/operator/members?partial=1", headers={"HX-Request": "true"})
    assert partial.status_code == 401
    assert "not_authenticated" in partial.text


def test_sign_in_sets_a_strict_http_only_cookie_and_shows_the_frame(operator: Gateway) -> None:
    http = client(operator.app)
    form = http.get("/web/sign-in")
    response = http.post(
        "/web/sign-in",
        data={"name": "ops", "password": PASSWORD, "csrf_token": _csrf(form.text), "next": "/web/"},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "cn_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # the test gateway's public URL is http
    page = http.get("/web/operator/members")
    assert page.status_code == 200
    assert operator.node.settings.display_name in page.text
    assert f"<strong>{operator.node.network_file.chain_id}</strong>" in page.text
    assert 'data-testid="sync"' in page.text
    assert "联盟成员" in page.text  # Chinese first
    http.get("/web/lang/en?next=/web/operator/members")
    assert "Members of the consortium" in http.get("/web/operator/members").text


def test_a_wrong_password_or_name_is_refused_alike(operator: Gateway) -> None:
    http = client(operator.app)
    for name, password in (("ops", "wrong password!"), ("nobody", PASSWORD), ("user-operator", PASSWORD)):
        form = http.get("/web/sign-in")
        response = http.post(
            "/web/sign-in", data={"name": name, "password": password, "csrf_token": _csrf(form.text)}
        )
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text


def test_the_sign_in_form_needs_its_csrf_token(operator: Gateway) -> None:
    http = client(operator.app)
    http.get("/web/sign-in")
    response = http.post("/web/sign-in", data={"name": "ops", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_a_form_post_without_the_csrf_token_is_refused(operator: Gateway) -> None:
    http = sign_in(operator, "ops")
    for data in ({}, {"csrf_token": "not the session's"}):
        response = http.post("/web/operator/members/2/suspend", data=data)
        assert response.status_code == 403
        assert 'data-testid="error-code">forbidden<' in response.text
    assert http.get("/web/operator/members/2").status_code == 200


def test_a_user_without_the_role_gets_403(operator: Gateway) -> None:
    http = sign_in(operator, "ops")
    assert http.get("/web/admin/users").status_code == 403
    admin = sign_in(operator, "root")  # admin holds every role
    assert admin.get("/web/admin/users").status_code == 200
    health = admin.get("/web/operator/health")
    assert health.status_code == 200
    assert "本网关" in health.text
    assert "本网关" in admin.get("/web/operator/health?partial=this").text
    table = admin.get("/web/operator/health?partial=table").text
    assert "<table>" in table
    assert "<html" not in table


def test_the_operator_suspends_a_member_through_the_same_service_as_the_api(operator: Gateway) -> None:
    http = sign_in(operator, "ops")
    bank = operator.deployment.bank.member_id
    token = page_csrf(http, f"/web/operator/members/{bank}")
    response = http.post(f"/web/operator/members/{bank}/suspend", data={"csrf_token": token})
    assert response.status_code == 200  # after the redirect
    assert f"已提交:suspend member {bank}" in response.text
    assert 'data-testid="queued"' in response.text
    again = http.post(f"/web/operator/members/{bank}/suspend", data={"csrf_token": token})
    assert again.status_code == 409
    assert 'data-testid="error-code">conflict<' in again.text
    api = client(operator.app).post(f"/v1/members/{bank}/suspend", headers=operator.auth("operator"))
    assert api.status_code == 409  # the API sees the same queue


def test_tables_filter_sort_and_export(operator: Gateway) -> None:
    http = sign_in(operator, "ops")
    members = operator.node.network.members
    count = members.member_count()
    banks = [str(i) for i in range(1, count + 1) if operator.node.member(i).role.name == "BANK"]
    page = http.get("/web/operator/members?f_role=bank")
    rows = re.findall(r'data-testid="status-(\d+)"', page.text)
    assert rows == banks
    assert banks
    ordered = re.findall(
        r'data-testid="status-(\d+)"', http.get("/web/operator/members?sort=member_id&desc=1").text
    )
    assert ordered == sorted(ordered, key=int, reverse=True)
    assert len(ordered) >= 4
    csv = http.get("/web/operator/members?export=csv&f_role=bank")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("编号,名称,类型,状态")
    assert len(lines) == 1 + len(banks)
    assert all(",银行," in line for line in lines[1:])
    xlsx = http.get("/web/operator/members?export=xlsx")
    assert xlsx.content[:2] == b"PK"


def test_a_one_time_password_is_changed_at_the_first_sign_in(operator: Gateway) -> None:
    http = sign_in(operator, "newcomer")
    assert http.get("/web/operator/members", follow_redirects=False).status_code == 303  # not yet
    token = page_csrf(http, "/web/account/password")
    new = "my own password 42"
    changed = http.post(
        "/web/account/password", data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new}
    )
    assert changed.status_code == 200
    assert http.get("/web/operator/members").status_code == 200
    sign_in(operator, "newcomer", new)


def test_totp_enrolment_and_sign_in(operator: Gateway) -> None:
    http = sign_in(operator, "root")
    started = http.post("/web/account/totp/start", data={"csrf_token": page_csrf(http, "/web/account")})
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', started.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    wrong = http.post(
        "/web/account/totp/confirm",
        data={"csrf_token": _csrf(started.text), "secret": secret.group(1), "code": "000000"},
    )
    assert wrong.status_code == 422
    done = http.post(
        "/web/account/totp/confirm",
        data={"csrf_token": _csrf(started.text), "secret": secret.group(1), "code": totp.now()},
    )
    assert "TOTP 已启用" in done.text
    with operator.node.db.session() as session:
        row = session.query(UserRow).filter_by(name="root").one()
        assert row.totp_sealed is not None
        assert secret.group(1).encode() not in row.totp_sealed

    second = sign_in(operator, "root")
    assert second.get("/web/admin/users", follow_redirects=False).status_code == 303  # code first
    token = page_csrf(second, "/web/sign-in/totp")
    assert second.post("/web/sign-in/totp", data={"csrf_token": token, "code": "123456"}).status_code == 401
    # The current step's code was used by the enrolment: the next step's is accepted (clock drift).
    later = totp.at(time.time() + 30)
    assert second.post("/web/sign-in/totp", data={"csrf_token": token, "code": later}).status_code == 200
    assert second.get("/web/admin/users").status_code == 200
    assert second.post("/web/sign-in/totp", data={"csrf_token": token, "code": later}).status_code == 401


def test_the_admin_adds_a_user_with_a_one_time_password_and_revokes_it(operator: Gateway) -> None:
    with operator.node.db.session() as session:
        create_user(session, MemberRole.OPERATOR, "chief", {"admin"}, password=PASSWORD)
        set_password(session, "chief", PASSWORD, one_time=False)
    http = sign_in(operator, "chief")
    added = http.post(
        "/web/admin/users",
        data={"csrf_token": page_csrf(http, "/web/admin/users"), "name": "王芳", "roles": ["operator"]},
    )
    assert added.status_code == 200
    password = re.search(r'data-testid="one-time-password">([^<]+)<', added.text)
    assert password
    wang = sign_in(operator, "王芳", password.group(1))
    assert "一次性密码" in wang.get("/web/account/password").text
    revoked = http.post(
        "/web/admin/users/%E7%8E%8B%E8%8A%B3/revoke", data={"csrf_token": page_csrf(http, "/web/admin/users")}
    )
    assert revoked.status_code == 200
    assert wang.get("/web/account/password", follow_redirects=False).status_code == 303  # session gone


def test_sign_out_ends_the_session(operator: Gateway) -> None:
    http = sign_in(operator, "ops")
    http.post("/web/sign-out", data={"csrf_token": page_csrf(http, "/web/operator/members")})
    assert http.get("/web/operator/members", follow_redirects=False).status_code == 303


def test_docs_load_nothing_from_another_host(operator: Gateway) -> None:
    http = client(operator.app)
    html = http.get("/docs").text
    assert "swagger-ui-bundle.js" in html
    external = [
        url
        for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html)
        if "://" in url or url.startswith("//")
    ]
    assert external == []
    assert not re.search(r"https?://", html), "the Swagger page names another host"
    for asset in re.findall(r"""(?:src|href)=["'](/[^"']+)""", html):
        assert http.get(asset).status_code == 200, asset
    assert http.get("/redoc").status_code == 404


def test_the_pages_are_not_in_the_api_schema(operator: Gateway) -> None:
    paths: dict[str, Any] = operator.app.openapi()["paths"]
    assert not [path for path in paths if path.startswith("/web") or path == "/docs"]
