"""A passkey's key as the bank enrols it (SPKI) and as the firm's gateway recovers it from an
assertion (node_gateway.chain.passkeys), against keys made with ``cryptography``."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from node_gateway.chain.passkeys import assertion_keys, signed_message, spki_key
from node_gateway.chain.signers import P256_ORDER, p256_key

AUTHENTICATOR_DATA = hashlib.sha256(b"localhost").digest() + bytes([0x05]) + (7).to_bytes(4)
CLIENT_DATA = b'{"type":"webauthn.get","challenge":"3q2-7w","origin":"http://localhost:8000"}'


def _spki(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _xy(key: ec.EllipticCurvePrivateKey) -> bytes:
    numbers = key.public_key().public_numbers()
    return p256_key(numbers.x, numbers.y)


def test_the_enrolled_key_is_x_and_y_of_a_p256_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    assert spki_key(_spki(key)) == _xy(key)
    with pytest.raises(ValueError, match="not P-256"):
        spki_key(_spki(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(ValueError, match="not P-256"):
        spki_key(_spki(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    with pytest.raises(ValueError, match="SubjectPublicKeyInfo"):
        spki_key(b"\x30\x03not a key")


@pytest.mark.parametrize("run", range(8))
def test_the_signing_key_is_among_the_keys_an_assertion_fits(run: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    message = signed_message(AUTHENTICATOR_DATA, CLIENT_DATA + str(run).encode())
    der = key.sign(message, ec.ECDSA(hashes.SHA256()))
    found = assertion_keys(AUTHENTICATOR_DATA, CLIENT_DATA + str(run).encode(), der)
    assert _xy(key) in found
    assert 1 <= len(found) <= 2
    # Another message: the keys that fit it are others (the signer is not found there).
    assert _xy(key) not in assertion_keys(AUTHENTICATOR_DATA, CLIENT_DATA + b"x", der)


def test_a_malformed_signature_is_refused() -> None:
    with pytest.raises(ValueError, match="DER"):
        assertion_keys(AUTHENTICATOR_DATA, CLIENT_DATA, b"not der")
    with pytest.raises(ValueError, match="out of range"):
        assertion_keys(AUTHENTICATOR_DATA, CLIENT_DATA, encode_dss_signature(P256_ORDER, 1))
