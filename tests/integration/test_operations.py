"""What operators of a gateway look at: health, metrics, logs and the API schema."""

from __future__ import annotations

import json

import httpx
import pytest

from .harness import Consortium

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_health_reports_chain_membership_and_outboxes(consortium: Consortium) -> None:
    for gateway in consortium.members:
        health = httpx.get(gateway.url + "/health", timeout=10).json()
        assert health["status"] == "ok"
        assert health["role"] == gateway.role
        assert health["member_id"] >= 1
        assert health["chain_block"] >= 1


def test_metrics_are_prometheus_text(consortium: Consortium) -> None:
    response = httpx.get(consortium.firm.url + "/metrics", timeout=10)
    assert response.headers["content-type"].startswith("text/plain")
    assert "confirmnet_outbox_transactions" in response.text
    assert "confirmnet_indexed_block" in response.text


def test_openapi_documents_every_route_and_the_error_shape(consortium: Consortium) -> None:
    expected = [
        (consortium.firm, {"/v1/letters", "/v1/authorisations", "/v1/letters/{letter_id}/close"}),
        (consortium.bank, {"/v1/inbox", "/v1/letters/{letter_id}/reply", "/v1/mandates"}),
        (consortium.regulator, {"/v1/statistics", "/v1/verify"}),
        (consortium.operator, {"/v1/members", "/v1/members/{member_id}/suspend"}),
    ]
    for gateway, paths in expected:
        schema = httpx.get(gateway.url + "/openapi.json", timeout=10).json()
        assert paths <= set(schema["paths"]), gateway.name
        assert "/peer/v1/envelopes" in schema["paths"]
        assert "ErrorResponse" in schema["components"]["schemas"]
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                assert operation.get("summary"), f"{gateway.name} {path} has no summary"


def test_logs_are_json_lines_with_the_letter_id(consortium: Consortium) -> None:
    assert consortium.firm.log_path is not None
    lines = [
        json.loads(line) for line in consortium.firm.log_path.read_text().splitlines() if line.startswith("{")
    ]
    assert lines
    assert all({"time", "level", "member", "message"} <= set(line) for line in lines)
