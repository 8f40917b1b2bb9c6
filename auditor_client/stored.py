"""A package's documents checked as stored: their bytes hashed as they are, then read once.

A document in an evidence package is the text of its RFC 8785 bytes, the bytes its salted hash on
chain was made from. When those bytes with the salt give the chain's hash, the document is byte
for byte the one its author recorded; the checks then need only its schema, letter id and
parties, read from the object the same text parses to (which the verifier also reads the dates
and the auditee from, and nothing else: no separate copy is ever shown). Building its model and
serialising that again is for display, not for checking.

A document's text must read one way in every program: a repeated key (which parsers resolve
differently), a number beyond what every parser holds exactly, or an escape that decodes to no
character would let the same bytes be shown as two documents, so such a text fails, hashed or
not. Anything else short of the chain's hash (an altered byte, a wrong salt) takes the full path,
:func:`node_gateway.chain.verification.verify_against_record`, which builds the document's model
and names what is wrong (or finds it the recorded one stored otherwise, spaced say).

What the checks read of a hashed document, and nothing else: ``schema``, ``version`` and
``letter_id`` (``document``, ``consistency``); the letter's ``audit_firm.member_no`` and
``bank.member_no``, the reply's ``bank_member_no`` and ``letter_hash`` (``consistency``); the
letter's ``issued_on`` and the reply's ``replied_on`` (``timestamps``); the letter's
``auditee.registration_code`` (``auditee_ref``). The one reading that enforces the rule above
gives them: compiled code for a text in canonical form (:func:`_read_canonical`), the standard
library's parser with a check of each key and number for any other text.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from node_gateway.chain.contracts import Letter
from node_gateway.chain.verification import verify_against_record
from node_gateway.protocol import to_hex
from node_gateway.protocol.hashing import LETTER_DOMAIN, REPLY_DOMAIN, SALT_LENGTH, keccak256
from node_gateway.protocol.wire import DocumentKind

# (check name, passed, detail), named and worded as verify_against_record's checks.
Passed = tuple[str, bool, str]

_SCHEMA: dict[DocumentKind, tuple[str, bytes]] = {
    "letter": ("confirmnet.letter", LETTER_DOMAIN),
    "reply": ("confirmnet.reply", REPLY_DOMAIN),
}


@dataclass(frozen=True)
class StoredDocument:
    """A stored document's checks, its hash (hex) when it is the recorded one, and the object its
    hashed text parses to (empty when that is no JSON object, or reads ambiguously)."""

    checks: list[Passed]
    document_hash: str | None
    document: dict[str, Any]


def _member_no(party: Any) -> int | None:
    number = party.get("member_no") if isinstance(party, dict) else None
    return number if type(number) is int else None  # not a bool, which equals 0 or 1


_SAFE_INTEGER = 2**53  # what every JSON parser reads exactly (JavaScript's, for one)


class _Ambiguous(ValueError):
    """A JSON text that programs may read differently."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Ambiguous("a key is repeated")
    return found


def _exact_integer(text: str) -> int:
    value = int(text)
    if not -_SAFE_INTEGER < value < _SAFE_INTEGER:
        raise _Ambiguous(f"the integer {text} is beyond what every parser reads exactly")
    return value


def _no_fraction(text: str) -> Any:
    raise _Ambiguous(f"the number {text} (documents hold amounts as text)")


# Documents hold strings, small integers, booleans and nulls: anything else reads ambiguously.
_ONE_READING = json.JSONDecoder(
    object_pairs_hook=_unique_keys,
    parse_int=_exact_integer,
    parse_float=_no_fraction,
    parse_constant=_no_fraction,
)


def _refuse_fraction(text: str) -> Any:
    raise ValueError(f"the number {text}")


# Compiled, and refusing what the careful reading refuses but cannot see a repeated key: a number
# with a fraction or an exponent (msgspec's hook), an integer beyond 53 bits (orjson's encoder).
_FAST_READ = msgspec.json.Decoder(float_hook=_refuse_fraction)
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _read_canonical(data: bytes) -> dict[str, Any] | None:
    """The object of ``data`` when the text is an object in canonical form, byte for byte what
    orjson writes of that object with sorted keys (RFC 8785 for keys of the Basic Multilingual
    Plane below the surrogates, and for every string, integer, boolean and null); None otherwise.

    Such a text reads one way: an encoder writes each key of an object once, so a text holding a
    key twice is never what it writes of the object parsed from it; it writes no fraction or
    exponent here (the hook refuses them first), no integer beyond 53 bits (it raises), and no
    escape but of a control character (a lone surrogate does not parse). Anything else, RFC 8785
    too where orjson orders keys otherwise, is read the careful way, which judges it as before."""
    try:
        document = _FAST_READ.decode(data)
        if type(document) is dict and orjson.dumps(document, option=_CANONICAL) == data:
            return document
    except (msgspec.MsgspecError, TypeError, ValueError, RecursionError):
        pass
    return None


