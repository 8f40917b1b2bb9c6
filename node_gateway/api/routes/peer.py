"""The peer API, gateway to gateway: separate from the user API, authenticated by member keys.

A call is dealt with in an order that costs an unauthenticated caller as little as possible:

1. the signature headers and the member they name, before a byte of the body is read: the
   headers must all be there, the sender must be an active member and the call addressed to
   this one (401 or 403);
2. the body, up to ``peer_max_body_bytes``: refused from its Content-Length, or as soon as the
   bytes streamed in pass the limit, without reading the rest (413 ``payload_too_large``);
3. the signature over the method, path, headers and body (401; a replayed call 409);
4. only then the body is parsed: a JSON object with the one key ``envelopes`` is a batch, any
   other JSON one envelope (400 ``envelope_malformed`` if it is none).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from pydantic_core import from_json
from starlette.concurrency import run_in_threadpool

from node_gateway.api.deps import NodeDep
from node_gateway.api.errors import GatewayRoute, classify, error_responses
from node_gateway.api.types import UINT32_MAX
from node_gateway.chain.contracts import Member, MemberStatus
from node_gateway.chain.errors import MemberRegistryUnknownMember
from node_gateway.errors import NodeGatewayError, PayloadTooLarge, PeerForged, PeerNotActive, PeerUnsigned
from node_gateway.node import Node
from node_gateway.peer.signing import (
    HEADER_RECIPIENT,
    HEADER_SENDER,
    PEER_HEADERS,
    sql_nonce_store,
    verify_peer_request,
)
from node_gateway.protocol.envelopes import Envelope, EnvelopeSuite, envelope_from, parse_envelope
from node_gateway.protocol.errors import EnvelopeMalformed, ProtocolError
from node_gateway.services.delivery import MAX_BATCH, PEER_ENVELOPES_PATH
from node_gateway.services.inbound import receive_envelope, receive_envelopes

LARGEST_ENVELOPE_BYTES = 1 << 20
"""The largest envelope the peer API expects: a letter or reply of some 2,000 entries (about
300 bytes each as canonical JSON), escaped into the envelope's content, sealed with the hybrid
suite and written in base64 (4/3) stays under 1 MiB."""

DEFAULT_MAX_BODY_BYTES = MAX_BATCH * LARGEST_ENVELOPE_BYTES + 4096
"""A full batch of the largest envelopes and the batch's own JSON around them (64 MiB and a bit);
``peer_max_body_bytes`` in the settings overrides it."""

_MEMBER_NUMBER = re.compile(r"[1-9][0-9]{0,9}")

router = APIRouter(tags=["peer"], route_class=GatewayRoute)

_MEMBER_SCHEMA = {"type": "integer", "minimum": 1, "maximum": UINT32_MAX}
_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["suite", "letter_id", "step", "sender", "recipient", "enc", "ciphertext"],
    "properties": {
        "version": {"type": "integer", "enum": [1]},
        "suite": {"type": "string", "enum": [suite.value for suite in EnvelopeSuite]},
        "letter_id": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
        "step": {"type": "string", "enum": ["letter", "reply"]},
        "sender": _MEMBER_SCHEMA,
        "recipient": _MEMBER_SCHEMA,
        "enc": {"type": "string", "format": "byte"},
        "ciphertext": {"type": "string", "format": "byte"},
    },
    "additionalProperties": False,
}
_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": name,
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "The sender's signature of the call (see node_gateway/peer/signing.py)",
        }
        for name in PEER_HEADERS
    ],
    "requestBody": {
        "required": True,
        "description": f"One envelope, or a batch of 1 to {MAX_BATCH}; at most `peer_max_body_bytes`",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _ENVELOPE_SCHEMA,
                        {
                            "type": "object",
                            "required": ["envelopes"],
                            "properties": {
                                "envelopes": {
                                    "type": "array",
                                    "items": _ENVELOPE_SCHEMA,
                                    "minItems": 1,
                                    "maxItems": MAX_BATCH,
                                }
                            },
                            "additionalProperties": False,
                        },
                    ]
                }
            }
        },
    },
}


@router.post(
    PEER_ENVELOPES_PATH,
    summary="Deliver an encrypted letter or reply (signed by the sending member)",
    responses=error_responses(400, 401, 403, 409, 413, 421, 422, 502, 503),
    openapi_extra=_OPENAPI,
)
async def deliver_envelope(request: Request, node: NodeDep) -> dict[str, Any]:
    headers = dict(request.headers)
    members: dict[int, Member] = {}  # read once per call, fresh from the chain

    def member_of(member_id: int) -> Member:
        if member_id not in members:
            members[member_id] = node.member(member_id, fresh=True)
        return members[member_id]

    await run_in_threadpool(_check_claimed_sender, headers, node.member_id, member_of)
    limit = node.settings.peer_max_body_bytes or DEFAULT_MAX_BODY_BYTES
    body = await _read_body(request, limit)
    # The route's own path, not the URL's: a proxy in front may add a prefix the sender never saw.
    path = PEER_ENVELOPES_PATH

    def handle() -> dict[str, Any]:
        sender = verify_peer_request(
            method=request.method,
            path=path,
            headers=headers,
            body=body,
            me=node.member_id(),
            member_of=member_of,
            remember_nonce=sql_nonce_store(node.db),
            now=time.time(),
            clock_skew_s=node.settings.peer_clock_skew_s,
        )
        return _deliver(node, sender, body)

    return await run_in_threadpool(handle)


def _check_claimed_sender(
    headers: Mapping[str, str], me: Callable[[], int], member_of: Callable[[int], Member]
) -> None:
    """What the headers claim, checked before the body is read: all signature headers present,
    an active sender, this member the recipient. The signature itself needs the body's hash and
    is checked after it (``verify_peer_request`` checks all of this again, then)."""
    for name in PEER_HEADERS:
        if name.lower() not in headers:
            raise PeerUnsigned(f"missing header {name}")
    sender = _member_number(headers, HEADER_SENDER)
    if _member_number(headers, HEADER_RECIPIENT) != me():
        raise PeerForged(f"addressed to member {headers[HEADER_RECIPIENT.lower()]}, not to this one")
    try:
        member = member_of(sender)
    except MemberRegistryUnknownMember as exc:
        raise PeerForged(f"no member {sender}") from exc
    if member.status != MemberStatus.ACTIVE:
        raise PeerNotActive(f"member {sender} is {member.status.name.lower()}")


def _member_number(headers: Mapping[str, str], name: str) -> int:
    value = headers[name.lower()]
    if not _MEMBER_NUMBER.fullmatch(value) or int(value) > UINT32_MAX:
        raise PeerUnsigned(f"malformed header {name}")
    return int(value)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) from its declared length or once more than ``limit`` bytes came."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; this gateway reads at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes, the most this gateway reads")
        chunks.append(chunk)
    return b"".join(chunks)


def _deliver(node: Node, sender: int, body: bytes) -> dict[str, Any]:
    try:
        data = from_json(body)  # not json.loads: see GatewayRoute on deeply nested bodies
    except ValueError as exc:
        raise EnvelopeMalformed(f"the body is not JSON: {exc}") from exc
    if isinstance(data, dict) and "envelopes" in data:
        return {"results": _receive_batch(node, sender, _batch(data))}
    return {"result": receive_envelope(node, sender, parse_envelope(body))}


def _batch(data: dict[str, Any]) -> list[object]:
    items = data["envelopes"]
    if len(data) != 1 or not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        raise EnvelopeMalformed(f'a batch is {{"envelopes": [1 to {MAX_BATCH} envelopes]}} and nothing else')
    return items


def _receive_batch(node: Node, sender: int, items: list[object]) -> list[dict[str, Any]]:
    """Each envelope of a batch (as read from the body's JSON, validated as it is): its result, or
    its error, without failing the others."""
    results: list[dict[str, Any] | None] = []
    envelopes: list[tuple[int, Envelope]] = []
    for index, item in enumerate(items):
        try:
            envelopes.append((index, envelope_from(item)))
            results.append(None)
        except ProtocolError as exc:
            results.append(_error(exc))
    received = receive_envelopes(node, sender, [envelope for _, envelope in envelopes])
    for (index, _), outcome in zip(envelopes, received, strict=True):
        results[index] = _error(outcome) if isinstance(outcome, Exception) else {"result": outcome}
    return [result for result in results if result is not None]


def _error(exc: NodeGatewayError) -> dict[str, Any]:
    status, code, _ = classify(exc)
    return {"error": {"status": status, "code": code, "message": str(exc)}}
