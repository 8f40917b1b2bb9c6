"""node_gateway's exceptions: one root, a branch per concern, each class with a stable machine code.

    NodeGatewayError                 internal_error           everything node_gateway raises
    ├── GatewayError                 gateway_error            the gateway's service refuses a request
    │   ├── NotAuthenticated         not_authenticated        no or unknown API key
    │   ├── Forbidden                forbidden                the user lacks the role
    │   ├── NotFound                 not_found
    │   ├── InvalidRequest           invalid_request          the request contradicts itself or the rules
    │   │   └── FormatNotAccepted    format_not_accepted      a letter's bank publishes rules without its format
    │   ├── Conflict                 conflict                 the letter is not in a state that allows it
    │   ├── ChainNotReady            chain_not_ready          the chain does not show the step yet; retry
    │   ├── NotMember                not_member               this gateway's account is not (yet) admitted
    │   ├── Unavailable              unavailable              a system the gateway relies on does not answer
    │   ├── EndpointRefused          endpoint_refused         a peer endpoint the network's policy forbids
    │   ├── PayloadTooLarge          payload_too_large        a request body over the route's limit
    │   ├── TooManyAttempts          too_many_attempts        failed sign-ins: wait before trying again
    │   └── PeerError                peer_error
    │       ├── PeerUnsigned         peer_unsigned            a peer call without a valid signature
    │       ├── PeerForged           peer_forged              signed by someone else than it claims
    │       ├── PeerReplayed         peer_replayed            a nonce already used, or a stale timestamp
    │       ├── PeerNotActive        peer_not_active          the sender is suspended or revoked
    │       └── PeerNotParty         peer_not_party           the sender is no party to the letter
    ├── ProtocolError                protocol_error           a document, key or envelope is wrong
    │                                                         (node_gateway.protocol.errors draws its branches)
    ├── ChainError                   chain_failed             between the gateway and the chain
    │   ├── NodeUnavailable          chain_unavailable        the node does not answer
    │   ├── NodeRejected             chain_failed             the node refused a request
    │   ├── TransactionFailed        chain_failed             reverted without a known error, or not mined
    │   └── ContractRevert           chain_refused            a custom error of the contracts
    │                                                         (node_gateway.chain.errors: one class each)
    ├── VaultError                   vault_error              a stored document does not open (storage.vault)
    ├── KeystoreError                keystore_error           a keystore is missing or does not open (core.keys)
    ├── ConfigError                  config_error             the configuration is missing or unsafe (core.config)
    └── DevnetError                  devnet_error             the devnet cannot be started or found (chain.devnet)

A plugin's exceptions branch off here too (the bank adapter's: ``bank_adapter.errors``). The
``code`` of a class never changes once released (its name may): the API returns it in its error
bodies, and the SDK and the peers read it. What each class means to HTTP is one table at the API's
edge, ``node_gateway.api.errors.HTTP_STATUS``; the other layers only raise. ``details`` carries
machine-readable specifics for the error body (None for most).
"""

from __future__ import annotations

from typing import Any, ClassVar


class NodeGatewayError(Exception):
    """Root of everything node_gateway raises."""

    code: ClassVar[str] = "internal_error"

    @property
    def details(self) -> Any:
        """What an error answer carries besides the message (None unless a branch says more)."""
        return None


class GatewayError(NodeGatewayError):
    """The gateway's service refuses a request."""

    code = "gateway_error"


class NotAuthenticated(GatewayError):
    code = "not_authenticated"


class Forbidden(GatewayError):
    code = "forbidden"


class NotFound(GatewayError):
    code = "not_found"


class InvalidRequest(GatewayError):
    code = "invalid_request"


class FormatNotAccepted(InvalidRequest):
    """Letters in a format their bank's published business rules do not accept (the rules the
    firm's gateway keeps, ``services.bank_rules``); ``refused`` holds, for each, the letter id, the
    bank, the letter's format and the formats the bank accepts."""

    code = "format_not_accepted"

    def __init__(self, message: str, refused: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.refused = refused

    @property
    def details(self) -> Any:
        return self.refused


class Conflict(GatewayError):
    code = "conflict"


class ChainNotReady(GatewayError):
    code = "chain_not_ready"


class NotMember(GatewayError):
    code = "not_member"


class Unavailable(GatewayError):
    """A system the gateway relies on for the request (a plugin's back end) does not answer."""

    code = "unavailable"


class EndpointRefused(GatewayError):
    code = "endpoint_refused"


class PayloadTooLarge(GatewayError):
    """A request body over the route's limit (the peer API's: ``peer_max_body_bytes``)."""

    code = "payload_too_large"


class TooManyAttempts(GatewayError):
    """Too many failed sign-ins for a user name or from a client address: refused for
    ``retry_after`` seconds (the pages' sign-in limit, ``web/sign_in_limit.py``)."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def details(self) -> Any:
        return {"retry_after": self.retry_after}


class PeerError(GatewayError):
    code = "peer_error"


class PeerUnsigned(PeerError):
    code = "peer_unsigned"


class PeerForged(PeerError):
    code = "peer_forged"


class PeerReplayed(PeerError):
    code = "peer_replayed"


class PeerNotActive(PeerError):
    code = "peer_not_active"


class PeerNotParty(PeerError):
    code = "peer_not_party"
