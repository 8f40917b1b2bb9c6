"""The auditee's signers as ERC-7913 keys: how a mandate names one, and what each kind's signature is.

A signer is ``bytes`` (ERC-7913), checked on chain by OpenZeppelin's ``SignatureChecker``:

- 20 bytes: an account: an ordinary key (ECDSA) or a contract account such as a company's
  multisig (ERC-1271);
- longer: a verifier contract's address, then the key it checks: a P-256 key or a WebAuthn
  passkey's (x ‖ y, 64 bytes), or an RSA key (``abi.encode(bytes e, bytes n)``). The network
  deploys OpenZeppelin's verifiers and names them in its network file (:class:`SignatureVerifiers`).

Its text form, in the API, the database and the outbox, is the ``0x``-hex of those bytes: for an
account, its address (checksummed), as before signers were keys. Mandates and events name a signer
by its id, the keccak256 of its bytes (:func:`signer_id`).
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from eth_abi.abi import encode
from eth_typing import ChecksumAddress
from pydantic import BaseModel, ConfigDict
from web3 import Web3

from node_gateway.protocol.hashing import from_hex, keccak256, to_hex

ADDRESS_LENGTH = 20
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

Signer = str | bytes  # the bytes, or their text form


class SignerKind(StrEnum):
    ACCOUNT = "account"  # an EOA or an ERC-1271 contract account
    P256 = "p256"
    WEBAUTHN = "webauthn"
    RSA = "rsa"


class SignatureVerifiers(BaseModel):
    """The addresses of the network's ERC-7913 verifiers (OpenZeppelin's, deployed with it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    p256: str
    webauthn: str
    rsa: str

    def address_of(self, kind: SignerKind) -> str:
        if kind == SignerKind.ACCOUNT:
            raise ValueError("an account signer names no verifier")
        address: str = getattr(self, kind.value)
        return address

    def kind_of(self, signer: Signer) -> SignerKind | None:
        """Which kind ``signer`` is on this network (None: a key for a verifier it does not deploy)."""
        raw = as_signer(signer)
        if len(raw) == ADDRESS_LENGTH:
            return SignerKind.ACCOUNT
        verifier = raw[:ADDRESS_LENGTH]
        return next(
            (k for k in SignerKind if k != SignerKind.ACCOUNT and from_hex(self.address_of(k)) == verifier),
            None,
        )


def as_signer(value: Signer) -> bytes:
    """A signer's bytes, from them or from their text form; ValueError if it can name no signer."""
    try:
        raw = from_hex(value) if isinstance(value, str) else bytes(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a signer: not hex") from exc
    if len(raw) < ADDRESS_LENGTH:
        raise ValueError(f"a signer is at least {ADDRESS_LENGTH} bytes (an address), not {len(raw)}")
    return raw


def signer_text(signer: Signer) -> str:
    """The text form: an account's checksummed address, a key signer's ``0x``-hex."""
    raw = as_signer(signer)
    return Web3.to_checksum_address(raw) if len(raw) == ADDRESS_LENGTH else str(to_hex(raw))


def signer_id(signer: Signer) -> bytes:
    """What mandates and events name a signer by: the keccak256 of its bytes."""
    return keccak256(as_signer(signer))


def account_signer(address: str) -> bytes:
    """The signer that is an account (an EOA's key, or a contract account checked by ERC-1271)."""
    return bytes(from_hex(Web3.to_checksum_address(address)))


def account_of(signer: Signer) -> ChecksumAddress | None:
    """The account a 20-byte signer is, else None."""
    raw = as_signer(signer)
    return Web3.to_checksum_address(raw) if len(raw) == ADDRESS_LENGTH else None


def key_signer(verifier: str, key: bytes) -> bytes:
    """The signer that is ``key``, checked by the verifier contract at ``verifier``."""
    if not key:
        raise ValueError("a key signer needs a key")
    return account_signer(verifier) + bytes(key)


def p256_key(x: int, y: int) -> bytes:
    """A P-256 public key as the P-256 and WebAuthn verifiers take it: x ‖ y, 32 bytes each."""
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def rsa_key(e: int, n: int) -> bytes:
    """An RSA public key as the RSA verifier takes it: ``abi.encode(bytes e, bytes n)``, big-endian."""
    return encode(["bytes", "bytes"], [_unsigned(e), _unsigned(n)])


def _unsigned(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def p256_signature(der: bytes) -> bytes:
    """A P-256 ECDSA signature (DER, as WebCrypto's and most libraries' give it) as r ‖ s with the
    low s OpenZeppelin's P256 requires (s and n − s both verify; the contract takes the lower only)."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + min(s, P256_ORDER - s).to_bytes(32, "big")


def webauthn_signature(authenticator_data: bytes, client_data_json: bytes, der: bytes) -> bytes:
    """A WebAuthn assertion as OpenZeppelin's WebAuthn verifier decodes it: its ``WebAuthnAuth``
    struct (r, s, challengeIndex, typeIndex, authenticatorData, clientDataJSON), ABI-encoded as the
    struct's own fields (the verifier reads them from the signature's first byte)."""
    challenge_index = client_data_json.find(b'"challenge":"')
    type_index = client_data_json.find(b'"type":"webauthn.get"')
    if challenge_index < 0 or type_index < 0:
        raise ValueError("the client data is no webauthn.get assertion with a challenge")
    rs = p256_signature(der)
    return encode(
        ["bytes32", "bytes32", "uint256", "uint256", "bytes", "string"],
        [rs[:32], rs[32:], challenge_index, type_index, authenticator_data, client_data_json.decode()],
    )
