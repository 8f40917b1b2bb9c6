"""The operator gateway's admission route refuses an operator: that takes a governance proposal
(MemberRegistry.proposeOperatorAdmission, a quorum and the delay), never one operator's key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from node_gateway.api.app import create_app
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user
from node_gateway.storage.models import OutboxTransaction

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain


def test_admitting_an_operator_is_refused_with_the_governance_path(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path)
    with node.db.session() as session:
        key = create_user(session, MemberRole.OPERATOR, "operator", {"operator"})
    client = TestClient(create_app(node, run_workers=False))
    headers = {"Authorization": f"Bearer {key}"}

    def admit(role: str) -> tuple[int, dict[str, object]]:
        body = {
            "account": Account.create().address,
            "role": role,
            "registration_code": f"REG{role.upper()}01",
            "display_name": role,
        }
        response = client.post("/v1/members", json=body, headers=headers)
        return response.status_code, response.json()

    status, answer = admit("operator")
    assert status == 422
    error = answer["error"]
    assert isinstance(error, dict)
    assert error["code"] == "invalid_request"
    assert "proposeOperatorAdmission" in error["message"]
    assert "quorum" in error["message"]
    with node.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxTransaction)) == 0
    # Ordinary members are admitted by the one operator as before.
    bank = admit("bank")
    assert bank[0] == 202, bank


def test_suspending_an_operator_is_refused_before_it_is_queued(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path)
    with node.db.session() as session:
        key = create_user(session, MemberRole.OPERATOR, "operator", {"operator"})
    client = TestClient(create_app(node, run_workers=False))
    headers = {"Authorization": f"Bearer {key}"}
    for step in ("suspend", "revoke"):
        response = client.post(f"/v1/members/{deployment.operator.member_id}/{step}", headers=headers)
        assert response.status_code == 422, response.text
        assert "proposeOperatorStatusChange" in response.json()["error"]["message"]
    with node.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxTransaction)) == 0
