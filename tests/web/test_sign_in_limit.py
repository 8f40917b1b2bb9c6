"""The sign-in limit (web/sign_in_limit.py) without a browser: failed sign-ins for one name, and
from one client address, are slowed and then refused for a while; the count lives in the gateway's
database. Time is the test's clock (``SignInLimit.clock``), never a sleep.

Each test uses its own user names and client addresses: the gateway is shared by the module."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyotp
import pytest
from fastapi import FastAPI
from gateway.api_apps import Gateway, gateway
from sqlalchemy import select
from starlette.testclient import TestClient

from node_gateway.api.app import create_app
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, enrol_totp, set_password
from node_gateway.storage.db import Database
from node_gateway.storage.models import SignInFailures, UserRow
from node_gateway.web.sign_in_limit import (
    BY_ADDRESS,
    BY_NAME,
    SignInLimit,
    address_key,
    default_limit,
    name_key,
)

if TYPE_CHECKING:
    from conftest import Chain
    from httpx import Response

PASSWORD = "correct horse battery"
WRONG = "wrong horse battery"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def with_clock(app: FastAPI, clock: Clock) -> FastAPI:
    app.dependency_overrides[default_limit] = lambda: SignInLimit(clock=clock)
    return app


@pytest.fixture(scope="module")
def operator(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    built = gateway(in_process.deploy(), MemberRole.OPERATOR, tmp_path_factory.mktemp("limit"))
    with built.node.db.session() as session:
        for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
            create_user(session, MemberRole.OPERATOR, name, {"operator"}, password=PASSWORD)
            set_password(session, name, PASSWORD, one_time=False)
    yield built
    built.node.db.dispose()


@pytest.fixture
def clock(operator: Gateway) -> Iterator[Clock]:
    found = Clock()
    with_clock(operator.app, found)
    yield found
    operator.app.dependency_overrides.clear()


def csrf_of(page: Response) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF field on the page"
    return token.group(1)


def attempt(app: FastAPI, address: str, name: str, password: str) -> Response:
    """A sign-in from ``address``, in a client of its own."""
    return attempt_with(TestClient(app, client=(address, 50000)), name, password)


def attempt_with(http: TestClient, name: str, password: str) -> Response:
    token = csrf_of(http.get("/web/sign-in"))
    data = {"name": name, "password": password, "csrf_token": token, "next": "/web/"}
    response: Response = http.post("/web/sign-in", data=data, follow_redirects=False)
    return response


def refused_for(response: Response) -> int:
    """The seconds a refusal asks to wait (asserting it is one, with its code and words)."""
    assert response.status_code == 429, response.text
    assert 'data-testid="error-code">too_many_attempts<' in response.text
    assert "登录失败次数过多" in response.text
    return int(response.headers["Retry-After"])


def fail_until_refused(app: FastAPI, clock: Clock, address: str, name: str, failures: int) -> None:
    """``failures`` wrong passwords for ``name``, each attempt waiting what the limit asks."""
    counted = 0
    while counted < failures:
        response = attempt(app, address, name, WRONG)
        if response.status_code == 429:
            clock.advance(refused_for(response))
            continue
        assert response.status_code == 401, response.text
        counted += 1


def test_failures_are_slowed_then_refused_even_the_right_password_until_the_lockout_passes(
    operator: Gateway, clock: Clock
) -> None:
    app, address = operator.app, "192.0.2.1"
    for _ in range(BY_NAME.free):
        assert attempt(app, address, "alice", WRONG).status_code == 401
    assert refused_for(attempt(app, address, "alice", PASSWORD)) == 1  # slowed: the right one waits
    clock.advance(1)
    assert attempt(app, address, "alice", WRONG).status_code == 401
    assert refused_for(attempt(app, address, "alice", WRONG)) == 2

    fail_until_refused(app, clock, address, "alice", BY_NAME.refuse_at - BY_NAME.free - 1)
    lockout = refused_for(attempt(app, address, "alice", PASSWORD))
    assert lockout == BY_NAME.lockout.total_seconds()
    clock.advance(lockout - 60)
    refused = attempt(app, address, "alice", PASSWORD)
    assert refused_for(refused) == 60
    assert "1 分钟" in refused.text
    clock.advance(60)
    assert attempt(app, address, "alice", PASSWORD).status_code == 303


def test_a_success_resets_the_count(operator: Gateway, clock: Clock) -> None:
    app, address = operator.app, "192.0.2.2"
    for _ in range(BY_NAME.free - 1):
        assert attempt(app, address, "bob", WRONG).status_code == 401
    assert attempt(app, address, "bob", PASSWORD).status_code == 303
    for _ in range(BY_NAME.free):  # counted from 0 again: none of these waits
        assert attempt(app, address, "bob", WRONG).status_code == 401
    assert attempt(app, address, "bob", WRONG).status_code == 429


def test_another_user_is_unaffected_and_an_unknown_name_gets_the_same_answer(
    operator: Gateway, clock: Clock
) -> None:
    app = operator.app

    def refused_after_failures(address: str, name: str) -> tuple[int, str]:
        fail_until_refused(app, clock, address, name, BY_NAME.refuse_at)
        response = attempt(app, address, name, PASSWORD)
        alert = re.search(r'<p class="alert" role="alert">(.*?)</p>', response.text, re.S)
        assert alert
        return refused_for(response), alert.group(1)

    known = refused_after_failures("192.0.2.3", "carol")
    assert known == refused_after_failures("192.0.2.4", "nobody-here")
    assert known[0] == BY_NAME.lockout.total_seconds()
    assert attempt(app, "192.0.2.5", "dave", PASSWORD).status_code == 303


def test_one_address_trying_many_names_is_refused(operator: Gateway, clock: Clock) -> None:
    app, address = operator.app, "192.0.2.6"
    for n in range(BY_ADDRESS.refuse_at):  # one wrong password per name: no name's own limit acts
        response = attempt(app, address, f"guess-{n}", WRONG)
        if response.status_code == 429:
            clock.advance(refused_for(response))
            response = attempt(app, address, f"guess-{n}", WRONG)
        assert response.status_code == 401, response.text
    assert refused_for(attempt(app, address, "erin", PASSWORD)) == BY_ADDRESS.lockout.total_seconds()
    assert attempt(app, "192.0.2.7", "erin", PASSWORD).status_code == 303


def test_the_count_survives_a_new_app_on_the_same_database(operator: Gateway, clock: Clock) -> None:
    fail_until_refused(operator.app, clock, "192.0.2.8", "frank", BY_NAME.refuse_at)
    restarted = with_clock(create_app(operator.node, run_workers=False), clock)
    assert refused_for(attempt(restarted, "192.0.2.9", "frank", PASSWORD)) == BY_NAME.lockout.total_seconds()

    database = Database(operator.node.settings.effective_database_url)
    try:
        with database.session() as session:
            found = session.execute(select(SignInFailures.key, SignInFailures.failures))
            rows = dict(found.all())  # Result itself has keys(): dict() would take it for a mapping
    finally:
        database.dispose()
    assert rows[name_key("frank")] == BY_NAME.refuse_at
    assert rows[address_key("192.0.2.8")] == BY_NAME.refuse_at
    assert not any("frank" in key for key in rows)  # only digests are stored


def test_wrong_totp_codes_count_and_the_password_alone_does_not_reset_them(
    operator: Gateway, clock: Clock
) -> None:
    app, address, secret = operator.app, "192.0.2.10", pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    with operator.node.db.session() as session:
        create_user(session, MemberRole.OPERATOR, "grace", {"operator"}, password=PASSWORD)
        set_password(session, "grace", PASSWORD, one_time=False)
        grace = session.query(UserRow).filter_by(name="grace").one().id
        enrol_totp(session, operator.node.keys.storage_key, grace, secret, totp.now())

    def signed_in_at_totp() -> tuple[TestClient, str]:
        http = TestClient(app, client=(address, 50000))
        assert attempt_with(http, "grace", PASSWORD).headers["location"] == "/web/sign-in/totp"
        return http, csrf_of(http.get("/web/sign-in/totp"))

    def failures() -> int | None:
        with operator.node.db.session() as session:
            row = session.get(SignInFailures, name_key("grace"))
            return None if row is None else row.failures

    http, csrf = signed_in_at_totp()
    for _ in range(BY_NAME.free):
        assert http.post("/web/sign-in/totp", data={"csrf_token": csrf, "code": "000000"}).status_code == 401
    assert refused_for(attempt(app, address, "grace", PASSWORD)) == 1  # the name waits, whatever failed
    clock.advance(1)
    http, csrf = signed_in_at_totp()
    assert failures() == BY_NAME.free  # the right password alone does not forget the failed codes
    assert http.post("/web/sign-in/totp", data={"csrf_token": csrf, "code": "000000"}).status_code == 401
    right = totp.at(datetime.now(UTC) + timedelta(seconds=30))
    assert refused_for(http.post("/web/sign-in/totp", data={"csrf_token": csrf, "code": right})) == 2
    clock.advance(2)
    assert http.post("/web/sign-in/totp", data={"csrf_token": csrf, "code": right}).status_code == 200
    assert failures() is None
