"""Gateway-to-gateway request authentication: every peer call is signed by the sender's member key.

The sender signs (EIP-191, ``personal_sign``) the RFC 8785 canonical JSON of::

    {"protocol": "confirmnet/peer/v1", "method": "POST", "path": "/peer/v1/envelopes?x=1",
     "sender": 2, "recipient": 3, "timestamp": 1736150400, "nonce": "<32 hex>",
     "body_sha256": "<64 hex>"}

and sends the values in ``X-Confirmnet-*`` headers. The recipient rebuilds the message from the
request it actually received, recovers the signer and checks it against the MemberRegistry: the
signer must be the sender member's current account, the call must be addressed to the recipient,
fresh (timestamp within the clock skew) and new (a nonce never seen from that sender).

Checks run in an order that makes a forged call cheap to refuse and harmless: nothing is written
(no nonce remembered) until the signature, the member and the addressing are known to be right,
so an attacker cannot burn a legitimate sender's nonces.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

import rfc8785
from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as KeyValidationError
from sqlalchemy import CursorResult, delete
from sqlalchemy.exc import IntegrityError

from node_gateway.chain.contracts import Member, MemberStatus
from node_gateway.chain.errors import MemberRegistryUnknownMember
from node_gateway.errors import PeerForged, PeerNotActive, PeerReplayed, PeerUnsigned
from node_gateway.protocol.hashing import to_hex
from node_gateway.storage.db import Database
from node_gateway.storage.models import PeerNonce

PROTOCOL = "confirmnet/peer/v1"

HEADER_SENDER = "X-Confirmnet-Sender"
HEADER_RECIPIENT = "X-Confirmnet-Recipient"
HEADER_TIMESTAMP = "X-Confirmnet-Timestamp"
HEADER_NONCE = "X-Confirmnet-Nonce"
HEADER_SIGNATURE = "X-Confirmnet-Signature"
PEER_HEADERS = (HEADER_SENDER, HEADER_RECIPIENT, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)

DEFAULT_CLOCK_SKEW_S = 300

# Canonical decimals only (no sign, no leading zeros, no "1_000" that int() would take): what the
# sender put in a header is exactly the number it signed.
_UINT = re.compile(r"0|[1-9][0-9]{0,19}")
_MAX_MEMBER = 0xFFFF_FFFF  # member numbers are uint32 on chain
_NONCE = re.compile(r"[0-9a-f]{32}")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")

NonceStore = Callable[[int, str], bool]
"""``remember(sender, nonce)``: True the first time, False when the pair was already seen."""


def _message(
    *, method: str, path: str, sender: int, recipient: int, timestamp: int, nonce: str, body: bytes
) -> SignableMessage:
    payload: dict[str, str | int] = {
        "protocol": PROTOCOL,
        "method": method.upper(),
        "path": path,
        "sender": sender,
        "recipient": recipient,
        "timestamp": timestamp,
        "nonce": nonce,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    return encode_defunct(primitive=rfc8785.dumps(payload))


def sign_peer_request(
    account: LocalAccount,
    *,
    sender: int,
    recipient: int,
    method: str,
    path: str,
    body: bytes,
    now: float | None = None,
) -> dict[str, str]:
    """The headers that authenticate a peer request from member ``sender`` to member ``recipient``.

    ``path`` is the request target as the recipient will see it: the URL path and, if any, ``?``
    and the query string.
    """
    timestamp = int(time.time() if now is None else now)
    nonce = secrets.token_hex(16)
    message = _message(
        method=method,
        path=path,
        sender=sender,
        recipient=recipient,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    signature = bytes(account.sign_message(message).signature)
    return {
        HEADER_SENDER: str(sender),
        HEADER_RECIPIENT: str(recipient),
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: to_hex(signature),
    }


def _header(headers: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = headers.get(name.lower())
    if value is None:
        raise PeerUnsigned(f"missing header {name}")
    if not pattern.fullmatch(value):
        raise PeerUnsigned(f"malformed header {name}")
    return value


def _member_number(headers: Mapping[str, str], name: str) -> int:
    # Out of uint32 range a number would fail to encode for the registry call, not as "unknown".
    number = int(_header(headers, name, _UINT))
    if not 1 <= number <= _MAX_MEMBER:
        raise PeerUnsigned(f"malformed header {name}")
    return number


def verify_peer_request(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    me: int,
    member_of: Callable[[int], Member],
    remember_nonce: NonceStore,
    now: float | None = None,
    clock_skew_s: int = DEFAULT_CLOCK_SKEW_S,
) -> int:
    """Authenticate a peer request addressed to member ``me``; return the sender's member number.

    ``member_of`` reads a member's current record (the chain, or a short cache of it) and raises
    ``MemberRegistryUnknownMember`` for an unknown number; ``remember_nonce`` is called last.
    Raises PeerUnsigned, PeerForged, PeerReplayed or PeerNotActive (see ``node_gateway.errors``).
    """
    # Starlette's headers are case-insensitive, a plain dict is not: look up lower-case names.
    lowered = {name.lower(): value for name, value in headers.items()}
    sender = _member_number(lowered, HEADER_SENDER)
    recipient = _member_number(lowered, HEADER_RECIPIENT)
    timestamp = int(_header(lowered, HEADER_TIMESTAMP, _UINT))
    nonce = _header(lowered, HEADER_NONCE, _NONCE)
    signature = bytes.fromhex(_header(lowered, HEADER_SIGNATURE, _SIGNATURE)[2:])

    message = _message(
        method=method,
        path=path,
        sender=sender,
        recipient=recipient,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    try:
        signer = Account.recover_message(message, signature=signature)
    except (ValueError, BadSignature, KeyValidationError) as exc:
        raise PeerUnsigned(f"the signature cannot be decoded: {exc}") from exc

    # Any change to the method, path, body or headers recovers some other address, so a tampered
    # request shows up here as a signer that is not the sender's account.
    try:
        member = member_of(sender)
    except MemberRegistryUnknownMember as exc:
        raise PeerForged(f"no member {sender}") from exc
    if signer.lower() != member.account.lower():
        raise PeerForged(f"not signed by member {sender}'s account")
    if recipient != me:
        raise PeerForged(f"addressed to member {recipient}, not to member {me}")

    current = time.time() if now is None else now
    if abs(current - timestamp) > clock_skew_s:
        raise PeerReplayed(f"timestamp {timestamp} is more than {clock_skew_s} s away from now")
    if member.status != MemberStatus.ACTIVE:
        raise PeerNotActive(f"member {sender} is {member.status.name.lower()}")
    if not remember_nonce(sender, nonce):
        raise PeerReplayed(f"nonce {nonce} of member {sender} was already used")
    return sender


def sql_nonce_store(db: Database) -> NonceStore:
    """A nonce store in the gateway's database, safe for concurrent requests and processes.

    Each nonce is inserted in its own transaction and the primary key (sender, nonce) decides:
    of two concurrent requests with the same nonce, exactly one commits.
    """

    def remember(sender: int, nonce: str) -> bool:
        try:
            with db.session() as session:
                session.add(PeerNonce(sender=sender, nonce=nonce))
        except IntegrityError:
            return False
        return True

    return remember


def prune_nonces(db: Database, older_than: datetime) -> int:
    """Forget nonces first seen before ``older_than``; return how many were deleted.

    A request's timestamp is at most ``clock_skew_s`` after the nonce was first seen (a sender's
    clock running ahead), and a request is accepted at most ``clock_skew_s`` after its timestamp;
    so a nonce first seen more than twice the clock skew ago can no longer be replayed, the
    timestamp check refuses it on its own. Prune only older than that.
    """
    with db.session() as session:
        result = cast(
            "CursorResult[Any]", session.execute(delete(PeerNonce).where(PeerNonce.seen_at < older_than))
        )
        return result.rowcount
