"""Canonical bytes and the salted hashes that the chain records instead of the documents.

A document's bytes are RFC 8785 canonical JSON of its JSON form, so any implementation that
parses and re-serialises a document gets the same bytes (key order, whitespace and number
spelling do not matter). Every hash starts with a domain tag, so a letter's hash can never be
passed off as a reply's, nor as an auditee reference, even over identical bytes. Tags end in
NUL and contain none, so a tag is never a prefix of another tag's input.

Document hashes and auditee references are salted with 32 random bytes: without the salt the
chain's values cannot be tested against guesses (a likely auditee, a likely balance).
"""

from __future__ import annotations

import hmac
import importlib
import json
import secrets
import threading
from typing import Any, NewType

import rfc8785
from eth_typing import HexStr
from eth_utils.crypto import keccak
from pydantic import BaseModel

from node_gateway.protocol.documents import (
    ConfirmationLetter,
    ConfirmationReply,
    Document,
    normalise_registration_code,
)
from node_gateway.protocol.errors import DocumentHashMismatch

Hash32 = NewType("Hash32", bytes)
"""A 32-byte keccak256 value, as stored in a ``bytes32`` on chain."""

Salt = NewType("Salt", bytes)
"""32 random bytes that blind a hash; kept off chain with the document."""

SALT_LENGTH = 32

LETTER_DOMAIN = b"confirmnet/letter/v1\x00"
REPLY_DOMAIN = b"confirmnet/reply/v1\x00"
AUDITEE_DOMAIN = b"confirmnet/auditee/v1\x00"
ORGANISATION_DOMAIN = b"confirmnet/organisation/v1\x00"

_DOCUMENT_DOMAINS: dict[type[BaseModel], bytes] = {
    ConfirmationLetter: LETTER_DOMAIN,
    ConfirmationReply: REPLY_DOMAIN,
}


class _Keccak256:
    """keccak256 through pycryptodome's C functions (eth-hash's own backend), one state per thread
    reset for each input: eth-utils' hash objects cost as much again as hashing a 2.7 KB document,
    and three times a hash of 64 bytes (a Merkle tree's node). eth-utils' keccak where those
    functions are not as expected."""

    def __init__(self) -> None:
        self._local = threading.local()
        try:  # pycryptodome's own modules, which its type stubs leave out
            self._lib: Any = importlib.import_module("Crypto.Hash.keccak")._raw_keccak_lib
            self._api: Any = importlib.import_module("Crypto.Util._raw_api")
            self.direct = self._hash(b"abc") == keccak(b"abc")
        except (ImportError, AttributeError, TypeError, ValueError):
            self.direct = False

    def __call__(self, data: bytes) -> bytes:
        return self._hash(data) if self.direct else keccak(data)

    def _hash(self, data: bytes) -> bytes:
        local, lib = self._local, self._lib
        state = getattr(local, "state", None)
        if state is None:
            pointer = self._api.VoidPointer()
            if lib.keccak_init(pointer.address_of(), 64, 24):  # capacity 512 bits, 24 rounds
                raise ValueError("keccak_init failed")
            # The owner frees the state when the thread's locals go.
            local.owner = self._api.SmartPointer(pointer.get(), lib.keccak_destroy)
            state = local.state = local.owner.get()
            local.out = self._api.create_string_buffer(32)
        out = local.out
        padding = 1  # Keccak's own, not SHA-3's
        if lib.keccak_reset(state) or lib.keccak_absorb(state, data, len(data)):
            raise ValueError("keccak failed")
        if lib.keccak_digest(state, out, 32, padding):
            raise ValueError("keccak failed")
        return bytes(self._api.get_raw_buffer(out))


keccak256 = _Keccak256()


def new_salt() -> Salt:
    """Fresh salt from the operating system's CSPRNG."""
    return Salt(secrets.token_bytes(SALT_LENGTH))


def as_salt(value: bytes) -> Salt:
    """Check that ``value`` has the length of a salt (e.g. one read back from storage)."""
    if len(value) != SALT_LENGTH:
        raise ValueError(f"a salt is {SALT_LENGTH} bytes, not {len(value)}")
    return Salt(bytes(value))


