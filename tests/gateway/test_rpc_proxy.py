"""A gateway's calls to its node go through the HTTP proxy the environment named when it connected.

The connection reads the environment once (requests would read it at every call): a proxy
configured at start is used, NO_PROXY is respected, and a later change of the environment does not
move an open connection.
"""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from node_gateway.chain.network import connect


class _ForwardingProxy(http.server.ThreadingHTTPServer):
    """A plain HTTP proxy that forwards each POST to the absolute URL it names, and counts them."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.forwarded: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    server: _ForwardingProxy

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.forwarded.append(self.path)
        request = urllib.request.Request(self.path, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
            reply = answer.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[_ForwardingProxy]:
    server = _ForwardingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _clear_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_the_proxy_named_at_connection_carries_every_call(
    anvil_rpc_url: str, proxy: _ForwardingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    w3 = connect(anvil_rpc_url)
    monkeypatch.delenv("HTTP_PROXY")  # read once: the connection keeps its proxy

    assert w3.eth.chain_id > 0
    assert w3.eth.block_number >= 0
    assert len(proxy.forwarded) == 2
    assert all(path.startswith(anvil_rpc_url) for path in proxy.forwarded)


def test_no_proxy_for_the_node_and_none_added_later(
    anvil_rpc_url: str, proxy: _ForwardingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    bypassing = connect(anvil_rpc_url)
    _clear_proxy_environment(monkeypatch)
    direct = connect(anvil_rpc_url)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)  # after the connection: not read again

    assert bypassing.eth.block_number >= 0
    assert direct.eth.block_number >= 0
    assert proxy.forwarded == []
