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

from node_gateway.errors import NodeGatewayError
from node_gateway.protocol.envelopes import EncryptionKeyPair, EnvelopeSuite

CHAIN_KEYSTORE = "chain.keystore.json"
SECRETS_KEYSTORE = "secrets.keystore.json"
_SCRYPT_N = 2**15
_SECRETS_FORMAT = "confirmnet-secrets-v1"
_NEXT = ".next"  # a keystore written by a passphrase change, not yet in place
PENDING_ACCOUNT = CHAIN_KEYSTORE + ".pending"  # the account a rotation moves to, until it has


class KeystoreError(NodeGatewayError):
    """A keystore is missing, or the passphrase does not open it."""

    code = "keystore_error"


@dataclass(frozen=True)
class MemberKeys:
    chain_account: LocalAccount
    encryption_keys: tuple[EncryptionKeyPair, ...]  # the preferred suite first
    storage_key: bytes
    # The keys the last rotation replaced: envelopes sealed to them before peers saw the new ones
    # still open.
    retired_keys: tuple[EncryptionKeyPair, ...] = ()

    @property
    def decryption_keys(self) -> tuple[EncryptionKeyPair, ...]:
        return self.encryption_keys + self.retired_keys


def _kdf(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=8, p=1).derive(passphrase.encode())


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def create_keys(directory: Path, passphrase: str, suites: tuple[EnvelopeSuite, ...]) -> MemberKeys:
    """Creates a member's keys and writes them encrypted; refuses to overwrite existing ones."""
    if (directory / CHAIN_KEYSTORE).exists() or (directory / SECRETS_KEYSTORE).exists():
        raise KeystoreError(f"keys already exist in {directory}")
    keys = MemberKeys(
        chain_account=Account.create(),
        encryption_keys=tuple(EncryptionKeyPair.generate(suite) for suite in suites),
        storage_key=secrets.token_bytes(32),
    )
    _write_keystores(directory, keys, passphrase, suffix="")
    return keys


def change_passphrase(directory: Path, old: str, new: str) -> MemberKeys:
    """Encrypts the member's keys under ``new`` instead of ``old``: the same keys, new keystores.

    Crash-safe: both keystores are written beside the old ones first, then moved into place, the
    chain keystore first. ``load_keys`` completes a change the crash left half-moved (only the
    secrets remain to move) and forgets one that had moved nothing.
    """
    if pending_account(directory) is not None:
        raise KeystoreError(
            "an account rotation is pending: finish it first (confirmnet gateway rotate-account)"
        )
    keys = load_keys(directory, old)
    for name in (CHAIN_KEYSTORE, SECRETS_KEYSTORE):
        (directory / (name + _NEXT)).unlink(missing_ok=True)
    _write_keystores(directory, keys, new, suffix=_NEXT)
    for name in (CHAIN_KEYSTORE, SECRETS_KEYSTORE):
        os.replace(directory / (name + _NEXT), directory / name)
    _sync_directory(directory)
    return keys


def _write_keystores(directory: Path, keys: MemberKeys, passphrase: str, *, suffix: str) -> None:
    _write_private(
        directory / (CHAIN_KEYSTORE + suffix), json.dumps(Account.encrypt(keys.chain_account.key, passphrase))
    )
    _write_secrets(directory / (SECRETS_KEYSTORE + suffix), keys, passphrase)


def _pairs(pairs: tuple[EncryptionKeyPair, ...]) -> list[dict[str, str]]:
    return [
        {"suite": pair.suite.value, "private": base64.b64encode(pair.private_bytes()).decode()}
        for pair in pairs
    ]


def _write_secrets(path: Path, keys: MemberKeys, passphrase: str) -> None:
    secret_document = {
        "encryption_keys": _pairs(keys.encryption_keys),
        "retired_keys": _pairs(keys.retired_keys),
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
    _write_private(path, json.dumps(envelope, indent=2))


def rotate_encryption_keys(directory: Path, passphrase: str) -> MemberKeys:
    """New envelope keys for the same suites; the current ones are kept as retired (those retired
    before are dropped). The gateway publishes the new ones when it next starts.

    The secrets keystore is written beside the old one and moved into place, one atomic step.
    """
    keys = load_keys(directory, passphrase)
    rotated = MemberKeys(
        chain_account=keys.chain_account,
        encryption_keys=tuple(EncryptionKeyPair.generate(pair.suite) for pair in keys.encryption_keys),
        storage_key=keys.storage_key,
        retired_keys=keys.encryption_keys,
    )
    written = directory / (SECRETS_KEYSTORE + ".rotating")
    written.unlink(missing_ok=True)  # what a crash left half-written
    _write_secrets(written, rotated, passphrase)
    os.replace(written, directory / SECRETS_KEYSTORE)
    _sync_directory(directory)
    return rotated


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _settle_interrupted_change(directory: Path) -> None:
    """After a crash in ``change_passphrase``: roll forward if the chain keystore had moved (only
    the secrets wait), back if nothing had."""
    chain_next, secrets_next = directory / (CHAIN_KEYSTORE + _NEXT), directory / (SECRETS_KEYSTORE + _NEXT)
    if secrets_next.exists() and not chain_next.exists():
        os.replace(secrets_next, directory / SECRETS_KEYSTORE)
        _sync_directory(directory)
    else:
        chain_next.unlink(missing_ok=True)
        secrets_next.unlink(missing_ok=True)


def load_keys(directory: Path, passphrase: str) -> MemberKeys:
    """Opens a member's keystores with its passphrase."""
    _settle_interrupted_change(directory)
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
        encryption_keys=_key_pairs(secret_document["encryption_keys"]),
        storage_key=base64.b64decode(secret_document["storage_key"]),
        retired_keys=_key_pairs(secret_document.get("retired_keys", [])),
    )


# --- rotating the chain account ------------------------------------------------------------------
# The new account's keystore is written before the chain is told, and moved into place only after
# the chain has the new account: a crash between leaves the pending keystore, and the rotation is
# finished (or its transaction sent again) by running it again; never a member without its key.


def pending_account(directory: Path) -> str | None:
    """The address a rotation begun here moves to, or None."""
    try:
        document = json.loads((directory / PENDING_ACCOUNT).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return "0x" + str(document["address"]).removeprefix("0x").lower()


def write_pending_account(directory: Path, account: LocalAccount, passphrase: str) -> None:
    _write_private(directory / PENDING_ACCOUNT, json.dumps(Account.encrypt(account.key, passphrase)))
    _sync_directory(directory)


def open_pending_account(directory: Path, passphrase: str) -> LocalAccount:
    document = json.loads((directory / PENDING_ACCOUNT).read_text(encoding="utf-8"))
    try:
        account: LocalAccount = Account.from_key(Account.decrypt(document, passphrase))
    except ValueError as exc:
        raise KeystoreError(f"the passphrase does not open {directory / PENDING_ACCOUNT}") from exc
    return account


def commit_pending_account(directory: Path) -> None:
    """The pending account becomes the member's: its keystore replaces the chain keystore."""
    os.replace(directory / PENDING_ACCOUNT, directory / CHAIN_KEYSTORE)
    _sync_directory(directory)


def _key_pairs(items: list[dict[str, str]]) -> tuple[EncryptionKeyPair, ...]:
    return tuple(
        EncryptionKeyPair(EnvelopeSuite(item["suite"]), base64.b64decode(item["private"])) for item in items
    )
