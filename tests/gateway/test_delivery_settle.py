"""How the delivery worker settles a batch's envelopes from the recipient's answer, envelope by
envelope: delivered, retried later (the recipient's chain lags), or refused for good; posted over
real HTTP to a loopback server that answers as a gateway does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from node_gateway.chain.network import EndpointPolicy
from node_gateway.services.delivery import DeliveryWorker
from node_gateway.storage.models import OutboxDelivery, utcnow

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain

ANSWER = {
    "results": [
        {"result": "stored"},
        {"error": {"status": 409, "code": "chain_not_ready", "message": "not authorised on chain yet"}},
        {"error": {"status": 400, "code": "envelope_malformed", "message": "not a valid envelope"}},
        {"result": "duplicate"},
    ]
}


@pytest.fixture
def recipient() -> Iterator[tuple[str, list[int]]]:
    """A loopback gateway that answers every batch with ``ANSWER``; the batch sizes it got."""
    batches: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            batches.append(len(body["envelopes"]))
            answer = json.dumps(ANSWER).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", batches
    server.shutdown()


def test_a_batch_is_settled_envelope_by_envelope(
    in_process: Chain, tmp_path: Path, recipient: tuple[str, list[int]]
) -> None:
    endpoint, batches = recipient
    deployment = in_process.deploy()
    bank = deployment.bank
    keys = deployment.members.get_member(bank.member_id).encryption_keys
    deployment.send(bank, deployment.members.update_endpoint(endpoint, keys))
    node = gateway_node(deployment, deployment.firm, tmp_path, peer_endpoints=EndpointPolicy.DEVELOPMENT)
    letters = ["0x" + f"{n:064x}" for n in range(1, 5)]
    with node.db.session() as session:
        session.add_all(
            OutboxDelivery(letter_id=lid, step="letter", recipient=bank.member_id, envelope={"n": n})
            for n, lid in enumerate(letters)
        )
    started = utcnow()
    assert DeliveryWorker(node).run_once() == 2
    assert batches == [4]
    with node.db.session() as session:
        rows = {row.letter_id: row for row in session.scalars(select(OutboxDelivery))}
        settled = {
            lid: (row.state, row.attempts, row.last_error, row.done_at, row.next_attempt_at, row.envelope)
            for lid, row in rows.items()
        }
    for lid in (letters[0], letters[3]):  # delivered: done, its envelope kept as it was
        state, attempts, error, done_at, _, envelope = settled[lid]
        assert (state, attempts, error) == ("done", 1, None)
        assert isinstance(done_at, datetime)
        assert done_at >= started
        assert envelope == {"n": letters.index(lid)}
    state, attempts, error, done_at, next_attempt, _ = settled[letters[1]]
    assert (state, attempts, error, done_at) == ("pending", 1, "409 chain_not_ready", None)
    assert next_attempt > started  # after its backoff
    state, attempts, error, done_at, _, _ = settled[letters[2]]
    assert (state, attempts) == ("failed", 1)
    assert (error or "").startswith("400 envelope_malformed")
    assert done_at is not None
