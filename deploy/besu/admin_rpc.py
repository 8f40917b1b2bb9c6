#!/usr/bin/env python3
"""One JSON-RPC call to a Besu validator's admin endpoint, authenticated.

    python admin_rpc.py --key admin/validator-1.pem qbft_proposeValidatorVote '["0xADDRESS", true]'

The admin endpoint is the validator's WebSocket JSON-RPC on its own loopback (config.toml,
``rpc-ws-*``), so this runs in a container sharing the validator's network namespace (README.md,
"Admin calls"). Besu checks each call against a JWT it verifies with the public key beside the
node's configuration (``rpc-ws-authentication-jwt-public-key-file``); the token made here is signed
with the private half, names the one method called (``qbft:proposeValidatorVote``) and expires a
minute later. Needs ``cryptography`` and ``websockets``, both in the gateway image.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

DEFAULT_URL = "ws://127.0.0.1:8546"
TOKEN_LIFETIME_S = 60


class AdminCallFailed(Exception):
    """The node answered with a JSON-RPC error (or not with JSON-RPC)."""


def permission(method: str) -> str:
    """Besu's permission for a method: ``qbft_proposeValidatorVote`` → ``qbft:proposeValidatorVote``."""
    group, _, name = method.partition("_")
    if not group or not name:
        raise ValueError(f"not a JSON-RPC method name: {method!r}")
    return f"{group}:{name}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token(private_key_pem: bytes, methods: list[str], *, now: int, lifetime: int = TOKEN_LIFETIME_S) -> str:
    """An RS256 JWT allowing exactly ``methods`` until ``now + lifetime`` (Besu requires ``exp``)."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the admin key is not an RSA key (RS256)")
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {"permissions": [permission(m) for m in methods], "iat": now, "exp": now + lifetime}
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def call(url: str, bearer: str, method: str, params: list[Any], *, timeout: float = 30.0) -> Any:
    """Sends one request over a new WebSocket carrying the token; returns the result."""
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    with connect(
        url, additional_headers={"Authorization": f"Bearer {bearer}"}, open_timeout=timeout
    ) as socket:
        socket.send(json.dumps(request))
        answer = json.loads(socket.recv(timeout=timeout))
    if not isinstance(answer, dict) or answer.get("id") != 1:
        raise AdminCallFailed(f"not a JSON-RPC answer: {answer!r}")
    if "error" in answer:
        raise AdminCallFailed(json.dumps(answer["error"]))
    return answer.get("result")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--key", type=Path, required=True, help="the validator's admin key (PEM)")
    parser.add_argument("--url", default=DEFAULT_URL, help="the admin endpoint (default: %(default)s)")
    parser.add_argument("method", help="e.g. qbft_getValidatorsByBlockNumber")
    parser.add_argument("params", nargs="?", default="[]", help="the parameters as a JSON list")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    if not isinstance(params, list):
        parser.error("the parameters are a JSON list, e.g. '[\"latest\"]'")
    bearer = token(args.key.read_bytes(), [args.method], now=int(time.time()))
    try:
        result = call(args.url, bearer, args.method, params)
    except (AdminCallFailed, OSError, WebSocketException) as exc:
        print(f"admin_rpc.py: {args.method}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
