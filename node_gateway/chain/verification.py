"""Verify a letter or a reply, with its salt, against the chain: what a regulator (or anyone) does.

The chain holds only salted hashes; whoever has a document and its salt can recompute the hash,
compare it with the letter's record, and learn from the event that recorded it who recorded it
and when. Nothing here needs the gateway's database or keys: a node and the two contracts do.
The gateway's regulator route and the offline evidence verifier both use it.

Verification stops at the first failed check; ``code`` then says why, stably:

    invalid_document    not a valid letter/reply of the kind given, or a salt of the wrong length
    unknown_letter      no letter with the document's id on chain
    not_replied         a reply, but the chain records no reply for the letter (yet)
    hash_mismatch       the document with the salt does not give the hash on chain
    document_mismatch   the recorded document names other parties (or, a reply, another letter
                        hash) than the chain's record: recorded, but inconsistent with the letter
    not_recorded        no event recording the hash from ``from_block`` on (a wrong start block)
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, NoReturn

from eth_typing import HexStr
from web3.types import FilterParams, LogReceipt

from node_gateway.chain.contracts import (
    ChainEvent,
    ConfirmationRegistry,
    Letter,
    LetterStatus,
    MemberRegistry,
    block_windows,
)
from node_gateway.chain.transactions import rpc
from node_gateway.protocol import (
    ConfirmationLetter,
    ConfirmationReply,
    InvalidDocument,
    Salt,
    as_salt,
    document_hash,
    from_hex,
    parse_letter,
    parse_reply,
    to_hex,
)
from node_gateway.protocol.wire import (
    Check,
    DocumentKind,
    FailureCode,
    Recording,
    VerificationResult,
)

__all__ = [
    "Check",
    "DocumentKind",
    "FailureCode",
    "Recording",
    "VerificationResult",
    "verify_against_record",
    "verify_document",
]

# The event that records each kind of document's hash, and the party that records it.
_RECORDING_EVENT: dict[DocumentKind, tuple[str, str]] = {
    "letter": ("LetterRequested", "firm"),
    "reply": ("LetterReplied", "bank"),
}


class _Failed(Exception):
    def __init__(self, code: FailureCode) -> None:
        self.code = code


class _Checks:
    """The checks made so far; the first failure ends the verification."""

    def __init__(self) -> None:
        self.items: list[Check] = []

    def passed(self, name: str, detail: str) -> None:
        self.items.append(Check(name=name, ok=True, detail=detail))

    def fail(self, name: str, detail: str, code: FailureCode) -> NoReturn:
        self.items.append(Check(name=name, ok=False, detail=detail))
        raise _Failed(code)


def verify_document(
    confirmations: ConfirmationRegistry,
    members: MemberRegistry,
    *,
    kind: DocumentKind,
    document_json: bytes | str | Mapping[str, Any],
    salt: bytes,
    from_block: int,
) -> VerificationResult:
    """Check ``document_json`` (a letter or a reply, as ``kind`` says) and its salt against the chain.

    ``from_block`` is where to look for the recording event: the network's deployment block.
    Chain errors (an unreachable node) propagate; everything about the document is in the result.
    """

    def checks(checks: _Checks, found: dict[str, Any]) -> None:
        document = _parse(checks, kind, document_json)
        letter = confirmations.get_letter(from_hex(document.letter_id))
        _check_record(checks, found, kind, document, salt, letter)
        found["recorded"] = _recording(checks, confirmations, members, kind, letter.letter_id, from_block)

    return _verify(kind, checks)


def verify_against_record(
    letter: Letter, *, kind: DocumentKind, document_json: bytes | str | Mapping[str, Any], salt: bytes
) -> VerificationResult:
    """The checks of :func:`verify_document` that need only the letter's record on chain.

    For verifiers that read many records at once and establish who recorded each step themselves
    (the offline evidence verifier): no chain access here. The document must be ``letter``'s.
    """

    def checks(checks: _Checks, found: dict[str, Any]) -> None:
        document = _parse(checks, kind, document_json)
        if document.letter_id != to_hex(letter.letter_id):
            checks.fail(
                "letter_id",
                f"the document is letter {document.letter_id}, not {to_hex(letter.letter_id)}",
                "document_mismatch",
            )
        _check_record(checks, found, kind, document, salt, letter)

    return _verify(kind, checks)


def _verify(kind: DocumentKind, run: Callable[[_Checks, dict[str, Any]], None]) -> VerificationResult:
    checks = _Checks()
    found: dict[str, Any] = {}
    try:
        run(checks, found)
    except _Failed as failure:
        return VerificationResult(valid=False, code=failure.code, kind=kind, checks=checks.items, **found)
    return VerificationResult(valid=True, kind=kind, checks=checks.items, **found)


def _check_record(
    checks: _Checks,
    found: dict[str, Any],
    kind: DocumentKind,
    document: ConfirmationLetter | ConfirmationReply,
    salt: bytes,
    letter: Letter,
) -> None:
    digest = document_hash(document, _salt(checks, salt))
    found |= {"letter_id": document.letter_id, "document_hash": to_hex(digest)}
    if letter.status == LetterStatus.NONE:
        checks.fail("letter_on_chain", "no such letter on chain", "unknown_letter")
    found["letter_status"] = _status(letter)
    checks.passed("letter_on_chain", f"the letter is {_status(letter)}")
    if kind == "reply":
        if not any(letter.reply_hash):
            checks.fail(
                "reply_on_chain", f"no reply recorded: the letter is {_status(letter)}", "not_replied"
            )
        checks.passed("reply_on_chain", "the bank recorded a reply")
    _check_hash(checks, kind, letter, digest)
    _check_consistency(checks, document, letter)


def _status(letter: Letter) -> str:
    return letter.status.name.lower()


def _parse(
    checks: _Checks, kind: DocumentKind, document_json: bytes | str | Mapping[str, Any]
) -> ConfirmationLetter | ConfirmationReply:
    try:
        document = parse_letter(document_json) if kind == "letter" else parse_reply(document_json)
    except InvalidDocument as exc:
        first = exc.errors[0] if exc.errors else {"loc": [], "msg": str(exc)}
        where = ".".join(map(str, first["loc"])) or "document"
        checks.fail("document", f"not a valid {kind}: {where}: {first['msg']}", "invalid_document")
    checks.passed("document", f"a valid {kind} ({document.schema_id} v{document.version})")
    return document


def _salt(checks: _Checks, salt: bytes) -> Salt:
    try:
        value = as_salt(salt)
    except ValueError as exc:
        checks.fail("salt", str(exc), "invalid_document")
    return value


def _check_hash(checks: _Checks, kind: DocumentKind, letter: Letter, digest: bytes) -> None:
    expected = letter.letter_hash if kind == "letter" else letter.reply_hash
    if not hmac.compare_digest(digest, expected):
        detail = f"the salted hash is {to_hex(digest)}, the chain holds {to_hex(expected)}"
        checks.fail("hash", detail, "hash_mismatch")
    checks.passed("hash", f"the salted hash equals the {kind} hash on chain")


def _check_consistency(
    checks: _Checks, document: ConfirmationLetter | ConfirmationReply, letter: Letter
) -> None:
    # The hash proves the document is what its author recorded; these prove the author recorded
    # a document that agrees with the letter's record (a faulty gateway could have done otherwise).
    if isinstance(document, ConfirmationLetter):
        stated = (document.audit_firm.member_no, document.bank.member_no)
        ok = stated == (letter.firm, letter.bank)
        detail = (
            f"firm {stated[0]} to bank {stated[1]}; the chain has firm {letter.firm} to bank {letter.bank}"
        )
    else:
        ok = document.bank_member_no == letter.bank and document.letter_hash == to_hex(letter.letter_hash)
        detail = (
            f"from bank {document.bank_member_no} on letter hash {document.letter_hash}; "
            f"the chain has bank {letter.bank} and letter hash {to_hex(letter.letter_hash)}"
        )
    if not ok:
        checks.fail("consistency", detail, "document_mismatch")
    checks.passed("consistency", detail)


def _recording(
    checks: _Checks,
    confirmations: ConfirmationRegistry,
    members: MemberRegistry,
    kind: DocumentKind,
    letter_id: bytes,
    from_block: int,
) -> Recording:
    name, party = _RECORDING_EVENT[kind]
    event = next((e for e in _letter_events(confirmations, letter_id, from_block) if e.name == name), None)
    if event is None:
        checks.fail("recorded", f"no {name} event from block {from_block} on", "not_recorded")
    member_no = int(event.args[party])
    member = members.get_member(member_no)
    timestamp = int(confirmations.w3.eth.get_block(event.block_number)["timestamp"])
    recording = Recording(
        event=name,
        block_number=event.block_number,
        block_timestamp=timestamp,
        transaction_hash=to_hex(event.transaction_hash),
        member_no=member_no,
        member_role=member.role.name.lower(),
        member_name=member.display_name,
    )
    when = datetime.fromtimestamp(timestamp, UTC).isoformat()
    checks.passed(
        "recorded",
        f"{name} by {recording.member_role} {member.display_name!r} (member {member_no}) "
        f"in block {event.block_number} at {when}",
    )
    return recording


def _letter_events(
    confirmations: ConfirmationRegistry, letter_id: bytes, from_block: int
) -> list[ChainEvent]:
    """The letter's events, filtered by the node on the indexed letter id (the first topic after
    the event's own) instead of reading every event of the contract since ``from_block``."""
    w3 = confirmations.w3
    logs: list[LogReceipt] = []
    for first, last in block_windows(from_block, rpc(lambda: w3.eth.block_number)):
        window: FilterParams = {
            "address": confirmations.address,
            "fromBlock": first,
            "toBlock": last,
            "topics": [None, HexStr(to_hex(letter_id))],
        }
        logs += rpc(partial(w3.eth.get_logs, window))
    events = (confirmations.decode_log(log) for log in logs)
    return [e for e in events if e is not None and e.args.get("letterId") == letter_id]
