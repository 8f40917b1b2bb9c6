"""HPKE (RFC 9180) envelopes: how a letter or a reply travels from one member's gateway to another.

A document is sealed to the recipient's published public key in HPKE base mode. The envelope's
header (letter id, step, both members, suite) is not secret but is bound into HPKE's ``info``,
so changing any of it, or moving the ciphertext to another letter or step, makes it fail to
open. Base mode does not authenticate the sender: the gateway does that by the sender's signature
on the peer call and the registry; the sender here is bound so that it cannot be swapped.

Public keys are published on chain in the member's ``encryptionKeys`` field as one blob that can
hold a key per suite (see ``encode_public_keys``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal, Self

import rfc8785
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationError, model_validator

from node_gateway.protocol.documents import LetterId, MemberNumber
from node_gateway.protocol.errors import (
    EnvelopeMalformed,
    EnvelopeTampered,
    EnvelopeWrongRecipient,
    InvalidKey,
    UnsupportedSuite,
)


class EnvelopeSuite(StrEnum):
    """The HPKE suites a gateway can seal with; the name spells out KEM, KDF and AEAD."""

    X25519 = "x25519-hkdf_sha256-chacha20poly1305"
    MLKEM768_X25519 = "mlkem768x25519-hkdf_sha256-aes256gcm"


DEFAULT_SUITE = EnvelopeSuite.X25519

# notice: a bank's non-compliance notice to the firm; follow_up, withdrawal: a firm's words to the bank
Step = Literal["letter", "reply", "notice", "follow_up", "withdrawal"]

_MLKEM768_SEED = 64
_MLKEM768_PUBLIC = 1184
_X25519_KEY = 32


@dataclass(frozen=True)
class _SuiteSpec:
    code: int  # the suite's byte in a public-key blob; never reuse one
    hpke_suite: hpke.Suite
    enc_length: int  # bytes of KEM output at the front of what cryptography's encrypt returns
    public_length: int
    private_length: int


_SPECS: dict[EnvelopeSuite, _SuiteSpec] = {
    EnvelopeSuite.X25519: _SuiteSpec(
        code=1,
        hpke_suite=hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305),
        enc_length=hpke.KEM.X25519.enc_length(),
        public_length=_X25519_KEY,
        private_length=_X25519_KEY,
    ),
    # Post-quantum hybrid: secure while either ML-KEM-768 or X25519 holds. AES-256 so that the
    # symmetric part keeps the same margin against quantum search.
    EnvelopeSuite.MLKEM768_X25519: _SuiteSpec(
        code=2,
        hpke_suite=hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
        enc_length=hpke.KEM.MLKEM768_X25519.enc_length(),
        public_length=_MLKEM768_PUBLIC + _X25519_KEY,
        private_length=_MLKEM768_SEED + _X25519_KEY,
    ),
}
_SUITE_BY_CODE = {spec.code: suite for suite, spec in _SPECS.items()}

_PublicKey = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey
_PrivateKey = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptionPublicKey:
    """A recipient's public key for one suite, as raw bytes.

    The hybrid key is the ML-KEM-768 encapsulation key (1184 bytes) then the X25519 key (32).
    """

    suite: EnvelopeSuite
    raw: bytes

    def __post_init__(self) -> None:
        self.load()  # fail at construction, not at the first seal

    def load(self) -> _PublicKey:
        spec = _SPECS[self.suite]
        if len(self.raw) != spec.public_length:
            raise InvalidKey(f"a {self.suite} public key is {spec.public_length} bytes, not {len(self.raw)}")
        try:
            if self.suite is EnvelopeSuite.X25519:
                return x25519.X25519PublicKey.from_public_bytes(self.raw)
            return hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[:_MLKEM768_PUBLIC]),
                x25519.X25519PublicKey.from_public_bytes(self.raw[_MLKEM768_PUBLIC:]),
            )
        except ValueError as exc:
            raise InvalidKey(f"not a valid {self.suite} public key") from exc


class EncryptionKeyPair:
    """A member's private key for one suite, with its public key.

    ``private_bytes`` is what the keystore encrypts: the X25519 scalar, or for the hybrid the
    ML-KEM-768 seed (64 bytes) then the X25519 scalar. The repr never shows it.
    """

    __slots__ = ("_key", "_secret", "public_key", "suite")

    def __init__(self, suite: EnvelopeSuite, private_bytes: bytes) -> None:
        spec = _SPECS[suite]
        if len(private_bytes) != spec.private_length:
            raise InvalidKey(
                f"a {suite} private key is {spec.private_length} bytes, not {len(private_bytes)}"
            )
        self.suite = suite
        self._secret = bytes(private_bytes)
        key: _PrivateKey
        if suite is EnvelopeSuite.X25519:
            key = x25519.X25519PrivateKey.from_private_bytes(self._secret)
            public = key.public_key().public_bytes_raw()
        else:
            ml = mlkem.MLKEM768PrivateKey.from_seed_bytes(self._secret[:_MLKEM768_SEED])
            dh = x25519.X25519PrivateKey.from_private_bytes(self._secret[_MLKEM768_SEED:])
            key = hpke.MLKEM768X25519PrivateKey(ml, dh)
            public = ml.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()
        self._key = key
        self.public_key = EncryptionPublicKey(suite, public)

    @classmethod
    def generate(cls, suite: EnvelopeSuite = DEFAULT_SUITE) -> Self:
        # Every byte string of the right length is a valid private key for both suites.
        return cls(suite, secrets.token_bytes(_SPECS[suite].private_length))

    def private_bytes(self) -> bytes:
        return self._secret

    def __repr__(self) -> str:
        return f"EncryptionKeyPair({self.suite.value}, public={self.public_key.raw[:8].hex()}…)"


_KEYS_FORMAT = 1
_ENTRY_HEADER = struct.Struct(">BH")  # suite code, key length


def encode_public_keys(keys: Iterable[EncryptionPublicKey]) -> bytes:
    """The ``encryptionKeys`` blob: a format byte, then per key its suite code, length and bytes.

    Order is kept: a member lists the suite it prefers first.
    """
    seen: set[EnvelopeSuite] = set()
    parts = [bytes([_KEYS_FORMAT])]
    for key in keys:
        if key.suite in seen:
            raise InvalidKey(f"two public keys for {key.suite}")
        seen.add(key.suite)
        parts.append(_ENTRY_HEADER.pack(_SPECS[key.suite].code, len(key.raw)) + key.raw)
    return b"".join(parts)


def decode_public_keys(blob: bytes) -> dict[EnvelopeSuite, EncryptionPublicKey]:
    """The public keys in an ``encryptionKeys`` blob, in the member's order of preference.

    Keys of suites this version does not know are skipped, so a member can publish a newer
    suite next to an old one without breaking older gateways. An empty blob holds no keys.
    """
    if not blob:
        return {}
    if blob[0] != _KEYS_FORMAT:
        raise InvalidKey(f"unknown public-key blob format {blob[0]}")
    keys: dict[EnvelopeSuite, EncryptionPublicKey] = {}
    seen: set[int] = set()
    offset = 1
    while offset < len(blob):
        if offset + _ENTRY_HEADER.size > len(blob):
            raise InvalidKey("public-key blob truncated in an entry header")
        code, length = _ENTRY_HEADER.unpack_from(blob, offset)
        offset += _ENTRY_HEADER.size
        if offset + length > len(blob):
            raise InvalidKey("public-key blob truncated in a key")
        if code in seen:
            raise InvalidKey(f"two public keys for suite code {code}")
        seen.add(code)
        if (suite := _SUITE_BY_CODE.get(code)) is not None:
            keys[suite] = EncryptionPublicKey(suite, blob[offset : offset + length])
        offset += length
    return keys


# --- envelopes ---------------------------------------------------------------------------------


def _from_base64(value: object) -> object:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError("not valid base64") from exc
    return value


def _to_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


Base64Bytes = Annotated[
    bytes, BeforeValidator(_from_base64), PlainSerializer(_to_base64, return_type=str, when_used="json")
]
"""Bytes in Python, standard base64 (with padding, no line breaks) in JSON."""

ENVELOPE_PROTOCOL = "confirmnet/envelope"


class EnvelopeHeader(BaseModel):
    """What an envelope says about itself, all of it bound into HPKE's ``info``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    suite: EnvelopeSuite
    letter_id: LetterId
    step: Step
    sender: MemberNumber
    recipient: MemberNumber

    @model_validator(mode="after")
    def _two_parties(self) -> Self:
        if self.sender == self.recipient:
            raise ValueError("an envelope goes from one member to another")
        return self

    def info(self) -> bytes:
        """HPKE ``info``: canonical JSON of the protocol tag and every header field."""
        fields = self.model_dump(mode="json", include=_HEADER_FIELDS)
        return rfc8785.dumps({"protocol": ENVELOPE_PROTOCOL, **fields})


