"""Peer endpoints as the network's policy allows: a member cannot make other gateways post to
their own loopback or private network, or send envelopes over plain http, unless the network's
configuration says it lives there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from node_gateway.chain.network import EndpointPolicy, NetworkFile
from node_gateway.errors import EndpointRefused
from node_gateway.peer.endpoints import Resolver, check_endpoint
from node_gateway.services.delivery import DeliveryWorker
from node_gateway.storage.models import OutboxDelivery

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain

PUBLIC, PRIVATE, DEVELOPMENT = EndpointPolicy.PUBLIC, EndpointPolicy.PRIVATE, EndpointPolicy.DEVELOPMENT


def _resolves_to(*addresses: str) -> Resolver:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("url", "policy", "resolved", "allowed"),
    [
        ("https://93.184.215.14/", PUBLIC, (), True),
        ("https://gateway.bank.example", PUBLIC, ("93.184.215.14",), True),
        ("https://gateway.bank.example", PUBLIC, ("93.184.215.14", "10.0.0.5"), False),
        ("https://gateway.bank.example", PUBLIC, ("::1",), False),
        ("http://93.184.215.14/", PUBLIC, (), False),
        ("https://127.0.0.1:8700", PUBLIC, (), False),
        ("https://10.1.2.3", PUBLIC, (), False),
        ("https://192.168.0.7", PUBLIC, (), False),
        ("https://169.254.169.254", PUBLIC, (), False),  # cloud metadata
        ("https://[::1]:8700", PUBLIC, (), False),
        ("https://[fd00::1]", PUBLIC, (), False),
        ("https://0.0.0.0", PUBLIC, (), False),
        ("https://user:secret@93.184.215.14", PUBLIC, (), False),
        ("https://", PUBLIC, (), False),
        ("ftp://93.184.215.14", PUBLIC, (), False),
        ("https://10.1.2.3", PRIVATE, (), True),
        ("https://gateway.internal", PRIVATE, ("10.0.0.5",), True),
        ("http://10.1.2.3", PRIVATE, (), False),
        ("http://127.0.0.1:8700", DEVELOPMENT, (), True),
        ("file:///etc/passwd", DEVELOPMENT, (), False),
    ],
)
def test_the_policy_decides_which_endpoints_are_posted_to(
    url: str, policy: EndpointPolicy, resolved: tuple[str, ...], allowed: bool
) -> None:
    resolve = _resolves_to(*resolved)
    if allowed:
        check_endpoint(url, policy, resolve=resolve)
    else:
        with pytest.raises(EndpointRefused):
            check_endpoint(url, policy, resolve=resolve)


def test_a_network_file_without_a_policy_is_public() -> None:
    network = NetworkFile.model_validate(
        {"chain_id": 1, "rpc_url": "x", "member_registry": "0x", "confirmation_registry": "0x",
         "deployment_block": 0}
    )  # fmt: skip
    assert network.peer_endpoints is PUBLIC


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on loopback that records the paths posted to it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.mark.parametrize(
    ("scheme", "policy", "posted"),
    [("https", PUBLIC, False), ("http", PRIVATE, False), ("http", DEVELOPMENT, True)],
)
def test_delivery_posts_only_to_endpoints_the_policy_allows(
    in_process: Chain,
    tmp_path: Path,
    listener: tuple[str, list[str]],
    scheme: str,
    policy: EndpointPolicy,
    posted: bool,
) -> None:
    address, hits = listener
    deployment = in_process.deploy()
    bank = deployment.bank
    keys = deployment.members.get_member(bank.member_id).encryption_keys
    deployment.send(bank, deployment.members.update_endpoint(f"{scheme}://{address}", keys))
    node = gateway_node(deployment, deployment.firm, tmp_path, peer_endpoints=policy)
    with node.db.session() as session:
        session.add(
            OutboxDelivery(letter_id="0x" + "11" * 32, step="letter", recipient=bank.member_id, envelope={})
        )
    DeliveryWorker(node).run_once()
    with node.db.session() as session:
        row = session.scalars(select(OutboxDelivery)).one()
        state, error = row.state, row.last_error or ""
    assert bool(hits) is posted
    if not posted:  # held back, not given up: the member may correct its endpoint
        assert (state, error.split(":")[0]) == ("pending", "endpoint_refused")
