"""New blocks, pushed by the node: the indexer reads a range when a block comes, not on a timer.

The listener subscribes to ``newHeads`` (``eth_subscribe`` over WebSocket) and wakes the indexer for
every head. anvil serves WebSocket on its JSON-RPC port; Besu on its own (``ws_url``). Where the
node offers no subscription (the in-process chain, a node without WebSocket, a dropped
connection), the indexer asks for the head every ``poll_interval_s`` instead, and the listener
tries to subscribe again a while later.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from web3 import Web3
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from node_gateway.node import Node

log = logging.getLogger(__name__)

RESUBSCRIBE_S = 30.0  # after a failed subscription, polling goes on this long before trying again


def ws_url_of(node: Node) -> str | None:
    """Where the node's WebSocket is: the ``ws_url`` setting, else its JSON-RPC URL with ``ws``
    (the same port, as anvil serves it); None for a chain without a URL (the in-process one)."""
    if node.settings.ws_url is not None:
        return node.settings.ws_url
    return ws_url_beside(node.w3)


def ws_url_beside(w3: Web3) -> str | None:
    """The WebSocket URL on the port of a node's JSON-RPC URL (as anvil serves it); None for a
    chain without a URL."""
    endpoint = getattr(w3.provider, "endpoint_uri", None)
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        return None
    return "ws" + endpoint.removeprefix("http")


class HeadListener:
    """Wakes ``wake`` at every new block the node announces; ``subscribed`` while it does."""

    def __init__(self, url: str | None, wake: threading.Event) -> None:
        self.url = url
        self._wake = wake
        self._latest: tuple[int, float] | None = None  # the last head announced, and when
        self._announced = threading.Condition()
        self._connection: ClientConnection | None = None
        self._closed = False

    @property
    def subscribed(self) -> bool:
        return self._connection is not None

    def announced(self, max_age_s: float) -> int | None:
        """The number of the last block the node announced, if it did so within ``max_age_s``;
        else None: ask the node (blocks may have stopped, or the connection died unnoticed)."""
        latest = self._latest
        if latest is None or time.monotonic() - latest[1] > max_age_s:
            return None
        return latest[0]

    def wait_after(self, number: int, timeout_s: float) -> None:
        """Waits until the node announces a block after ``number``, at most ``timeout_s``."""
        with self._announced:
            self._announced.wait_for(lambda: (self._latest or (-1, 0.0))[0] > number, timeout_s)

    def run_once(self) -> int:
        """Waits for the next head (a dead connection shows by its pings); 1 while subscribed
        (listen again at once), 0 when the node offers no subscription (the worker tries again
        after ``RESUBSCRIBE_S``) or the listener was closed."""
        if self.url is None or self._closed:
            return 0
        try:
            if self._connection is None:
                self._connection = self._subscribe(self.url)
                if self._closed:  # closed while it connected
                    self._drop()
                    return 0
                self._wake.set()  # blocks may have come while nobody listened
            message = json.loads(self._connection.recv())
            if message.get("method") == "eth_subscription":
                with self._announced:
                    self._latest = int(message["params"]["result"]["number"], 16), time.monotonic()
                    self._announced.notify_all()
                self._wake.set()
        except (OSError, WebSocketException, ValueError, KeyError, TypeError) as exc:
            if not self._closed:
                log.info("no new heads from %s (%s); the indexer polls the node", self.url, exc)
                self._drop()
            return 0
        return 1

    def close(self) -> None:
        """Ends the subscription for good (from any thread: a waiting ``run_once`` returns)."""
        self._closed = True
        self._drop()

    def _drop(self) -> None:
        self._latest = None  # heads may come unannounced now
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    @staticmethod
    def _subscribe(url: str) -> ClientConnection:
        connection = connect(url, proxy=None, open_timeout=5)
        try:
            connection.send(
                json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})
            )
            answer = json.loads(connection.recv(timeout=5))
            if "result" not in answer:
                raise ValueError(f"the node refused the subscription: {answer.get('error')}")
        except BaseException:
            connection.close()
            raise
        log.info("following new heads at %s", url)
        return connection
