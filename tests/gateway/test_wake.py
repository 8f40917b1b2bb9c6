"""The background loops wake on work, not on a timer: with every fallback interval set to an hour,
a step queued in this process still goes to the chain, and a block made by someone else is still
indexed (the node announces it over WebSocket); a retry wakes its queue when it falls due, and a
commit by another process when it is seen; where the node announces nothing, the indexer polls at
``poll_interval_s``."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eth_account import Account
from sqlalchemy import select

from confirmnet.launcher import wait_until
from node_gateway.api.app import start_workers
from node_gateway.chain.contracts import Role
from node_gateway.chain.network import connect
from node_gateway.core.config import MemberRole
from node_gateway.node import Node
from node_gateway.plugins import GatewayPlugin, Worker
from node_gateway.services.file_writes import watch_writes
from node_gateway.services.heads import HeadListener, ws_url_beside, ws_url_of
from node_gateway.services.outbox import enqueue_step
from node_gateway.services.worker import BackgroundWorker, DatabaseChanges, seconds_until_due
from node_gateway.storage.db import Database
from node_gateway.storage.models import ChainEventRow, OutboxTransaction, utcnow

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain

HOUR = 3600.0
GUARD_S = 120.0  # a hang guard only: what the tests wait for comes at the next wake or never


def _admit_step(account: str) -> dict[str, object]:
    return {
        "account": account,
        "role": int(Role.BANK),
        "org_id": "0x" + os.urandom(32).hex(),
        "display_name": "银行",
        "endpoint": "",
        "encryption_keys": "0x",
    }


def _events(node: Node, name: str) -> list[str]:
    with node.db.session() as session:
        return [
            str(row.args["account"]).lower()
            for row in session.scalars(select(ChainEventRow).where(ChainEventRow.name == name))
        ]


def _state(node: Node, key: str) -> str | None:
    with node.db.session() as session:
        row = session.scalar(select(OutboxTransaction).where(OutboxTransaction.key == key))
        return None if row is None else row.state


@pytest.mark.anvil
def test_a_queued_step_and_a_new_block_wake_the_loops_without_a_poll(
    anvil_rpc_url: str, tmp_path: Path
) -> None:
    from conftest import Chain

    deployment = Chain(connect(anvil_rpc_url), "anvil").deploy()
    node = gateway_node(
        deployment,
        deployment.operator,
        tmp_path,
        poll_interval_s=HOUR,
        queue_fallback_s=HOUR,
        queue_fallback_watched_s=HOUR,
    )
    assert ws_url_of(node) == "ws" + anvil_rpc_url.removeprefix("http")
    workers = start_workers(node, plugins=[])
    try:
        # Queued in this process: the commit's wake sends it, and the block it makes is indexed.
        mine = Account.create().address
        with node.db.session() as session:
            enqueue_step(session, key=f"admit:{mine}", step="admit", payload=_admit_step(mine))
        node.notify()
        wait_until(
            lambda: mine.lower() in _events(node, "MemberAdmitted"), GUARD_S, "the queued step indexed"
        )
        # Its receipt is the outbox's, read at a wake of its own (a new head): it may come after.
        wait_until(lambda: _state(node, f"admit:{mine}") == "done", GUARD_S, "the queued step done")
        # A block made by another party: only the node's announcement can wake the indexer.
        theirs = deployment.new_member(Role.BANK).address
        wait_until(lambda: theirs.lower() in _events(node, "MemberAdmitted"), GUARD_S, "their block indexed")
    finally:
        for worker in workers:
            worker.stop()


@pytest.mark.anvil
def test_announced_heads_stand_for_the_node_and_wake_a_receipt_wait(anvil_rpc_url: str) -> None:
    from conftest import SEND_GAS, Chain

    deployment = Chain(connect(anvil_rpc_url), "anvil").deploy()
    wake = threading.Event()
    heads = HeadListener(ws_url_beside(deployment.w3), wake)
    listener = BackgroundWorker("new heads", heads.run_once, threading.Event(), HOUR, closing=heads.close)
    listener.start()
    try:
        wait_until(lambda: heads.subscribed, GUARD_S, "the subscription")
        assert heads.announced(HOUR) is None  # no block since it subscribed: ask the node
        sender = deployment.operator.sender
        call = deployment.members.admit(
            account=Account.create().address, role=Role.BANK, org_id=os.urandom(32), display_name="银行"
        )
        # The receipt is asked for again when a block is announced, not on a timer.
        block = sender.confirm(sender.submit(call, gas=SEND_GAS), call, blocks=heads)
        assert block == deployment.w3.eth.block_number
        wait_until(lambda: heads.announced(HOUR) == block, GUARD_S, "the block announced")
        deployment.new_member(Role.BANK)  # a block by someone else
        heads.wait_after(block, GUARD_S)
        assert heads.announced(HOUR) == deployment.w3.eth.block_number > block
    finally:
        listener.stop()
    assert not heads.subscribed
    assert heads.announced(HOUR) is None  # no longer following: ask the node


def test_on_an_sqlite_file_the_queues_fall_back_at_the_watched_interval(
    in_process: Chain, tmp_path: Path
) -> None:
    """Every commit to an SQLite file, by any process, wakes the queues, so they and the plugins'
    workers fall back at ``queue_fallback_watched_s`` there, not at ``queue_fallback_s``."""
    deployment = in_process.deploy()
    node = gateway_node(
        deployment, deployment.operator, tmp_path, queue_fallback_s=HOUR, queue_fallback_watched_s=0.05
    )
    assert node.db.engine.url.database, "an SQLite file"
    rounds: list[int] = []

    def count_a_round() -> int:
        rounds.append(1)
        return 0  # found no work: sleep until woken or the fallback

    class _Counting(GatewayPlugin):
        name = "counting"
        roles = frozenset(MemberRole)

        def workers(self, node: Node) -> Sequence[Worker]:
            return (Worker("counting", count_a_round),)

    workers = start_workers(node, plugins=[_Counting()])
    try:
        # The start's own commits wake it a few times; twenty rounds come only from the fallback.
        wait_until(lambda: len(rounds) >= 20, GUARD_S, "the plugin's worker to fall back at 0.05 s")
    finally:
        for worker in workers:
            worker.stop()


def test_a_retry_wakes_its_queue_when_due(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path, queue_fallback_s=HOUR)
    assert seconds_until_due(node.db, OutboxTransaction, HOUR) == HOUR  # nothing queued
    with node.db.session() as session:
        enqueue_step(session, key="later", step="admit", payload=_admit_step(Account.create().address))
    with node.db.session() as session:
        row = session.scalars(select(OutboxTransaction)).one()
        row.next_attempt_at = utcnow() + timedelta(seconds=30)
    assert 25 < seconds_until_due(node.db, OutboxTransaction, HOUR) <= 30
    assert seconds_until_due(node.db, OutboxTransaction, 5.0) == 5.0
    with node.db.session() as session:
        session.scalars(select(OutboxTransaction)).one().next_attempt_at = utcnow() - timedelta(seconds=1)
    assert seconds_until_due(node.db, OutboxTransaction, HOUR) == 0.0


def test_a_worker_sleeps_until_woken_or_its_idle_time(tmp_path: Path) -> None:
    rounds: list[int] = []
    wake = threading.Event()
    idle = [HOUR]

    def count() -> int:
        rounds.append(1)
        return 0

    worker = BackgroundWorker("counting", count, wake, lambda: idle[0])
    worker.start()
    try:
        wait_until(lambda: len(rounds) == 1, GUARD_S, "the first round")
        wake.set()
        wait_until(lambda: len(rounds) == 2, GUARD_S, "the round after the wake")
        idle[0] = 0.0  # due at once: looked at again after the shortest sleep, not in a spin
        wake.set()
        wait_until(lambda: len(rounds) >= 5, GUARD_S, "rounds at the shortest sleep")
    finally:
        worker.stop()
    assert not worker._thread.is_alive()


def test_without_a_websocket_the_indexer_polls(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path)
    assert ws_url_of(node) is None  # the in-process chain has no URL
    wake = threading.Event()
    assert HeadListener(None, wake).run_once() == 0
    refused = HeadListener("ws://127.0.0.1:9", wake)  # nothing listens there
    assert refused.run_once() == 0
    assert not refused.subscribed
    assert not wake.is_set()
    node.settings = node.settings.model_copy(update={"ws_url": "ws://node.example:8546"})
    assert ws_url_of(node) == "ws://node.example:8546"  # a node serving WebSocket on its own port


def _commit_from_another_pool(node: Node, key: str) -> None:
    other = Database(str(node.db.engine.url))  # another connection pool, as another process has
    try:
        with other.session() as session:
            enqueue_step(session, key=key, step="admit", payload=_admit_step(Account.create().address))
    finally:
        other.dispose()


def test_a_commit_by_another_process_wakes_the_queues(in_process: Chain, tmp_path: Path) -> None:
    """Told by inotify: a worker round sleeps until the database is written, then wakes the queues."""
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path, queue_fallback_s=HOUR)
    woken: list[int] = []
    changes = DatabaseChanges(node.db, lambda: woken.append(1))
    assert changes.writes is not None, "inotify is there on Linux"
    assert not changes.writes.wait(0)  # nothing written since the watch began
    worker = BackgroundWorker(
        "database changes", changes.run_once, threading.Event(), HOUR, closing=changes.close
    )
    worker.start()
    try:
        _commit_from_another_pool(node, "theirs")
        wait_until(lambda: woken, GUARD_S, "the commit to wake the queues")
    finally:
        worker.stop()  # ends the round waiting for a write
    assert not worker._thread.is_alive()
    assert not changes.writes.wait()  # closed: nothing to wait for


def test_writes_to_a_log_made_after_the_watch_are_seen(tmp_path: Path) -> None:
    database, log = tmp_path / "gateway.db", tmp_path / "gateway.db-wal"
    database.write_bytes(b"")
    writes = watch_writes([database, log])
    assert writes is not None
    try:
        (tmp_path / "gateway.log").write_text("another file")
        assert not writes.wait(0)  # another file of the directory: nothing to wake for
        log.write_bytes(b"created")
        assert writes.wait(GUARD_S)
        assert not writes.wait(0)  # every event taken at once
        with log.open("ab") as handle:
            handle.write(b"a commit")
        assert writes.wait(GUARD_S)  # its writes are watched from its creation on
    finally:
        writes.close()


def test_without_inotify_a_commit_is_seen_by_the_files_stamps(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path, queue_fallback_s=HOUR)
    woken: list[int] = []
    changes = DatabaseChanges(node.db, lambda: woken.append(1))
    changes.close()
    changes.writes = None  # as on a system without inotify
    assert changes.run_once() == 0
    assert woken == []  # nothing committed since it looked
    _commit_from_another_pool(node, "theirs")
    changes.run_once()
    assert woken == [1]
    changes.run_once()
    assert woken == [1]  # once per change
    assert DatabaseChanges(Database("sqlite://"), lambda: None).paths == []  # nothing to look at
