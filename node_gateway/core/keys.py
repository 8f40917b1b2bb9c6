"""A member's keys, encrypted at rest under its passphrase.

- ``chain.keystore.json``: the chain account, an Ethereum keystore v3 (scrypt), as wallets use.
- ``secrets.keystore.json``: the HPKE private keys and the key that encrypts documents at rest,
  sealed with AES-256-GCM under a key derived from the passphrase by scrypt.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_account import Account
from eth_account.signers.local import LocalAccount

from node_gateway.protocol.envelopes import EncryptionKeyPair, EnvelopeSuite

CHAIN_KEYSTORE = "chain.keystore.json"
SECRETS_KEYSTORE = "secrets.keystore.json"
_SCRYPT_N = 2**15
_SECRETS_FORMAT = "confirmnet-secrets-v1"


class KeystoreError(Exception):
    """A keystore is missing, or the passphrase does not open it."""


@dataclass(frozen=True)
class MemberKeys:
    chain_account: LocalAccount
    encryption_keys: tuple[EncryptionKeyPair, ...]  # the preferred suite first
    storage_key: bytes


def _kdf(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=8, p=1).derive(passphrase.encode())


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def create_keys(directory: Path, passphrase: str, suites: tuple[EnvelopeSuite, ...]) -> MemberKeys:
    """Creates a member's keys and writes them encrypted; refuses to overwrite existing ones."""
    if (directory / CHAIN_KEYSTORE).exists() or (directory / SECRETS_KEYSTORE).exists():
        raise KeystoreError(f"keys already exist in {directory}")
    account: LocalAccount = Account.create()
    keys = MemberKeys(
        chain_account=account,
        encryption_keys=tuple(EncryptionKeyPair.generate(suite) for suite in suites),
        storage_key=secrets.token_bytes(32),
    )
    _write_private(directory / CHAIN_KEYSTORE, json.dumps(Account.encrypt(account.key, passphrase)))
    secret_document = {
        "encryption_keys": [
            {"suite": pair.suite.value, "private": base64.b64encode(pair.private_bytes()).decode()}
            for pair in keys.encryption_keys
        ],
        "storage_key": base64.b64encode(keys.storage_key).decode(),
    }
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_kdf(passphrase, salt)).encrypt(
        nonce, json.dumps(secret_document).encode(), _SECRETS_FORMAT.encode()
    )
    envelope = {
        "format": _SECRETS_FORMAT,
        "kdf": {"name": "scrypt", "n": _SCRYPT_N, "r": 8, "p": 1, "salt": salt.hex()},
        "nonce": nonce.hex(),
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    _write_private(directory / SECRETS_KEYSTORE, json.dumps(envelope, indent=2))
    return keys


def load_keys(directory: Path, passphrase: str) -> MemberKeys:
    """Opens a member's keystores with its passphrase."""
    try:
        chain_document = json.loads((directory / CHAIN_KEYSTORE).read_text(encoding="utf-8"))
        envelope = json.loads((directory / SECRETS_KEYSTORE).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeystoreError(f"no keystore at {exc.filename}; run `confirmnet gateway init`") from exc
    try:
        account: LocalAccount = Account.from_key(Account.decrypt(chain_document, passphrase))
        key = _kdf(passphrase, bytes.fromhex(envelope["kdf"]["salt"]))
        plain = AESGCM(key).decrypt(
            bytes.fromhex(envelope["nonce"]),
            base64.b64decode(envelope["ciphertext"]),
            _SECRETS_FORMAT.encode(),
        )
    except (ValueError, InvalidTag) as exc:
        raise KeystoreError(f"the passphrase does not open the keystores in {directory}") from exc
    secret_document = json.loads(plain)
    return MemberKeys(
        chain_account=account,
        encryption_keys=tuple(
            EncryptionKeyPair(EnvelopeSuite(item["suite"]), base64.b64decode(item["private"]))
            for item in secret_document["encryption_keys"]
        ),
        storage_key=base64.b64decode(secret_document["storage_key"]),
    )
