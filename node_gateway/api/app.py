"""The gateway application: the routes of this member's role, the peer API, and the workers; and
what the plugins serving its role add to them (``node_gateway.plugins``)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node_gateway import web
from node_gateway.api.errors import install_error_handlers
from node_gateway.api.routes import (
    bank_rules,
    firm,
    letters,
    members,
    operator,
    peer,
    regulator,
    system,
    users,
)
from node_gateway.core.config import MemberRole
from node_gateway.core.logging import current_letter
from node_gateway.node import Node
from node_gateway.plugins import GatewayPlugin, for_role
from node_gateway.services.delivery import DeliveryWorker
from node_gateway.services.heads import RESUBSCRIBE_S, HeadListener, ws_url_of
from node_gateway.services.housekeeping import Housekeeping
from node_gateway.services.indexer import Indexer
from node_gateway.services.outbox import TransactionOutbox
from node_gateway.services.worker import DATABASE_CHECK_S, BackgroundWorker, DatabaseChanges

log = logging.getLogger(__name__)

_ROLE_ROUTERS = {
    MemberRole.AUDIT_FIRM: [letters.router, firm.router, members.router, bank_rules.firm_router],
    MemberRole.BANK: [letters.router, bank_rules.peer_router],
    MemberRole.REGULATOR: [regulator.router],
    MemberRole.OPERATOR: [operator.router, members.router],
}


def start_workers(node: Node, plugins: Sequence[GatewayPlugin] | None = None) -> list[BackgroundWorker]:
    """Starts the core's workers and those of the plugins (installed ones unless given) for the
    node's role. They wake on work (``services.worker``): the queues when this process queues
    something or a retry falls due, the indexer at every block the node announces (or, where it
    announces none, every ``poll_interval_s``)."""
    settings = node.settings
    new_block = node.waker()
    heads = HeadListener(ws_url_of(node), new_block)
    outbox, deliveries = TransactionOutbox(node, heads), DeliveryWorker(node)
    changes = DatabaseChanges(node.db, node.notify)  # commits by another process
    # Where every process's commits wake the queues, their fallback bounds only a plugin's pause.
    fallback_s = settings.queue_fallback_watched_s if changes.paths else settings.queue_fallback_s

    def indexer_idle_s() -> float:
        return settings.queue_fallback_s if heads.subscribed else settings.poll_interval_s

    workers = [
        BackgroundWorker(
            "outbox", outbox.run_once, node.waker(), functools.partial(outbox.idle_s, fallback_s)
        ),
        BackgroundWorker("indexer", Indexer(node, heads).run_once, new_block, indexer_idle_s),
        BackgroundWorker("new heads", heads.run_once, threading.Event(), RESUBSCRIBE_S, closing=heads.close),
        BackgroundWorker(
            "delivery", deliveries.run_once, node.waker(), functools.partial(deliveries.idle_s, fallback_s)
        ),
    ]
    housekeeping = Housekeeping(node)
    workers.append(BackgroundWorker("housekeeping", housekeeping.run_once, node.waker(), housekeeping.idle_s))
    if changes.paths:
        workers.append(
            BackgroundWorker(
                "database changes",
                changes.run_once,
                threading.Event(),
                DATABASE_CHECK_S,
                closing=changes.close,
            )
        )
    for plugin in for_role(node.role, plugins):
        for work in plugin.workers(node):
            idle_s = work.poll_s or fallback_s
            workers.append(BackgroundWorker(work.name, work.run_once, node.waker(), idle_s))
    for worker in workers:
        worker.start()
    return workers


class _Observed:
    """Each request: the letter its path names, for the log lines it causes; its status class
    counted (``/metrics``). A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would run
    every request in a task group of its own and pass its response through a stream."""

    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        token = current_letter.set(
            next((p.lower() for p in path.split("/") if len(p) == 66 and p.startswith("0x")), None)
        )
        started = time.perf_counter()
        status = 0

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            current_letter.reset(token)
        self.node.metrics_requests[f"{status // 100}xx"] += 1
        log.debug("%s %s %s %.1f ms", scope["method"], path, status, (time.perf_counter() - started) * 1000)


def create_app(
    node: Node, *, run_workers: bool = True, plugins: Sequence[GatewayPlugin] | None = None
) -> FastAPI:
    """The gateway of ``node``: the core's routes of its role and those of the plugins (installed
    ones unless given) serving it; its workers run while the application does (``run_workers``)."""
    serving = for_role(node.role, plugins)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        workers = start_workers(node, serving) if run_workers else []
        log.info("gateway of %s (%s) serving", node.settings.display_name, node.role.value)
        yield
        for worker in workers:
            worker.stop()
        node.db.dispose()

    app = FastAPI(
        title=f"confirmnet gateway — {node.role.value}",
        version="1",
        description="A member gateway of the confirmnet bank confirmation network.",
        lifespan=lifespan,
        docs_url=None,  # served by node_gateway.web from the gateway's own Swagger UI (no CDN)
        redoc_url=None,
    )
    app.state.node = node
    install_error_handlers(app)
    app.include_router(system.router)
    app.include_router(users.router)
    app.include_router(peer.router)
    for router in _ROLE_ROUTERS[node.role]:
        app.include_router(router)
    for plugin in serving:
        for router in plugin.routers():
            app.include_router(router)
    web.install(app, node.role, serving)

    app.add_middleware(_Observed, node=node)
    return app
