"""Banks' business rules: served signed by a bank's gateway to anyone (``GET /peer/v1/rules``),
and shown by an audit firm's gateway to its auditors as the bank signed them and the firm checked
(``GET /v1/banks/{member_id}/rules``). A bank's admin sets its own through the bank adapter."""

from __future__ import annotations

from fastapi import APIRouter

from node_gateway.api.deps import Auditor, NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.types import MemberId
from node_gateway.errors import NotFound
from node_gateway.protocol.bank_rules import BankRules, SignedBankRules
from node_gateway.services.bank_rules import PEER_RULES_PATH, fetch_rules, kept_rules

peer_router = APIRouter(tags=["peer"], route_class=GatewayRoute, responses=error_responses(404))


@peer_router.get(
    PEER_RULES_PATH,
    response_model=SignedBankRules,
    summary="This bank's business rules, signed with its member key (public)",
)
def published_rules(node: NodeDep, session: SessionDep) -> SignedBankRules:
    signed = kept_rules(session, node.member_id())
    if signed is None:
        raise NotFound("this bank has published no business rules")
    return signed


firm_router = APIRouter(
    prefix="/v1/banks",
    tags=["audit firm"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 422, 503),  # 422: a member number out of range
)


@firm_router.get(
    "/{member_id}/rules",
    response_model=BankRules,
    summary="A bank's business rules (scope, formats, fee, contact), checked against its signature",
)
def bank_rules(member_id: MemberId, node: NodeDep, session: SessionDep, _: Auditor) -> BankRules:
    return fetch_rules(node, session, member_id)
