"""Gateway exceptions, each with a stable machine code and the HTTP status it maps to.

    GatewayError                     gateway_error            500
    ├── NotAuthenticated             not_authenticated        401  no or unknown API key
    ├── Forbidden                    forbidden                403  the user lacks the role
    ├── NotFound                     not_found                404
    ├── InvalidRequest               invalid_request          422  the request contradicts itself or the rules
    ├── Conflict                     conflict                 409  the letter is not in a state that allows it
    ├── ChainNotReady                chain_not_ready          409  the chain does not show the step yet; retry
    ├── NotMember                    not_member               503  this gateway's account is not (yet) admitted
    ├── EndpointRefused              endpoint_refused         422  a peer endpoint the network's policy forbids
    └── PeerError                    peer_error               401
        ├── PeerUnsigned             peer_unsigned            401  a peer call without a valid signature
        ├── PeerForged               peer_forged              401  signed by someone else than it claims
        ├── PeerReplayed             peer_replayed            409  a nonce already used, or a stale timestamp
        ├── PeerNotActive            peer_not_active          403  the sender is suspended or revoked
        └── PeerNotParty             peer_not_party           403  the sender is no party to the letter

The API maps these, the chain's and the protocol's exceptions to HTTP in one place
(``node_gateway.api.errors``); routes only raise.
"""

from __future__ import annotations

from typing import ClassVar


class GatewayError(Exception):
    code: ClassVar[str] = "gateway_error"
    status: ClassVar[int] = 500


class NotAuthenticated(GatewayError):
    code = "not_authenticated"
    status = 401


class Forbidden(GatewayError):
    code = "forbidden"
    status = 403


class NotFound(GatewayError):
    code = "not_found"
    status = 404


class InvalidRequest(GatewayError):
    code = "invalid_request"
    status = 422


class Conflict(GatewayError):
    code = "conflict"
    status = 409


class ChainNotReady(GatewayError):
    code = "chain_not_ready"
    status = 409


class NotMember(GatewayError):
    code = "not_member"
    status = 503


class EndpointRefused(GatewayError):
    code = "endpoint_refused"
    status = 422


class PeerError(GatewayError):
    code = "peer_error"
    status = 401


class PeerUnsigned(PeerError):
    code = "peer_unsigned"
    status = 401


class PeerForged(PeerError):
    code = "peer_forged"
    status = 401


class PeerReplayed(PeerError):
    code = "peer_replayed"
    status = 409


class PeerNotActive(PeerError):
    code = "peer_not_active"
    status = 403


class PeerNotParty(PeerError):
    code = "peer_not_party"
    status = 403