_HEADER_FIELDS = set(EnvelopeHeader.model_fields)


class Envelope(EnvelopeHeader):
    """A sealed document: the header, the KEM output ``enc`` and the AEAD ciphertext."""

    enc: Base64Bytes
    ciphertext: Base64Bytes

    @property
    def header(self) -> EnvelopeHeader:
        return EnvelopeHeader.model_validate(self.model_dump(include=_HEADER_FIELDS))


def parse_envelope(data: str | bytes) -> Envelope:
    """Validate an envelope from JSON; ``UnsupportedSuite`` or ``EnvelopeMalformed`` if it is not one."""
    return _checked(lambda: Envelope.model_validate_json(data))


def envelope_from(value: object) -> Envelope:
    """``parse_envelope`` of JSON already read (an item of a batch), without writing it again."""
    return _checked(lambda: Envelope.model_validate(value))


def _checked(validate: Callable[[], Envelope]) -> Envelope:
    try:
        return validate()
    except ValidationError as exc:
        if any(error["loc"] == ("suite",) for error in exc.errors()):
            raise UnsupportedSuite("the envelope names a suite this gateway does not know") from exc
        raise EnvelopeMalformed(f"not a valid envelope: {exc}") from exc


def seal(
    plaintext: bytes,
    recipient_public_key: EncryptionPublicKey,
    *,
    letter_id: str,
    step: Step,
    sender: int,
    recipient: int,
) -> Envelope:
    """Encrypt ``plaintext`` (a document's canonical bytes) to one member for one letter and step.

    The suite is the recipient key's: pick the key from the recipient's published blob.
    """
    header = EnvelopeHeader(
        suite=recipient_public_key.suite, letter_id=letter_id, step=step, sender=sender, recipient=recipient
    )
    spec = _SPECS[header.suite]
    sealed = spec.hpke_suite.encrypt(plaintext, recipient_public_key.load(), info=header.info())
    # cryptography returns enc || ciphertext; keep them apart so the envelope says which is which.
    split = spec.enc_length
    return Envelope(**header.model_dump(), enc=sealed[:split], ciphertext=sealed[split:])


