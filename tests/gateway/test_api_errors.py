"""The user API's edges: every value bounded to what the chain and the database hold (422, never
a 500), every answer in the one error shape (Starlette's own 400, 404 and 405 too), a body that
is not JSON answered only after authentication, and the OpenAPI schema listing each route's
error answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account
from fastapi import FastAPI
from starlette.exceptions import HTTPException

from node_gateway.api.errors import install_error_handlers
from node_gateway.api.types import INT64_MAX, UINT32_MAX
from node_gateway.core.config import MemberRole
from node_gateway.services.bank_rules import PEER_RULES_PATH

from .api_apps import KINDS, Gateway, client, gateway

if TYPE_CHECKING:
    from conftest import Chain

HUGE = 2**70
LETTER = "0x" + "cd" * 32


@pytest.fixture(scope="module")
def gateways(
    in_process: Chain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[MemberRole, Gateway]]:
    deployment = in_process.deploy()
    base = tmp_path_factory.mktemp("errors")
    built = {kind: gateway(deployment, kind, base / kind.value) for kind in KINDS}
    yield built
    for item in built.values():
        item.node.db.dispose()


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert error["code"] == code, body
    return error


# --- finding 5: bounded values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "role", "method", "url"),
    [
        (MemberRole.REGULATOR, "analyst", "GET", f"/v1/statistics?bank={HUGE}"),
        (MemberRole.REGULATOR, "analyst", "GET", f"/v1/statistics?bank={UINT32_MAX + 1}"),
        (MemberRole.REGULATOR, "analyst", "GET", "/v1/statistics?bank=0"),
        (MemberRole.AUDIT_FIRM, "auditor", "GET", f"/v1/letters?offset={HUGE}"),
        (MemberRole.AUDIT_FIRM, "auditor", "GET", f"/v1/letters?offset={INT64_MAX + 1}"),
        (MemberRole.AUDIT_FIRM, "auditor", "GET", f"/v1/letters?counterparty={HUGE}"),
        (MemberRole.AUDIT_FIRM, "auditor", "GET", f"/v1/letters?due_before={HUGE}"),
        (MemberRole.AUDIT_FIRM, "auditor", "GET", f"/v1/letters?due_after={-HUGE}"),
        (MemberRole.AUDIT_FIRM, "auditor", "GET", "/v1/letters/not-a-letter"),
        (MemberRole.AUDIT_FIRM, "auditor", "GET", "/v1/letters/0x" + "ab" * 33 + "/evidence"),
        (MemberRole.AUDIT_FIRM, "auditor", "POST", "/v1/letters/0xzz/close"),
        (MemberRole.OPERATOR, "operator", "POST", f"/v1/members/{HUGE}/suspend"),
        (MemberRole.OPERATOR, "operator", "POST", "/v1/members/0/revoke"),
        (MemberRole.OPERATOR, "operator", "POST", f"/v1/members/{UINT32_MAX + 1}/reinstate"),
        (MemberRole.BANK, "officer", "GET", "/v1/customers/0/reference"),
        (MemberRole.BANK, "officer", "DELETE", "/v1/mandates/91310000MA1FL0TE5Q/not-an-address"),
        (MemberRole.BANK, "officer", "DELETE", "/v1/mandates/0/" + "0x" + "11" * 20),
        (MemberRole.BANK, "officer", "POST", "/v1/letters/0x12/accept"),
        (MemberRole.BANK, "reviewer", "GET", "/v1/bank/decisions?letter_id=abc"),
        (MemberRole.BANK, "reviewer", "GET", "/v1/bank/letters/abc"),
    ],
)
def test_out_of_range_values_are_refused_at_the_edge(
    gateways: dict[MemberRole, Gateway], kind: MemberRole, role: str, method: str, url: str
) -> None:
    item = gateways[kind]
    response = client(item.app).request(method, url, headers=item.auth(role))
    _error(response, 422, "invalid_request")


@pytest.mark.parametrize(
    ("kind", "role", "url", "body"),
    [
        (
            MemberRole.BANK,
            "officer",
            "/v1/mandates",
            {
                "registration_code": "91310000MA1FL0TE5Q",
                "signer": Account.create().address,
                "valid_until": HUGE,
            },
        ),
        (
            MemberRole.BANK,
            "officer",
            "/v1/mandates",
            {"registration_code": "0", "signer": Account.create().address, "valid_until": 2_000_000_000},
        ),
        (
            MemberRole.BANK,
            "officer",
            "/v1/bank/mandates/import",
            {
                "mandates": [
                    {
                        "registration_code": "91310000MA1FL0TE5Q",
                        "signer": Account.create().address,
                        "valid_until": HUGE,
                    }
                ]
            },
        ),
        (MemberRole.BANK, "officer", f"/v1/letters/{LETTER}/reject", {"reason": HUGE}),
        (MemberRole.BANK, "reviewer", f"/v1/bank/letters/{LETTER}/approve", {"draft_version": HUGE}),
        (
            MemberRole.AUDIT_FIRM,
            "auditor",
            "/v1/authorisations/requests",
            {"letter_ids": [LETTER], "valid_until": HUGE},
        ),
        (
            MemberRole.AUDIT_FIRM,
            "auditee",
            "/v1/authorisations",
            {
                "letter_ids": [LETTER],
                "requests_root": LETTER,
                "firm": HUGE,
                "valid_until": 1,
                "nonce": 2**256,
                "signature": "0x",
            },
        ),
        (
            MemberRole.OPERATOR,
            "operator",
            "/v1/members",
            {
                "account": "0x12",
                "role": "bank",
                "registration_code": "91310000MA1FL0TE5Q",
                "display_name": "b",
            },
        ),
    ],
)
def test_out_of_range_fields_are_refused_at_the_edge(
    gateways: dict[MemberRole, Gateway], kind: MemberRole, role: str, url: str, body: dict[str, Any]
) -> None:
    item = gateways[kind]
    response = client(item.app).post(url, json=body, headers=item.auth(role))
    _error(response, 422, "invalid_request")


def test_path_values_are_normalised(gateways: dict[MemberRole, Gateway]) -> None:
    bank = gateways[MemberRole.BANK]
    http = client(bank.app)
    code = "91310000MA1FL0TE5Q"
    plain = http.get(f"/v1/customers/{code}/reference", headers=bank.auth("officer"))
    assert plain.status_code == 200, plain.text
    spelled = http.get(f"/v1/customers/{code.lower()}/reference", headers=bank.auth("officer"))
    assert spelled.json() == plain.json() | {"registration_code": code}
    firm = gateways[MemberRole.AUDIT_FIRM]
    upper = client(firm.app).get(
        "/v1/letters/" + LETTER.upper().replace("0X", "0x"), headers=firm.auth("auditor")
    )
    assert _error(upper, 404, "not_found")["message"] == f"no letter {LETTER} here"


# --- finding 9: one error shape, authentication first ---------------------------------------------


def test_unknown_routes_and_methods_answer_in_the_error_shape(gateways: dict[MemberRole, Gateway]) -> None:
    http = client(gateways[MemberRole.AUDIT_FIRM].app)
    _error(http.get("/v1/nothing-here"), 404, "not_found")
    refused = http.put("/v1/letters")
    _error(refused, 405, "method_not_allowed")
    assert "GET" in refused.headers["allow"]


def test_starlettes_own_400_answers_in_the_error_shape() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/broken")
    def broken() -> None:
        raise HTTPException(400, "There was an error parsing the body")

    _error(client(app).get("/broken"), 400, "bad_request")


@pytest.mark.parametrize(
    "body", [b'{"letters": [', b"\xff\xfe not utf-8", b"[" * 100_000], ids=["truncated", "bytes", "deep"]
)
def test_a_body_that_is_not_json_is_answered_after_authentication(
    gateways: dict[MemberRole, Gateway], body: bytes
) -> None:
    firm = gateways[MemberRole.AUDIT_FIRM]
    http = client(firm.app)
    json_type = {"Content-Type": "application/json"}
    _error(http.post("/v1/letters", content=body, headers=json_type), 401, "not_authenticated")
    _error(http.post("/v1/letters", content=body, headers=json_type | firm.auth("auditee")), 403, "forbidden")
    error = _error(
        http.post("/v1/letters", content=body, headers=json_type | firm.auth("auditor")),
        422,
        "invalid_request",
    )
    assert [detail["type"] for detail in error["details"]] == ["json_invalid"]


def test_a_body_that_does_not_fit_the_schema_is_answered_after_authentication(
    gateways: dict[MemberRole, Gateway],
) -> None:
    bank = gateways[MemberRole.BANK]
    http = client(bank.app)
    _error(http.post("/v1/mandates", json={"nonsense": 1}), 401, "not_authenticated")
    _error(http.post("/v1/mandates", json={"nonsense": 1}, headers=bank.auth("preparer")), 403, "forbidden")
    _error(
        http.post("/v1/mandates", json={"nonsense": 1}, headers=bank.auth("officer")), 422, "invalid_request"
    )


def test_the_schema_lists_each_routes_error_answers(gateways: dict[MemberRole, Gateway]) -> None:
    for kind, item in gateways.items():
        schema = item.app.openapi()
        assert "HTTPValidationError" not in schema["components"]["schemas"], kind
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"]
                errors = {int(status) for status in responses if int(status) >= 400}
                where = f"{kind.value}: {method.upper()} {path}"
                for status in errors:
                    ref = responses[str(status)]["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorResponse", where
                if path in ("/health", "/metrics", "/v1/identity"):
                    assert errors == set(), where
                elif path == PEER_RULES_PATH:  # public: a bank's signed rules, or none yet
                    assert errors == {404}, where
                elif path.startswith("/peer/"):
                    assert {400, 401, 403, 409, 413, 422} <= errors, where
                else:
                    assert {401, 403, 422} <= errors, where
                    assert 413 not in errors, where