def _read_once(text: str) -> dict[str, Any]:
    """The object ``text`` reads as in every program; ValueError naming why it may read otherwise
    (or does not parse, or is no object)."""
    document = _ONE_READING.decode(text)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if "\\u" in text:  # an escape: of a lone surrogate, it decodes to no character
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    return document


@dataclass(frozen=True)
class ReadDocument:
    """What a stored document is before the chain is read: its bytes, and the object its text
    reads as (empty with ``failure`` when it reads as none, or ambiguously)."""

    data: bytes
    document: dict[str, Any]
    failure: str | None = None


def read_stored(*, kind: DocumentKind, text: str) -> ReadDocument:
    """The stored document ``text`` read once, which needs no chain (the verifier does it while
    the node answers). Not hashed yet: pycryptodome's calls give up the GIL, and each would then
    wait for the thread reading the node to give it back."""
    try:
        data = text.encode("utf-8")
    except ValueError as exc:
        return ReadDocument(b"", {}, f"the {kind} is no JSON object in UTF-8: {exc}")
    canonical = _read_canonical(data)
    if canonical is not None:
        return ReadDocument(data, canonical)
    try:
        return ReadDocument(data, _read_once(text))
    except _Ambiguous as exc:
        detail = f"the {kind} reads differently in different programs ({exc}): it proves no one document"
        return ReadDocument(data, {}, detail)
    except ValueError as exc:
        return ReadDocument(data, {}, f"the {kind} is no JSON object in UTF-8: {exc}")


def check_stored(
    record: Letter, *, kind: DocumentKind, text: str, salt: bytes, read: ReadDocument | None = None
) -> StoredDocument:
    """The checks of the document ``text`` (its stored canonical text) with ``salt`` against the
    chain's ``record``: as stored when it hashes to the chain's hash, else the full path's.
    ``read`` is :func:`read_stored`'s of the same text, when already made."""
    if read is None:
        read = read_stored(kind=kind, text=text)
    document = read.document
    if read.failure is not None:
        return StoredDocument([("document", False, read.failure)], None, {})
    schema, domain = _SCHEMA[kind]
    expected = record.letter_hash if kind == "letter" else record.reply_hash
    if (
        len(salt) == SALT_LENGTH
        and any(expected)
        and hmac.compare_digest(keccak256(domain + salt + read.data), expected)
    ):
        passed = _passed(record, kind, schema, document)
        if passed is not None:
            return StoredDocument(passed, to_hex(expected), document)
    # Not the recorded bytes (or not this letter's): the full path names what is wrong, or finds
    # the document stored otherwise than hashed (spaced, say) the recorded one once parsed.
    full = verify_against_record(record, kind=kind, document_json=document, salt=salt)
    checks = [(check.name, check.ok, check.detail) for check in full.checks]
    return StoredDocument(checks, full.document_hash if full.valid else None, document)


def _passed(
    record: Letter, kind: DocumentKind, schema: str, document: Mapping[str, Any]
) -> list[Passed] | None:
    """The passing checks of a recorded document that names its schema, this letter and the
    chain's parties; None otherwise."""
    version = document.get("version")
    if document.get("schema") != schema or type(version) is not int:
        return None
    if document.get("letter_id") != to_hex(record.letter_id):
        return None
    if kind == "letter":
        stated = (_member_no(document.get("audit_firm")), _member_no(document.get("bank")))
        if stated != (record.firm, record.bank):
            return None
        consistency = (
            f"firm {stated[0]} to bank {stated[1]}; the chain has firm {record.firm} to bank {record.bank}"
        )
    else:
        bank, letter_hash = document.get("bank_member_no"), document.get("letter_hash")
        if type(bank) is not int or bank != record.bank or letter_hash != to_hex(record.letter_hash):
            return None
        consistency = (
            f"from bank {bank} on letter hash {letter_hash}; "
            f"the chain has bank {record.bank} and letter hash {letter_hash}"
        )
    checks: list[Passed] = [
        ("document", True, f"the {kind} the chain's hash was recorded from ({schema} v{version})"),
        ("letter_on_chain", True, f"the letter is {record.status.name.lower()}"),
    ]
    if kind == "reply":
        checks.append(("reply_on_chain", True, "the bank recorded a reply"))
    checks += [
        ("hash", True, f"the salted hash equals the {kind} hash on chain"),
        ("consistency", True, consistency),
    ]
    return checks
