"""The peer API, gateway to gateway: separate from the user API, authenticated by member keys."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from node_gateway.api.deps import NodeDep
from node_gateway.api.errors import classify
from node_gateway.chain.errors import ChainError
from node_gateway.errors import GatewayError
from node_gateway.node import Node
from node_gateway.peer.signing import sql_nonce_store, verify_peer_request
from node_gateway.protocol.envelopes import Envelope, parse_envelope
from node_gateway.protocol.errors import EnvelopeMalformed, ProtocolError
from node_gateway.services.delivery import MAX_BATCH, PEER_ENVELOPES_PATH
from node_gateway.services.inbound import receive_envelope, receive_envelopes

router = APIRouter(tags=["peer"])


@router.post(
    PEER_ENVELOPES_PATH, summary="Deliver an encrypted letter or reply (signed by the sending member)"
)
async def deliver_envelope(request: Request, node: NodeDep) -> dict[str, Any]:
    body = await request.body()
    # The route's own path, not the URL's: a proxy in front may add a prefix the sender never saw.
    path = PEER_ENVELOPES_PATH
    headers = dict(request.headers)

    def handle() -> dict[str, Any]:
        sender = verify_peer_request(
            method=request.method,
            path=path,
            headers=headers,
            body=body,
            me=node.member_id(),
            member_of=lambda member_id: node.member(member_id, fresh=True),
            remember_nonce=sql_nonce_store(node.db),
            now=time.time(),
            clock_skew_s=node.settings.peer_clock_skew_s,
        )
        if body.lstrip().startswith(b'{"envelopes"'):
            return {"results": _receive_batch(node, sender, _batch(body))}
        return {"result": receive_envelope(node, sender, parse_envelope(body))}

    return await run_in_threadpool(handle)


def _batch(body: bytes) -> list[str]:
    try:
        items = json.loads(body)["envelopes"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EnvelopeMalformed('a batch is {"envelopes": [envelope, …]}') from exc
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        raise EnvelopeMalformed(f"a batch holds 1 to {MAX_BATCH} envelopes")
    return [json.dumps(item) for item in items]


def _receive_batch(node: Node, sender: int, items: list[str]) -> list[dict[str, Any]]:
    """Each envelope of a batch: its result, or its error, without failing the others."""
    results: list[dict[str, Any] | None] = []
    envelopes: list[tuple[int, Envelope]] = []
    for index, item in enumerate(items):
        try:
            envelopes.append((index, parse_envelope(item)))
            results.append(None)
        except ProtocolError as exc:
            results.append(_error(exc))
    received = receive_envelopes(node, sender, [envelope for _, envelope in envelopes])
    for (index, _), outcome in zip(envelopes, received, strict=True):
        results[index] = _error(outcome) if isinstance(outcome, Exception) else {"result": outcome}
    return [result for result in results if result is not None]


def _error(exc: GatewayError | ProtocolError | ChainError) -> dict[str, Any]:
    status, code, _ = classify(exc)
    return {"error": {"status": status, "code": code, "message": str(exc)}}
