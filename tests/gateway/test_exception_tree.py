"""node_gateway's exceptions: one root, stable codes, and one table that gives each its HTTP status.

The statuses and codes are those the API has always answered with; a 5xx is a fault on the
server's side (the gateway's own, or the chain node's, or another system it relies on).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import node_gateway
from node_gateway import errors
from node_gateway.api.errors import HTTP_STATUS, classify, http_status
from node_gateway.chain import errors as chain_errors
from node_gateway.chain.devnet import DevnetError
from node_gateway.core.config import ConfigError
from node_gateway.core.keys import KeystoreError
from node_gateway.protocol import errors as protocol_errors
from node_gateway.storage.vault import VaultError

# (status, code) of every class the API has answered with, and of the branches added to the root.
EXPECTED: dict[type[errors.NodeGatewayError], tuple[int, str]] = {
    errors.NodeGatewayError: (500, "internal_error"),
    errors.GatewayError: (500, "gateway_error"),
    errors.NotAuthenticated: (401, "not_authenticated"),
    errors.Forbidden: (403, "forbidden"),
    errors.NotFound: (404, "not_found"),
    errors.InvalidRequest: (422, "invalid_request"),
    errors.FormatNotAccepted: (422, "format_not_accepted"),
    errors.Conflict: (409, "conflict"),
    errors.ChainNotReady: (409, "chain_not_ready"),
    errors.NotMember: (503, "not_member"),
    errors.Unavailable: (503, "unavailable"),
    errors.EndpointRefused: (422, "endpoint_refused"),
    errors.PayloadTooLarge: (413, "payload_too_large"),
    errors.TooManyAttempts: (429, "too_many_attempts"),
    errors.PeerError: (401, "peer_error"),
    errors.PeerUnsigned: (401, "peer_unsigned"),
    errors.PeerForged: (401, "peer_forged"),
    errors.PeerReplayed: (409, "peer_replayed"),
    errors.PeerNotActive: (403, "peer_not_active"),
    errors.PeerNotParty: (403, "peer_not_party"),
    protocol_errors.ProtocolError: (400, "protocol_error"),
    protocol_errors.InvalidDocument: (422, "invalid_document"),
    protocol_errors.DocumentHashMismatch: (422, "document_hash_mismatch"),
    protocol_errors.StepNotOnChain: (400, "step_not_on_chain"),
    protocol_errors.InvalidKey: (422, "invalid_key"),
    protocol_errors.EnvelopeError: (400, "envelope_error"),
    protocol_errors.EnvelopeMalformed: (400, "envelope_malformed"),
    protocol_errors.EnvelopeTampered: (400, "envelope_tampered"),
    protocol_errors.EnvelopeWrongRecipient: (421, "envelope_wrong_recipient"),
    protocol_errors.UnsupportedSuite: (400, "unsupported_suite"),
    chain_errors.ChainError: (502, "chain_failed"),
    chain_errors.NodeUnavailable: (503, "chain_unavailable"),
    chain_errors.NodeRejected: (502, "chain_failed"),
    chain_errors.TransactionFailed: (502, "chain_failed"),
    chain_errors.ContractRevert: (409, "chain_refused"),
    chain_errors.ConfirmationUnexpectedStatus: (409, "chain_refused"),
    chain_errors.FailedCall: (409, "chain_refused"),
    VaultError: (500, "vault_error"),
    KeystoreError: (500, "keystore_error"),
    ConfigError: (500, "config_error"),
    DevnetError: (500, "devnet_error"),
}
# Faults on the server's side: the gateway's own (500), the chain node's (502, 503), this
# gateway not yet admitted (503), a system it relies on (503).
SERVER_SIDE = {
    errors.NodeGatewayError,
    errors.GatewayError,
    errors.NotMember,
    errors.Unavailable,
    chain_errors.ChainError,
    chain_errors.NodeUnavailable,
    chain_errors.NodeRejected,
    chain_errors.TransactionFailed,
    VaultError,
    KeystoreError,
    ConfigError,
    DevnetError,
}
BUILTIN_ROOTS = {"Exception", "RuntimeError", "ValueError", "KeyError", "LookupError", "OSError", "TypeError"}


def _subclasses(root: type[errors.NodeGatewayError]) -> set[type[errors.NodeGatewayError]]:
    found = {root}
    for sub in root.__subclasses__():
        found |= _subclasses(sub)
    return found


def _import_all() -> None:
    for module in pkgutil.walk_packages(node_gateway.__path__, "node_gateway."):
        if ".migrations." not in module.name:
            importlib.import_module(module.name)


@pytest.mark.parametrize(("cls", "expected"), EXPECTED.items(), ids=lambda v: getattr(v, "__name__", ""))
def test_status_and_code(cls: type[errors.NodeGatewayError], expected: tuple[int, str]) -> None:
    assert (http_status(_instance(cls)), cls.code) == expected


def test_every_exception_has_one_root_and_a_status() -> None:
    _import_all()
    for cls in _subclasses(errors.NodeGatewayError):
        assert cls.code, cls
        assert any(base in HTTP_STATUS for base in cls.__mro__), cls


def test_no_other_exception_root_in_node_gateway() -> None:
    """No class of node_gateway derives from a builtin exception but the root (private control
    flow excepted)."""
    roots = []
    for path in Path(node_gateway.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
                if bases & BUILTIN_ROOTS:
                    roots.append(node.name)
    assert roots == ["NodeGatewayError"]


def test_five_hundreds_are_server_faults() -> None:
    assert {cls for cls in EXPECTED if http_status(_instance(cls)) >= 500} == SERVER_SIDE


def test_details_of_a_revert_and_an_invalid_document() -> None:
    revert = chain_errors.ConfirmationUnknownLetter(b"\x01" * 32)
    assert classify(revert) == (409, "chain_refused", {"error": "ConfirmationUnknownLetter"})
    problems = [{"loc": ["letter_id"], "msg": "x", "type": "y"}]
    assert classify(protocol_errors.InvalidDocument("bad", problems)) == (422, "invalid_document", problems)
    assert classify(errors.Conflict("no")) == (409, "conflict", None)


def test_the_docstring_draws_the_tree() -> None:
    doc = errors.__doc__ or ""
    for cls in _subclasses(errors.NodeGatewayError):
        if cls.__module__ == "node_gateway.errors":
            assert re.search(rf" {cls.__name__} +{cls.code}\b", doc), cls
    others: list[type[errors.NodeGatewayError]] = [
        protocol_errors.ProtocolError,
        chain_errors.ChainError,
        VaultError,
        KeystoreError,
    ]
    for other in others:
        assert re.search(rf" {other.__name__} +{other.code}\b", doc), other


def _instance(cls: type[errors.NodeGatewayError]) -> errors.NodeGatewayError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, "message")
    return exc