def as_hash32(value: bytes | str) -> Hash32:
    """A ``Hash32`` from 32 bytes or their ``0x`` hex spelling."""
    raw = from_hex(value) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"a hash is 32 bytes, not {len(raw)}")
    return Hash32(raw)


def to_hex(value: bytes) -> HexStr:
    """``0x`` and lower-case hex, the spelling documents, the database and JSON-RPC use."""
    return HexStr("0x" + bytes(value).hex())


def from_hex(value: str) -> bytes:
    """The bytes that ``value`` spells in hex, with or without ``0x`` (ValueError if it is none)."""
    return bytes.fromhex(value.removeprefix("0x"))


def canonical_bytes(document: BaseModel) -> bytes:
    """RFC 8785 canonical JSON of a model's JSON form (decimals as strings, dates in ISO 8601)."""
    return canonical_json(document.model_dump(mode="json", by_alias=True))


_SAFE_INTEGER = 2**53  # beyond it RFC 8785 spells integers as ECMAScript doubles


def _plain(value: Any) -> bool:
    """JSON where the standard library's compact, key-sorted output is already RFC 8785.

    Exact types only (a subclass takes the general path); a loop, not recursion, as it runs
    over every value of every document hashed, strings (most of them) judged first.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is int:
            if not -_SAFE_INTEGER < item < _SAFE_INTEGER:
                return False
        elif not (kind is bool or item is None):
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of JSON data.

    Documents hold only strings, small integers, booleans and ASCII keys; for those, Python's
    json with sorted keys, no spaces and no ASCII escaping produces exactly the RFC 8785 bytes
    (sorting ASCII keys by code point is sorting them by UTF-16 units; both escape control
    characters alike), ten times faster than the general implementation used for anything else.
    """
    if not _plain(value):
        return rfc8785.dumps(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, as rfc8785 refuses it too
        raise rfc8785.CanonicalizationError("input contains non-UTF-8 codepoints") from exc


def salted_hash(domain: bytes, salt: Salt, data: bytes) -> Hash32:
    """keccak256(domain || salt || data): the one construction behind every salted value."""
    return Hash32(keccak256(domain + as_salt(salt) + data))


def document_hash(document: Document, salt: Salt) -> Hash32:
    """The hash recorded on chain for a letter (``request``) or a reply (``reply``)."""
    return hashed_document(document, salt)[1]


def hashed_document(document: Document, salt: Salt) -> tuple[bytes, Hash32]:
    """The document's canonical bytes and its ``document_hash``, the bytes made once (a gateway
    stores the bytes whose hash it records)."""
    canonical = canonical_bytes(document)
    return canonical, salted_hash(_DOCUMENT_DOMAINS[type(document)], salt, canonical)


def verify_document_hash(document: Document, salt: Salt, expected: bytes) -> None:
    """Raise ``DocumentHashMismatch`` unless ``document`` with ``salt`` gives ``expected``."""
    actual = document_hash(document, salt)
    if not hmac.compare_digest(actual, expected):
        raise DocumentHashMismatch(
            f"{document.schema_id} {document.letter_id} hashes to {to_hex(actual)}, "
            f"the chain holds {to_hex(expected)}"
        )


def auditee_reference(registration_code: str, salt: Salt) -> Hash32:
    """The auditee's reference on chain: a commitment to its registration code.

    The bank chooses the salt once per customer and keeps it: it registers its customer's
    signers under the reference, the chain records the reference when a mandated signer
    authorises a letter (the firm finds it from the signer's mandates), and the bank sends the salt
    with its reply, so that the firm's evidence shows the reference commits to the letter's
    auditee. Anyone without the salt cannot tell which company a reference is.
    """
    return salted_hash(AUDITEE_DOMAIN, salt, normalise_registration_code(registration_code).encode())


def organisation_id(registration_code: str) -> Hash32:
    """A member's organisation id in the MemberRegistry.

    Unsalted on purpose: membership is public, and anyone must be able to check which
    organisation a member is.
    """
    return Hash32(keccak256(ORGANISATION_DOMAIN + normalise_registration_code(registration_code).encode()))
