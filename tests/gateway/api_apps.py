"""Gateway applications of every kind on a test deployment, with an API key per user role.

``gateway(deployment, MemberRole.BANK, path)`` builds the member's node (its party's account, a
SQLite database in ``path``) and its FastAPI application without the background workers, and
adds one user per role of that kind of member, each holding that role alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account.messages import encode_typed_data
from fastapi import FastAPI

from bank_adapter.core_sql import CoreBank
from bank_adapter.generator import dataset_from_letter
from node_gateway.api.app import create_app
from node_gateway.core.config import MemberRole
from node_gateway.core.security import USER_ROLES, create_user
from node_gateway.node import Node
from node_gateway.protocol.samples import sample_letter

from .conftest import gateway_node

with warnings.catch_warnings():  # Starlette would rather its test client ran on httpx2
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

if TYPE_CHECKING:
    from conftest import Deployment, Party
    from eth_account.signers.local import LocalAccount

KINDS = (MemberRole.AUDIT_FIRM, MemberRole.BANK, MemberRole.REGULATOR, MemberRole.OPERATOR)


@dataclass
class Gateway:
    kind: MemberRole
    deployment: Deployment
    party: Party
    node: Node
    app: FastAPI
    keys: dict[str, str]  # role -> the API key of a user holding only that role

    def auth(self, role: str | None) -> dict[str, str]:
        """The headers of a user with ``role``; none for ``None``."""
        return {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}


def _party(deployment: Deployment, kind: MemberRole) -> Party:
    return {
        MemberRole.AUDIT_FIRM: deployment.firm,
        MemberRole.BANK: deployment.bank,
        MemberRole.REGULATOR: deployment.regulator,
        MemberRole.OPERATOR: deployment.operator,
    }[kind]


def gateway(
    deployment: Deployment, kind: MemberRole, path: Path, *, peer_max_body_bytes: int | None = None
) -> Gateway:
    """The gateway of the deployment's standard party of ``kind``; a bank's with a core bank."""
    path.mkdir(parents=True, exist_ok=True)
    party = _party(deployment, kind)
    core_url = None
    if kind is MemberRole.BANK:
        core_url = f"sqlite:///{path / 'core.db'}"
        core = CoreBank(core_url)
        core.load(dataset_from_letter(sample_letter()))
        core.dispose()
    overrides: dict[str, Any] = (
        {} if peer_max_body_bytes is None else {"peer_max_body_bytes": peer_max_body_bytes}
    )
    node = gateway_node(deployment, party, path, core_banking_url=core_url, **overrides)
    db = node.db
    with db.session() as session:
        api_keys = {role: create_user(session, kind, f"user-{role}", {role}) for role in USER_ROLES[kind]}
    return Gateway(kind, deployment, party, node, create_app(node, run_workers=False), api_keys)


def client(app: FastAPI) -> TestClient:
    """A test client of ``app`` (its lifespan not started: no workers run)."""
    return TestClient(app)


def signed_authorisation(
    bundle: dict[str, Any], signer: LocalAccount, reason: int | None = None
) -> dict[str, Any]:
    """The body of ``POST /v1/authorisations``: the bundle of ``POST /v1/authorisations/requests``
    signed by the auditee's ``signer``; a refusal with its ``reason`` (the bundle prepared for it)."""
    typed = bundle["typed_data"]
    message = typed["message"]
    return {
        "letter_ids": [x["letter_id"] for x in bundle["letters"]],
        "requests_root": message["requestsRoot"],
        "firm": message["firm"],
        "valid_until": message["validUntil"],
        "nonce": message["nonce"],
        "signature": "0x" + signer.sign_message(encode_typed_data(full_message=typed)).signature.hex(),
        "reason": reason,
    }
