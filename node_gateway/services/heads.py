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
    endpoint = getattr(node.w3.provider, "endpoint_uri", None)
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        return None
    return "ws" + endpoint.removeprefix("http")


class HeadListener:
    """Wakes ``wake`` at every new block the node announces; ``subscribed`` while it does."""

    def __init__(self, url: str | None, wake: threading.Event) -> None:
        self.url = url
        self._wake = wake
        self._connection: ClientConnection | None = None
        self._closed = False

    @property
    def subscribed(self) -> bool:
        return self._connection is not None

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
            message = self._connection.recv()
        except (OSError, WebSocketException, ValueError, KeyError) as exc:
            if not self._closed:
                log.info("no new heads from %s (%s); the indexer polls the node", self.url, exc)
                self._drop()
            return 0
        if json.loads(message).get("method") == "eth_subscription":
            self._wake.set()
        return 1

    def close(self) -> None:
        """Ends the subscription for good (from any thread: a waiting ``run_once`` returns)."""
        self._closed = True
        self._drop()

    def _drop(self) -> None:
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
