"""Auditee signers of every ERC-7913 kind, signing in Python as their devices do.

Each gives its ERC-7913 bytes (``signer``) and signs an EIP-712 digest (``sign_digest``) the way
the real thing would: an ordinary key (eth-account), a 2-of-3 company multisig (ERC-1271, the
test-only contracts/test/TestMultisig.sol), a WebAuthn passkey (an assertion: authenticator data
and client data JSON around the digest as challenge), a bare P-256 key, and a 2048-bit RSA key
(PKCS#1 v1.5 over SHA-256 of the digest, as OpenZeppelin's RSA verifier checks).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from hexbytes import HexBytes

from node_gateway.chain.artifacts import load_artifact
from node_gateway.chain.network import Network
from node_gateway.chain.signers import (
    SignerKind,
    account_signer,
    key_signer,
    p256_key,
    p256_signature,
    rsa_key,
    webauthn_signature,
)
from node_gateway.chain.transactions import Call, TransactionSender

RP_ID = "localhost"
UP, UV = 0x01, 0x04  # WebAuthn authenticator data flags: user present, user verified


@dataclass
class EoaKey:
    account: LocalAccount = field(default_factory=Account.create)

    @property
    def signer(self) -> bytes:
        return account_signer(self.account.address)

    def sign_digest(self, digest: bytes) -> bytes:
        return bytes(self.account.unsafe_sign_hash(Hash32(digest)).signature)


@dataclass
class MultisigKey:
    """A company's 2-of-3 multisig: two owners' ECDSA signatures, in increasing address order."""

    address: str
    owners: list[LocalAccount]
    threshold: int = 2

    @classmethod
    def deploy(cls, deployer: TransactionSender) -> MultisigKey:
        owners = [Account.create() for _ in range(3)]
        code = HexBytes(load_artifact("TestMultisig").bytecode)
        args = encode(["address[]", "uint256"], [[o.address for o in owners], 2])
        receipt = deployer.send(Call(to=None, data=HexBytes(code + args), label="deploy TestMultisig"))
        address = receipt["contractAddress"]
        assert address is not None
        return cls(address, owners)

    @property
    def signer(self) -> bytes:
        return account_signer(self.address)

    def sign_digest(self, digest: bytes) -> bytes:
        signing = sorted(self.owners[: self.threshold], key=lambda owner: int(owner.address, 16))
        return b"".join(bytes(owner.unsafe_sign_hash(Hash32(digest)).signature) for owner in signing)


@dataclass
class P256Key:
    verifier: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def signer(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return key_signer(self.verifier, p256_key(numbers.x, numbers.y))

    def sign_digest(self, digest: bytes) -> bytes:
        return p256_signature(self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))


@dataclass
class WebAuthnKey(P256Key):
    """A passkey: it signs an assertion whose challenge is the digest, with user presence and
    verification, on the relying party ``RP_ID``."""

    flags: int = UP | UV

    def sign_digest(self, digest: bytes) -> bytes:
        authenticator_data = hashlib.sha256(RP_ID.encode()).digest() + bytes([self.flags]) + (1).to_bytes(4)
        client_data = json.dumps(
            {
                "type": "webauthn.get",
                "challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
                "origin": f"http://{RP_ID}:8000",
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()
        signed = authenticator_data + hashlib.sha256(client_data).digest()
        return webauthn_signature(
            authenticator_data, client_data, self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        )


@dataclass
class RsaKey:
    verifier: str
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def signer(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return key_signer(self.verifier, rsa_key(numbers.e, numbers.n))

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, padding.PKCS1v15(), hashes.SHA256())


AuditeeKeyOfAnyKind = EoaKey | MultisigKey | P256Key | WebAuthnKey | RsaKey
KINDS = ("eoa", "multisig", "webauthn", "p256", "rsa")
KIND_OF = {
    "eoa": SignerKind.ACCOUNT,
    "multisig": SignerKind.ACCOUNT,
    "webauthn": SignerKind.WEBAUTHN,
    "p256": SignerKind.P256,
    "rsa": SignerKind.RSA,
}


def new_key(kind: str, network: Network, deployer: TransactionSender) -> AuditeeKeyOfAnyKind:
    """A fresh signer of ``kind`` on ``network`` (a multisig is deployed by ``deployer``)."""
    verifiers = network.verifiers
    assert verifiers is not None
    if kind == "eoa":
        return EoaKey()
    if kind == "multisig":
        return MultisigKey.deploy(deployer)
    if kind == "webauthn":
        return WebAuthnKey(verifiers.webauthn)
    if kind == "p256":
        return P256Key(verifiers.p256)
    return RsaKey(verifiers.rsa)
