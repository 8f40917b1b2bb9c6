"""The peer endpoint reads no body of any size before it knows who claims to send it: the
signature headers and the sender first (401/403), then at most ``peer_max_body_bytes`` (413,
from the declared length or while streaming, the rest left unread), then the signature, and
only then the body is parsed: a batch is a JSON object of ``envelopes``, however it is spaced.

The application is called as ASGI directly, so the tests see how much of the body it read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from node_gateway.api.routes.peer import DEFAULT_MAX_BODY_BYTES, LARGEST_ENVELOPE_BYTES
from node_gateway.core.config import MemberRole
from node_gateway.peer.signing import HEADER_SENDER, sign_peer_request
from node_gateway.protocol.documents import DepositAccount, Item
from node_gateway.protocol.envelopes import EncryptionKeyPair, EnvelopeSuite, seal
from node_gateway.protocol.hashing import canonical_bytes, new_salt
from node_gateway.protocol.samples import sample_letter
from node_gateway.services.delivery import MAX_BATCH, PEER_ENVELOPES_PATH, EnvelopeContent
from node_gateway.storage.vault import StoredDocument

from .api_apps import Gateway, gateway

if TYPE_CHECKING:
    from conftest import Chain, Deployment

LIMIT = 4096
CHUNK = 1024


@dataclass
class Peers:
    deployment: Deployment
    firm: Gateway  # the recipient, its peer API limited to LIMIT bytes


@pytest.fixture(scope="module")
def peers(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peers]:
    deployment = in_process.deploy()
    firm = gateway(
        deployment, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("peer"), peer_max_body_bytes=LIMIT
    )
    yield Peers(deployment, firm)
    firm.node.db.dispose()


@dataclass
class Answer:
    status: int
    body: Any
    chunks_read: int


def _post(
    peers: Peers, headers: dict[str, str], chunks: list[bytes], *, content_length: int | None = None
) -> Answer:
    """POSTs ``chunks`` to the firm's peer endpoint; the answer and how many chunks it read."""
    read = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    all_headers = {"content-type": "application/json"} | headers
    if content_length is not None:
        all_headers["content-length"] = str(content_length)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PEER_ENVELOPES_PATH,
        "raw_path": PEER_ENVELOPES_PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in all_headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("firm.test", 80),
        "state": {},
    }
    asyncio.run(peers.firm.app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], json.loads(body), read)


def _signed(peers: Peers, body: bytes, *, sender: str = "bank") -> dict[str, str]:
    party = getattr(peers.deployment, sender)
    return sign_peer_request(
        party.sender.account,
        sender=party.member_id,
        recipient=peers.deployment.firm.member_id,
        method="POST",
        path=PEER_ENVELOPES_PATH,
        body=body,
    )


def _chunks(size: int) -> list[bytes]:
    return [b" " * CHUNK for _ in range(size // CHUNK)]


def _error(answer: Answer, status: int, code: str) -> None:
    assert (answer.status, answer.body["error"]["code"]) == (status, code), answer.body
    assert set(answer.body["error"]) == {"code", "message", "details"}


def test_a_body_declared_too_large_is_refused_unread(peers: Peers) -> None:
    chunks = _chunks(100 * CHUNK)
    answer = _post(peers, _signed(peers, b"{}"), chunks, content_length=len(chunks) * CHUNK)
    _error(answer, 413, "payload_too_large")
    assert answer.chunks_read == 0


def test_a_body_streaming_past_the_limit_is_refused_there(peers: Peers) -> None:
    answer = _post(peers, _signed(peers, b"{}"), _chunks(100 * CHUNK))  # no Content-Length
    _error(answer, 413, "payload_too_large")
    assert answer.chunks_read == LIMIT // CHUNK + 1


def test_a_body_within_the_limit_is_read_and_its_signature_checked(peers: Peers) -> None:
    body = b"{}"
    answer = _post(peers, _signed(peers, b"another body"), [body], content_length=len(body))
    _error(answer, 401, "peer_forged")


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "peer_unsigned"),
        ({HEADER_SENDER: "01"}, 401, "peer_unsigned"),
        ({HEADER_SENDER: "4294967295"}, 401, "peer_forged"),  # no such member
        ({HEADER_SENDER: "99999999999"}, 401, "peer_unsigned"),  # beyond uint32
    ],
    ids=["unsigned", "malformed-sender", "unknown-sender", "huge-sender"],
)
def test_an_unauthenticated_call_is_refused_before_its_body_is_read(
    peers: Peers, headers: dict[str, str], status: int, code: str
) -> None:
    claimed = _signed(peers, b"{}") | headers if headers else {}
    chunks = _chunks(100 * CHUNK)
    answer = _post(peers, claimed, chunks, content_length=len(chunks) * CHUNK)
    _error(answer, status, code)
    assert answer.chunks_read == 0


def test_a_call_addressed_to_another_member_is_refused_before_its_body_is_read(peers: Peers) -> None:
    deployment = peers.deployment
    headers = sign_peer_request(
        deployment.bank.sender.account,
        sender=deployment.bank.member_id,
        recipient=deployment.firm2.member_id,
        method="POST",
        path=PEER_ENVELOPES_PATH,
        body=b"{}",
    )
    answer = _post(peers, headers, _chunks(8 * CHUNK))
    _error(answer, 401, "peer_forged")
    assert answer.chunks_read == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{ "envelopes": [ {"suite": "x25519-hkdf_sha256-chacha20poly1305"} ] }',
        b'\n{"envelopes":[{"suite": "x25519-hkdf_sha256-chacha20poly1305"}]}',
    ],
    ids=["spaced", "newline"],
)
def test_a_batch_is_recognised_by_parsing_it(peers: Peers, body: bytes) -> None:
    answer = _post(peers, _signed(peers, body), [body])
    assert answer.status == 200, answer.body
    [result] = answer.body["results"]
    assert result["error"]["code"] == "envelope_malformed"


@pytest.mark.parametrize(
    "body",
    [b'{"envelopes": [', b'{"envelopes": [], "more": 1}', b'{"envelopes": []}', b"[" * 4000],
    ids=["not-json", "extra-key", "empty", "deep"],
)
def test_a_body_that_is_no_envelope_nor_batch_is_malformed(peers: Peers, body: bytes) -> None:
    _error(_post(peers, _signed(peers, body), [body]), 400, "envelope_malformed")


def test_the_default_limit_holds_a_full_batch_of_the_largest_envelopes() -> None:
    letter = sample_letter()
    first = letter.items.deposits.entries[0]
    entries = tuple(
        DepositAccount.model_validate(first.model_dump() | {"account_no": f"3105016137360{n:07d}"})
        for n in range(2000)
    )
    big = letter.model_copy(
        update={"items": letter.items.model_copy(update={"deposits": Item(entries=entries)})}
    )
    content = EnvelopeContent.of(StoredDocument(canonical=canonical_bytes(big), salt=new_salt()))
    key = EncryptionKeyPair.generate(EnvelopeSuite.MLKEM768_X25519).public_key
    envelope = seal(
        content.model_dump_json().encode(), key, letter_id=big.letter_id, step="letter", sender=1, recipient=2
    )
    size = len(envelope.model_dump_json())
    assert 500_000 < size <= LARGEST_ENVELOPE_BYTES
    batch = len(json.dumps({"envelopes": [json.loads(envelope.model_dump_json())] * MAX_BATCH}))
    assert batch <= DEFAULT_MAX_BODY_BYTES
