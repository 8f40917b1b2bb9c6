"""Passkeys (WebAuthn, ES256) as auditee signers: the key a bank enrols, and the keys an assertion
can have been made with.

An assertion does not carry its public key, and the firm's gateway never saw the enrolment (the
bank did). ECDSA lets the key be recovered from a signature and the message: at most two P-256 keys
fit (:func:`assertion_keys`), each checked here with ``cryptography``; the gateway then takes the
one that holds the bank's mandate on chain, and the registry's own check decides as for every
signer. So the signing page sends only the assertion, and nothing is kept per credential.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from node_gateway.chain.signers import P256_ORDER, p256_key

# NIST P-256 (SEC 2, secp256r1): y² = x³ − 3x + b over GF(p), with base point G.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
_Point = tuple[int, int] | None  # None: the point at infinity


def spki_key(spki_der: bytes) -> bytes:
    """A passkey's public key as the WebAuthn verifier takes it (x ‖ y), from the SubjectPublicKeyInfo
    a browser's ``getPublicKey()`` gives; ValueError unless it is a P-256 key."""
    try:
        key = serialization.load_der_public_key(spki_der)
    except ValueError as exc:
        raise ValueError("the passkey's public key is not a DER SubjectPublicKeyInfo") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the passkey's key is not P-256 (ES256): choose another authenticator")
    numbers = key.public_numbers()
    return p256_key(numbers.x, numbers.y)


def _add(a: _Point, b: _Point) -> _Point:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % _P == 0:
        return None
    if a == b:
        slope = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, _P) % _P
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (slope * slope - a[0] - b[0]) % _P
    return x, (slope * (a[0] - x) - a[1]) % _P


def _times(k: int, point: _Point) -> _Point:
    result: _Point = None
    while k:
        if k & 1:
            result = _add(result, point)
        point, k = _add(point, point), k >> 1
    return result


def signed_message(authenticator_data: bytes, client_data_json: bytes) -> bytes:
    """What an authenticator signs: its data, then the SHA-256 of the client data."""
    return authenticator_data + hashlib.sha256(client_data_json).digest()


def assertion_keys(authenticator_data: bytes, client_data_json: bytes, der: bytes) -> list[bytes]:
    """The P-256 keys (x ‖ y) under which this assertion's signature verifies (ECDSA public key
    recovery: at most two for P-256 in practice); ValueError if the signature does not decode."""
    try:
        r, s = decode_dss_signature(der)
    except ValueError as exc:
        raise ValueError("the passkey's signature is not DER-encoded ECDSA") from exc
    if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
        raise ValueError("the passkey's signature is out of range")
    message = signed_message(authenticator_data, client_data_json)
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    r_inverse = pow(r, -1, P256_ORDER)
    found = []
    # R's x is r (r + n exceeds p for all but a negligible share of signatures); y is either root.
    y = pow((r**3 - 3 * r + _B) % _P, (_P + 1) // 4, _P)
    for candidate_y in (y, _P - y):
        point = (r, candidate_y)
        if (candidate_y * candidate_y - (r**3 - 3 * r + _B)) % _P:
            continue  # r is no x of the curve
        q = _times(r_inverse, _add(_times(s, point), _times(P256_ORDER - e % P256_ORDER, _G)))
        if q is None:
            continue
        key = ec.EllipticCurvePublicNumbers(q[0], q[1], ec.SECP256R1()).public_key()
        try:
            key.verify(der, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        found.append(p256_key(*q))
    return found
