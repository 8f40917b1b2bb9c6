"""The peer API's security: how gateways authenticate their calls to each other."""

from node_gateway.peer.signing import (
    DEFAULT_CLOCK_SKEW_S,
    PEER_HEADERS,
    NonceStore,
    prune_nonces,
    sign_peer_request,
    sql_nonce_store,
    verify_peer_request,
)

__all__ = [
    "DEFAULT_CLOCK_SKEW_S",
    "PEER_HEADERS",
    "NonceStore",
    "prune_nonces",
    "sign_peer_request",
    "sql_nonce_store",
    "verify_peer_request",
]