def open_envelope(
    envelope: Envelope,
    recipient_keys: EncryptionKeyPair | Iterable[EncryptionKeyPair],
    expected_recipient: int,
) -> bytes:
    """Decrypt an envelope addressed to ``expected_recipient`` with the matching key of that member.

    Raises ``EnvelopeWrongRecipient`` if it is addressed to someone else, ``UnsupportedSuite`` if
    none of the keys is for its suite, and ``EnvelopeTampered`` if it does not authenticate.
    The caller still re-hashes the plaintext and compares it with the chain before acting.
    """
    if envelope.recipient != expected_recipient:
        raise EnvelopeWrongRecipient(
            f"envelope for member {envelope.recipient}, this is member {expected_recipient}"
        )
    keys = [recipient_keys] if isinstance(recipient_keys, EncryptionKeyPair) else list(recipient_keys)
    candidates = [k for k in keys if k.suite is envelope.suite]  # the current key, then retired ones
    if not candidates:
        raise UnsupportedSuite(f"no private key for suite {envelope.suite}")
    spec = _SPECS[envelope.suite]
    if len(envelope.enc) != spec.enc_length:
        raise EnvelopeTampered(f"enc is {len(envelope.enc)} bytes, {spec.enc_length} expected")
    for key in candidates:
        try:
            return spec.hpke_suite.decrypt(envelope.enc + envelope.ciphertext, key._key, info=envelope.info())
        except (InvalidTag, ValueError):
            continue
    raise EnvelopeTampered(
        f"envelope for letter {envelope.letter_id} ({envelope.step}) does not open: "
        "altered in transit, or not sealed to this key"
    )
