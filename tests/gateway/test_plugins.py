"""Role plugins: the gateway finds them through their entry points, mounts the routers of those
serving its role, and without any serves its core API."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import APIRouter

from node_gateway import plugins
from node_gateway.api.app import create_app
from node_gateway.core.config import MemberRole
from node_gateway.node import Node
from node_gateway.plugins import GatewayPlugin, PluginError, Worker, for_role

from .api_apps import Gateway, client, gateway

if TYPE_CHECKING:
    from conftest import Chain

_CORE_BANK_ROUTES = {
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/v1/identity"),
    ("POST", "/v1/users"),
    ("DELETE", "/v1/users/{name}"),
    ("POST", "/peer/v1/envelopes"),
    ("GET", "/v1/letters"),
    ("GET", "/v1/letters/{letter_id}"),
    ("GET", "/v1/letters/{letter_id}/letter.pdf"),
    ("GET", "/v1/letters/{letter_id}/reply.pdf"),
    ("GET", "/peer/v1/rules"),  # the bank's business rules, signed (public)
}
_BANK_PLUGIN_ROUTES = {
    ("GET", "/v1/inbox"),
    ("POST", "/v1/letters/{letter_id}/accept"),
    ("POST", "/v1/letters/{letter_id}/reject"),
    ("POST", "/v1/letters/{letter_id}/reply"),
    ("GET", "/v1/customers/{registration_code}/reference"),
    ("POST", "/v1/mandates"),
    ("DELETE", "/v1/mandates/{registration_code}/{signer}"),
    ("GET", "/v1/mandates"),
    ("POST", "/v1/bank/mandates/import"),
    ("GET", "/v1/bank/letters"),
    ("GET", "/v1/bank/drafts"),
    ("GET", "/v1/bank/letters/{letter_id}"),
    ("POST", "/v1/bank/letters/{letter_id}/draft"),
    ("POST", "/v1/bank/letters/{letter_id}/approve"),
    ("POST", "/v1/bank/letters/{letter_id}/return"),
    ("POST", "/v1/bank/letters/{letter_id}/reject"),
    ("GET", "/v1/bank/deadlines"),
    ("GET", "/v1/bank/decisions"),
    ("GET", "/v1/bank/officers"),
    ("PUT", "/v1/bank/officers/{name}"),
    ("GET", "/v1/bank/rules"),
    ("PUT", "/v1/bank/rules"),
}


class _Hello(GatewayPlugin):
    name = "hello"
    roles = frozenset({MemberRole.BANK, MemberRole.REGULATOR})

    def routers(self) -> Sequence[APIRouter]:
        router = APIRouter()
        router.add_api_route("/v1/hello", lambda: {"hello": "bank"}, methods=["GET"])
        return (router,)

    def workers(self, node: Node) -> Sequence[Worker]:
        return (Worker("hello", lambda: 0, poll_s=1.0),)


@pytest.fixture(scope="module")
def bank(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    built = gateway(in_process.deploy(), MemberRole.BANK, tmp_path_factory.mktemp("plugins") / "bank")
    yield built
    built.node.db.dispose()


def _routes(app: Any) -> set[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_the_bank_adapter_adds_the_banks_routes(bank: Gateway) -> None:
    assert _routes(bank.app) == _CORE_BANK_ROUTES | _BANK_PLUGIN_ROUTES


def test_a_gateway_without_plugins_serves_its_core_api(bank: Gateway) -> None:
    app = create_app(bank.node, run_workers=False, plugins=[])
    assert _routes(app) == _CORE_BANK_ROUTES
    http = client(app)
    assert http.get("/v1/letters", headers=bank.auth("officer")).status_code == 200
    assert http.get("/v1/inbox", headers=bank.auth("officer")).status_code == 404


def test_a_plugin_serves_only_its_roles(bank: Gateway) -> None:
    hello = _Hello()
    app = create_app(bank.node, run_workers=False, plugins=[hello])
    assert _routes(app) == _CORE_BANK_ROUTES | {("GET", "/v1/hello")}
    assert client(app).get("/v1/hello").json() == {"hello": "bank"}
    assert for_role(MemberRole.REGULATOR, [hello]) == [hello]
    assert for_role(MemberRole.AUDIT_FIRM, [hello]) == []
    assert [work.name for work in hello.workers(bank.node)] == ["hello"]


def test_the_installed_plugins_are_found_by_their_entry_points() -> None:
    assert [plugin.name for plugin in plugins.installed()] == ["bank"]
    assert [plugin.name for plugin in for_role(MemberRole.BANK)] == ["bank"]
    assert for_role(MemberRole.AUDIT_FIRM) == []


class _EntryPoint:
    name, value = "broken", "somewhere:thing"

    def __init__(self, loaded: object) -> None:
        self._loaded = loaded

    def load(self) -> object:
        if isinstance(self._loaded, Exception):
            raise self._loaded
        return self._loaded


@pytest.mark.parametrize(
    ("loaded", "message"),
    [(ImportError("no module named somewhere"), "does not load"), (object(), "is no GatewayPlugin")],
)
def test_an_entry_point_that_is_no_plugin_is_refused(
    monkeypatch: pytest.MonkeyPatch, loaded: object, message: str
) -> None:
    monkeypatch.setattr(plugins, "entry_points", lambda group: [_EntryPoint(loaded)])
    with pytest.raises(PluginError, match=message):
        plugins.load()
