"""The peer API, gateway to gateway: separate from the user API, authenticated by member keys."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from node_gateway.api.deps import NodeDep
from node_gateway.peer.signing import sql_nonce_store, verify_peer_request
from node_gateway.protocol.envelopes import parse_envelope
from node_gateway.services.delivery import PEER_ENVELOPES_PATH
from node_gateway.services.inbound import receive_envelope

router = APIRouter(tags=["peer"])


@router.post(
    PEER_ENVELOPES_PATH, summary="Deliver an encrypted letter or reply (signed by the sending member)"
)
async def deliver_envelope(request: Request, node: NodeDep) -> dict[str, str]:
    body = await request.body()
    # The route's own path, not the URL's: a proxy in front may add a prefix the sender never saw.
    path = PEER_ENVELOPES_PATH
    headers = dict(request.headers)

    def handle() -> dict[str, str]:
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
        envelope = parse_envelope(body)
        return {"result": receive_envelope(node, sender, envelope)}

    return await run_in_threadpool(handle)
