"""Documents at rest: sealed with AES-256-GCM under the member's storage key.

The associated data binds each ciphertext to its letter and its kind, so a sealed reply cannot be
swapped into another letter's row, nor passed off as a letter.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from node_gateway.errors import NodeGatewayError

_NONCE = 12


class VaultError(NodeGatewayError):
    """A sealed document does not open with this member's storage key."""

    code = "vault_error"


@dataclass(frozen=True)
class StoredDocument:
    """A document's canonical JSON bytes and the salt its on-chain hash was made with."""

    canonical: bytes
    salt: bytes


class Vault:
    def __init__(self, storage_key: bytes) -> None:
        self._aead = AESGCM(storage_key)

    def seal(self, letter_id: str, kind: str, document: StoredDocument) -> bytes:
        plain = json.dumps({"document": document.canonical.decode("utf-8"), "salt": document.salt.hex()})
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain.encode("utf-8"), _aad(letter_id, kind))

    def open(self, letter_id: str, kind: str, sealed: bytes) -> StoredDocument:
        try:
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], _aad(letter_id, kind))
        except InvalidTag as exc:
            raise VaultError(f"the stored {kind} of letter {letter_id} does not open") from exc
        content = json.loads(plain)
        return StoredDocument(
            canonical=content["document"].encode("utf-8"), salt=bytes.fromhex(content["salt"])
        )


def _aad(letter_id: str, kind: str) -> bytes:
    return f"confirmnet/vault/v1/{kind}/{letter_id.lower()}".encode()
