"""Database fixtures: the same tests on SQLite and on PostgreSQL.

``database_url`` is parametrised over both backends and gives each test an empty database of
its own: a SQLite file in ``tmp_path``, or a fresh database in a PostgreSQL cluster that the
session starts once (see ``postgres.py``). Where PostgreSQL is not installed or does not start,
the ``postgresql`` cases are skipped with the reason; ``-k sqlite`` or ``-k postgresql`` picks
one backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from node_gateway.chain.network import EndpointPolicy, NetworkFile
from node_gateway.core.config import GatewaySettings, MemberRole
from node_gateway.core.keys import MemberKeys
from node_gateway.node import Node
from node_gateway.protocol.envelopes import DEFAULT_SUITE, EncryptionKeyPair
from node_gateway.storage.db import Database

from .postgres import PostgresCluster, PostgresUnavailable

if TYPE_CHECKING:
    from conftest import Deployment, Party

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session (per xdist worker)."""
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL is not available: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database of the backend, for this test only."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    with cluster.database() as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated gateway database of the backend."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


def gateway_node(
    deployment: Deployment,
    party: Party,
    tmp_path: Path,
    *,
    peer_endpoints: EndpointPolicy = EndpointPolicy.DEVELOPMENT,
    **settings: Any,
) -> Node:
    """A member's node on a test deployment, sharing the party's transaction sender; ``settings``
    override the gateway's (a bank's core bank, say)."""
    network = deployment.network
    network_file = NetworkFile(
        chain_id=deployment.chain.chain_id,
        rpc_url="in-process",
        member_registry=network.members.address,
        confirmation_registry=network.confirmations.address,
        deployment_block=network.deployment_block,
        verifiers=network.verifiers,
        peer_endpoints=peer_endpoints,
    )
    gateway_settings = GatewaySettings(
        role=next(role for role in MemberRole if role.chain_role == party.role),
        display_name=party.name,
        registration_code="91310000MA1FL0TE5Q",
        data_dir=tmp_path,
        network_file=tmp_path / "network.json",
    ).model_copy(update=settings)
    db = Database(f"sqlite:///{tmp_path / 'gateway.db'}")
    db.migrate()
    keys = MemberKeys(party.sender.account, (EncryptionKeyPair.generate(DEFAULT_SUITE),), os.urandom(32))
    node = Node(
        settings=gateway_settings,
        keys=keys,
        db=db,
        w3=deployment.w3,
        network=network,
        network_file=network_file,
    )
    node.sender = party.sender  # one nonce counter per account: the tests' and the node's
    return node
