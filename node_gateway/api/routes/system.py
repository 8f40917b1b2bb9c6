"""Health, metrics and the gateway's public identity."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, select

from node_gateway.api.deps import NodeDep
from node_gateway.api.errors import GatewayRoute
from node_gateway.api.models import Identity
from node_gateway.chain.errors import ChainError
from node_gateway.errors import NotMember
from node_gateway.protocol.hashing import to_hex
from node_gateway.services.outbox import stuck_steps
from node_gateway.storage.models import IndexerCursor, LetterRow, OutboxDelivery, OutboxTransaction

router = APIRouter(tags=["system"], route_class=GatewayRoute)


@router.get("/health", summary="Liveness and the state of chain, membership and outboxes")
def health(node: NodeDep) -> dict[str, object]:
    try:
        block: int | None = node.w3.eth.block_number
    except (ChainError, OSError, ValueError):
        block = None
    member_id = node.member_id() if node.is_member() else None
    with node.db.session() as session:
        pending_tx = session.scalar(select(func.count()).where(OutboxTransaction.state == "pending")) or 0
        pending_deliveries = (
            session.scalar(select(func.count()).where(OutboxDelivery.state == "pending")) or 0
        )
        failed_tx = session.scalar(select(func.count()).where(OutboxTransaction.state == "failed")) or 0
        stuck_tx = stuck_steps(session)
        cursor = session.get(IndexerCursor, "events")
    problems = [
        name for name, bad in (("chain_unreachable", block is None), ("outbox_stuck", stuck_tx)) if bad
    ]
    return {
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "role": node.role.value,
        "member_id": member_id,
        "chain_block": block,
        "indexed_to_block": cursor.next_block - 1 if cursor else None,
        "pending_transactions": pending_tx,
        "stuck_transactions": stuck_tx,
        "failed_transactions": failed_tx,
        "pending_deliveries": pending_deliveries,
    }


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
def metrics(node: NodeDep) -> Response:
    registry = CollectorRegistry()
    outbox = Gauge("confirmnet_outbox_transactions", "Chain steps by state", ["state"], registry=registry)
    deliveries = Gauge(
        "confirmnet_outbox_deliveries", "Envelope deliveries by state", ["state"], registry=registry
    )
    letters = Gauge("confirmnet_letters", "Letters by status", ["status"], registry=registry)
    indexed = Gauge("confirmnet_indexed_block", "The last block the indexer has read", registry=registry)
    requests = node.metrics_requests
    with node.db.session() as session:
        for state, count in session.execute(
            select(OutboxTransaction.state, func.count()).group_by(OutboxTransaction.state)
        ):
            outbox.labels(state).set(count)
        for state, count in session.execute(
            select(OutboxDelivery.state, func.count()).group_by(OutboxDelivery.state)
        ):
            deliveries.labels(state).set(count)
        for status, count in session.execute(
            select(LetterRow.status, func.count()).group_by(LetterRow.status)
        ):
            letters.labels(status).set(count)
        cursor = session.get(IndexerCursor, "events")
        indexed.set(cursor.next_block - 1 if cursor else 0)
    handled = Gauge(
        "confirmnet_http_requests", "HTTP requests handled, by status class", ["status"], registry=registry
    )
    for status_class, count in requests.items():
        handled.labels(status_class).set(count)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/identity", response_model=Identity, summary="Who this gateway is (public)")
def identity(node: NodeDep) -> Identity:
    try:
        member_id: int | None = node.member_id()
    except NotMember:
        member_id = None
    return Identity(
        role=node.role.value,
        display_name=node.settings.display_name,
        registration_code=node.settings.registration_code,
        account=node.address,
        member_id=member_id,
        endpoint=node.settings.effective_public_url,
        encryption_keys=to_hex(node.encryption_keys_blob()),
        chain_id=node.network_file.chain_id,
        confirmation_registry=node.network_file.confirmation_registry,
        member_registry=node.network_file.member_registry,
    )
