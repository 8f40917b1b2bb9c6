"""Every route of every kind of gateway against every user role: the table below says who is let
through, and a route that is missing from it fails the test until someone decides its roles.

"public" routes answer anyone; the peer route takes no user key at all (members sign their calls);
for the rest, the roles listed (and no others) get past authorisation, everyone else hears 403,
and a call without a key 401.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account

from node_gateway.core.config import MemberRole
from node_gateway.core.security import USER_ROLES

from .api_apps import KINDS, Gateway, client, gateway

if TYPE_CHECKING:
    from conftest import Chain

PUBLIC = "public"
# A public document that may not exist yet (a bank's business rules): 200 or 404, to anyone.
PUBLIC_DOCUMENT = "public document"
PEER = "peer"
Who = str | frozenset[str]

_COMMON: dict[tuple[str, str], Who] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/v1/identity"): PUBLIC,
    ("POST", "/v1/users"): frozenset({"admin"}),
    ("DELETE", "/v1/users/{name}"): frozenset({"admin"}),
    ("POST", "/peer/v1/envelopes"): PEER,
}
_AUDITOR = frozenset({"auditor", "admin"})
# The firm's manager reads the letters, approves (审核), recalls and accepts (验收, closes).
_MANAGER = frozenset({"manager", "admin"})
_FIRM_STAFF = _AUDITOR | _MANAGER
_OFFICER = frozenset({"officer", "admin"})
_PREPARER = frozenset({"preparer", "admin"})
_REVIEWER = frozenset({"reviewer", "admin"})
_BANK_STAFF = frozenset({"officer", "preparer", "reviewer", "admin"})
_ANALYST = frozenset({"analyst", "admin"})
_OPERATOR = frozenset({"operator", "admin"})

TABLE: dict[MemberRole, dict[tuple[str, str], Who]] = {
    MemberRole.AUDIT_FIRM: {
        **_COMMON,
        # The auditee's key submits its signer's authorisation or refusal, and reads nothing.
        ("GET", "/v1/letters"): _FIRM_STAFF,
        ("GET", "/v1/letters/{letter_id}"): _FIRM_STAFF,
        ("GET", "/v1/letters/{letter_id}/letter.pdf"): _FIRM_STAFF,
        ("GET", "/v1/letters/{letter_id}/reply.pdf"): _FIRM_STAFF,
        ("POST", "/v1/letters"): _AUDITOR,
        ("POST", "/v1/letters/approve"): _MANAGER,
        ("POST", "/v1/letters/{letter_id}/recall"): _FIRM_STAFF,
        ("POST", "/v1/authorisations/requests"): _AUDITOR,
        ("POST", "/v1/authorisations"): frozenset({"auditor", "auditee", "admin"}),
        ("POST", "/v1/letters/{letter_id}/follow-up"): _AUDITOR,
        ("POST", "/v1/letters/{letter_id}/withdraw"): _AUDITOR,
        ("GET", "/v1/letters/{letter_id}/reply"): _AUDITOR,
        ("GET", "/v1/letters/{letter_id}/notice"): _AUDITOR,
        ("GET", "/v1/letters/{letter_id}/evidence"): _AUDITOR,
        ("POST", "/v1/letters/close"): _FIRM_STAFF,
        ("POST", "/v1/letters/{letter_id}/close"): _FIRM_STAFF,
        ("GET", "/v1/members"): _AUDITOR,  # to address letters to active banks
        ("GET", "/v1/banks/{member_id}/rules"): _AUDITOR,
    },
    MemberRole.BANK: {
        **_COMMON,
        ("GET", "/v1/letters"): _BANK_STAFF,
        ("GET", "/v1/letters/{letter_id}"): _BANK_STAFF,
        ("GET", "/v1/letters/{letter_id}/letter.pdf"): _BANK_STAFF,
        ("GET", "/v1/letters/{letter_id}/reply.pdf"): _BANK_STAFF,
        ("GET", "/v1/inbox"): _OFFICER,
        ("POST", "/v1/letters/{letter_id}/accept"): _OFFICER,
        ("POST", "/v1/letters/{letter_id}/reject"): _OFFICER,
        ("POST", "/v1/letters/{letter_id}/reply"): _REVIEWER,
        ("GET", "/v1/customers/{registration_code}/reference"): _OFFICER,
        ("POST", "/v1/mandates"): _OFFICER,
        ("DELETE", "/v1/mandates/{registration_code}/{signer}"): _OFFICER,
        ("GET", "/v1/mandates"): _OFFICER,
        ("GET", "/v1/bank/letters"): _BANK_STAFF,
        ("GET", "/v1/bank/drafts"): _BANK_STAFF,
        ("GET", "/v1/bank/letters/{letter_id}"): _BANK_STAFF,
        ("POST", "/v1/bank/letters/{letter_id}/draft"): _PREPARER,
        ("POST", "/v1/bank/letters/{letter_id}/approve"): _REVIEWER,
        ("POST", "/v1/bank/letters/{letter_id}/return"): _REVIEWER,
        ("POST", "/v1/bank/letters/{letter_id}/reject"): _OFFICER,
        ("GET", "/v1/bank/deadlines"): _BANK_STAFF,
        ("GET", "/v1/bank/decisions"): _BANK_STAFF,
        ("GET", "/v1/bank/officers"): _BANK_STAFF,
        ("PUT", "/v1/bank/officers/{name}"): frozenset({"admin"}),
        ("POST", "/v1/bank/mandates/import"): _OFFICER,
        ("GET", "/v1/bank/rules"): _BANK_STAFF,
        ("PUT", "/v1/bank/rules"): frozenset({"admin"}),
        ("GET", "/peer/v1/rules"): PUBLIC_DOCUMENT,
    },
    MemberRole.REGULATOR: {
        **_COMMON,
        ("GET", "/v1/statistics"): _ANALYST,
        ("GET", "/v1/statistics/summary"): _ANALYST,
        ("POST", "/v1/verify"): _ANALYST,
    },
    MemberRole.OPERATOR: {
        **_COMMON,
        ("POST", "/v1/members"): _OPERATOR,
        ("GET", "/v1/members"): _OPERATOR,
        ("POST", "/v1/members/{member_id}/suspend"): _OPERATOR,
        ("POST", "/v1/members/{member_id}/reinstate"): _OPERATOR,
        ("POST", "/v1/members/{member_id}/revoke"): _OPERATOR,
    },
}

# Well-formed values for path parameters, naming nothing that exists.
_PATH_VALUES = {
    "letter_id": "0x" + "ab" * 32,
    "name": "nobody",
    "registration_code": "91310000MA1FL0TE5Q",
    "signer": Account.create().address,
    "member_id": "4294967295",
}


@pytest.fixture(scope="module")
def gateways(
    in_process: Chain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[MemberRole, Gateway]]:
    deployment = in_process.deploy()
    base = tmp_path_factory.mktemp("roles")
    built = {kind: gateway(deployment, kind, base / kind.value) for kind in KINDS}
    yield built
    for item in built.values():
        item.node.db.dispose()


def _routes(app: Any) -> set[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def _call(http: Any, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    url = path.format(**_PATH_VALUES)
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
    response = http.request(method, url, headers=headers, json=body)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


@pytest.mark.parametrize("kind", KINDS, ids=[kind.value for kind in KINDS])
def test_every_route_has_its_roles_in_the_table(
    gateways: dict[MemberRole, Gateway], kind: MemberRole
) -> None:
    routes = _routes(gateways[kind].app)
    assert sorted(routes - TABLE[kind].keys()) == [], "routes without an entry in TABLE: decide their roles"
    assert sorted(TABLE[kind].keys() - routes) == [], "TABLE names routes this gateway does not have"
    for who in TABLE[kind].values():
        assert who in (PUBLIC, PUBLIC_DOCUMENT, PEER) or (
            isinstance(who, frozenset) and who <= USER_ROLES[kind]
        ), who


@pytest.mark.parametrize("kind", KINDS, ids=[kind.value for kind in KINDS])
def test_every_role_gets_the_answer_of_the_table(
    gateways: dict[MemberRole, Gateway], kind: MemberRole
) -> None:
    item = gateways[kind]
    http = client(item.app)
    wrong: list[str] = []
    for (method, path), who in sorted(TABLE[kind].items()):
        for role in [None, *sorted(USER_ROLES[kind])]:
            status, body = _call(http, method, path, item.auth(role))
            code = body["error"]["code"] if isinstance(body, dict) and "error" in body else None
            if who == PUBLIC:
                ok = status == 200
            elif who == PUBLIC_DOCUMENT:
                ok = status in (200, 404)
            elif who == PEER:
                ok = status == 401 and code == "peer_unsigned"
            elif role is None:
                ok = status == 401 and code == "not_authenticated"
            elif role in who:
                ok = status not in (401, 403)
            else:
                ok = status == 403 and code == "forbidden"
            if not ok:
                wrong.append(f"{method} {path} as {role or 'nobody'}: {status} {code}")
    assert wrong == []


def test_the_auditee_key_reads_no_letter(gateways: dict[MemberRole, Gateway]) -> None:
    """Finding 3: the key a firm hands its client's signer lists and opens none of its letters."""
    firm = gateways[MemberRole.AUDIT_FIRM]
    http = client(firm.app)
    listed = http.get("/v1/letters", headers=firm.auth("auditee"))
    assert listed.status_code == 403, listed.text
    assert listed.json()["error"]["code"] == "forbidden"
    opened = http.get("/v1/letters/0x" + os.urandom(32).hex(), headers=firm.auth("auditee"))
    assert opened.status_code == 403, opened.text
    assert http.get("/v1/letters", headers=firm.auth("auditor")).status_code == 200
