"""A package's documents checked as stored: their canonical bytes hashed, no model built.

A document in an evidence package is the JSON object that was hashed. When its RFC 8785 bytes
with its salt give the hash the chain holds, the document is byte for byte the one its author
recorded; the checks then need only its schema, letter id and parties, read straight from the
object. Parsing it into its model and re-serialising that (four fifths of a document's cost) is
for display, not for checking.

Anything short of that (an altered byte, a wrong salt, a field of another type) gives None, and
the verifier takes the full path, :func:`node_gateway.chain.verification.verify_against_record`,
which names what is wrong exactly as before.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from node_gateway.chain.contracts import Letter
from node_gateway.protocol import as_salt, to_hex
from node_gateway.protocol.hashing import (
    LETTER_DOMAIN,
    REPLY_DOMAIN,
    SALT_LENGTH,
    canonical_json,
    salted_hash,
)
from node_gateway.protocol.wire import DocumentKind

# (check name, passed, detail), named and worded as verify_against_record's passing checks.
Passed = tuple[str, bool, str]

_SCHEMA: dict[DocumentKind, tuple[str, bytes]] = {
    "letter": ("confirmnet.letter", LETTER_DOMAIN),
    "reply": ("confirmnet.reply", REPLY_DOMAIN),
}


def _member_no(party: Any) -> int | None:
    number = party.get("member_no") if isinstance(party, dict) else None
    return number if type(number) is int else None  # not a bool, which equals 0 or 1


def checked_as_stored(
    record: Letter, *, kind: DocumentKind, document: Mapping[str, Any], salt: bytes
) -> tuple[list[Passed], str] | None:
    """The passing checks and the document's hash (hex) if ``document`` as stored is the one the
    chain recorded for ``record`` and agrees with it; None for the full path to judge."""
    schema, domain = _SCHEMA[kind]
    version = document.get("version")
    if document.get("schema") != schema or type(version) is not int or len(salt) != SALT_LENGTH:
        return None
    if document.get("letter_id") != to_hex(record.letter_id):
        return None
    expected = record.letter_hash if kind == "letter" else record.reply_hash
    if kind == "reply" and not any(expected):
        return None
    try:
        digest = salted_hash(domain, as_salt(salt), canonical_json(document))
    except ValueError:  # not canonicalisable JSON (rfc8785's errors are ValueErrors)
        return None
    if not hmac.compare_digest(digest, expected):
        return None
    status = record.status.name.lower()
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
        ("letter_on_chain", True, f"the letter is {status}"),
    ]
    if kind == "reply":
        checks.append(("reply_on_chain", True, "the bank recorded a reply"))
    checks += [
        ("hash", True, f"the salted hash equals the {kind} hash on chain"),
        ("consistency", True, consistency),
    ]
    return checks, to_hex(digest)
