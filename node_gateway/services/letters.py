"""What members do with letters: the audit firm's and the bank's operations.

Every operation checks what it can locally (the rules, this gateway's records and the chain as
read now), changes the database and enqueues its chain step in one database transaction, and
wakes the workers. The chain has the last word: a step it refuses ends as a failed outbox entry
with the contract's error.
"""

from __future__ import annotations

import functools
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from hashlib import sha256
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node_gateway.chain.authorisation import (
    LetterLeaf,
    RequestsTree,
    authorisation_typed_data,
    refusal_typed_data,
    verified_signer,
)
from node_gateway.chain.contracts import Authorisation, LetterStatus, MemberStatus, Refusal, Role
from node_gateway.chain.errors import ChainError
from node_gateway.chain.signers import ADDRESS_LENGTH, as_signer, signer_id, signer_text
from node_gateway.errors import Conflict, Forbidden, FormatNotAccepted, InvalidRequest, NotFound
from node_gateway.node import Node
from node_gateway.protocol.documents import (
    ConfirmationLetter,
    ConfirmationNo,
    ConfirmationReply,
    LetterFormat,
    RejectionReason,
    format_confirmation_no,
    normalise_registration_code,
    parse_letter,
    parse_reply,
)
from node_gateway.protocol.errors import InvalidDocument
from node_gateway.protocol.hashing import (
    Salt,
    as_salt,
    auditee_reference,
    from_hex,
    hashed_document,
    new_salt,
    to_hex,
    verify_document_hash,
)
from node_gateway.protocol.lifecycle import AWAITING, TRANSITIONS, Action, only_after
from node_gateway.services.bank_rules import FormatRefusal, format_refusal
from node_gateway.services.notices import correction_problems, keep_follow_up_message, keep_withdrawal_reason
from node_gateway.services.outbox import enqueue_step, enqueue_steps
from node_gateway.storage.db import in_batches
from node_gateway.storage.memo import transaction_memo
from node_gateway.storage.models import (
    LetterNumberRow,
    LetterRow,
    MandateRow,
    OutboxTransaction,
    utcnow,
)
from node_gateway.storage.vault import StoredDocument, Vault

PENDING = "PENDING"  # a letter stored here whose request is not on chain yet
# The firm's review (``firm_review_required``): a letter waits, prepared, for a manager's approval
# (审核) before its request goes on chain; a prepared letter recalled (召回) never goes out.
PREPARED = "PREPARED"
RECALLED = "RECALLED"
# Awaiting the auditee or the bank (the due time runs), by the names the rows hold.
AWAITING_BANK = {status.name for status in AWAITING} | {PENDING}
# Awaiting the auditee's signature: stored here, or requested on chain.
_AWAITING_AUTHORISATION = {PENDING} | {s.name for s in TRANSITIONS[Action.AUTHORISE].allowed_from}
_ACCEPTED = {status.name for status in only_after(LetterStatus.ACCEPTED)}
DEFAULT_REPLY_DAYS = 14
AUTHORISATION_VALIDITY = timedelta(days=180)  # as the mandate practice of the platforms


def _allows(action: Action, status: str) -> bool:
    """Whether the contract takes ``action`` on a letter whose row is in ``status``."""
    return status in {s.name for s in TRANSITIONS[action].allowed_from}


def _now() -> int:
    return int(time.time())


def letter_row(session: Session, letter_id: str, *, for_update: bool = False) -> LetterRow:
    row = session.get(LetterRow, letter_id.lower(), with_for_update=for_update)
    if row is None:
        raise NotFound(f"no letter {letter_id} here")
    if for_update:
        _hold(session, [row])
    return row


def _hold(session: Session, rows: Iterable[LetterRow]) -> None:
    """Keeps locked rows in the session until it ends. It holds what it loaded only weakly, so a
    row its caller kept no reference to would be read again by the transaction's next step on the
    letter (accept, reply, its document); under the lock it cannot have changed meanwhile."""
    transaction_memo(session, "letters.locked", list[LetterRow]).extend(rows)


def letter_rows(
    session: Session, letter_ids: Sequence[str], *, for_update: bool = False
) -> dict[str, LetterRow]:
    """The rows of those of these letters held here, read with one query per IN list; looking
    one up by its id in the session afterwards asks the database nothing. ``for_update`` locks
    them until the transaction ends, in the order of their ids, so that two transactions locking
    letters in batches never each hold a letter the other waits for."""
    ids = sorted({letter_id.lower() for letter_id in letter_ids})
    found: dict[str, LetterRow] = {}
    for batch in in_batches(ids):
        query = select(LetterRow).where(LetterRow.letter_id.in_(batch)).order_by(LetterRow.letter_id)
        found |= {
            row.letter_id: row for row in session.scalars(query.with_for_update() if for_update else query)
        }
    if for_update:
        _hold(session, found.values())
    return found


class _OpenedLetters:
    """The latest letters opened and parsed, by the sealed bytes they were opened from and under
    which letter id (the vault binds a ciphertext to its letter). A bank's gateway parses each
    letter as it arrives, and its round reads it again for the check, the draft and the reply, in
    another transaction: a letter is frozen throughout (tuples, not lists), so one parse can be
    shared; a refusal is not remembered."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._letters: OrderedDict[tuple[Vault, str, bytes], ConfirmationLetter] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Vault, str, bytes]) -> ConfirmationLetter | None:
        with self._lock:
            letter = self._letters.get(key)
            if letter is not None:
                self._letters.move_to_end(key)
            return letter

    def keep(self, key: tuple[Vault, str, bytes], letter: ConfirmationLetter) -> None:
        with self._lock:
            self._letters[key] = letter
            self._letters.move_to_end(key)
            while len(self._letters) > self._size:
                self._letters.popitem(last=False)


_OPENED = _OpenedLetters(256)  # a bank round reads 64 letters; a parse is some 35 KB


def stored_letter(node: Node, row: LetterRow) -> ConfirmationLetter:
    """The letter's document, opened and parsed once for the gateway's latest letters."""
    if row.letter_sealed is None:
        raise NotFound(f"the document of letter {row.letter_id} has not arrived")
    key = (node.vault, row.letter_id, row.letter_sealed)
    letter = _OPENED.get(key)
    if letter is None:
        letter = parse_letter(node.vault.open(row.letter_id, "letter", row.letter_sealed).canonical)
        _OPENED.keep(key, letter)
    return letter


def keep_opened_letter(node: Node, row: LetterRow, letter: ConfirmationLetter) -> None:
    """Remembers the letter just sealed into ``row`` as parsed on its arrival (``stored_letter``)."""
    if row.letter_sealed is not None:
        _OPENED.keep((node.vault, row.letter_id, row.letter_sealed), letter)


def stored_reply(node: Node, row: LetterRow) -> tuple[ConfirmationReply, StoredDocument]:
    if row.reply_sealed is None:
        raise NotFound(f"no reply to letter {row.letter_id} here")
    stored = node.vault.open(row.letter_id, "reply", row.reply_sealed)
    return parse_reply(stored.canonical), stored


# --- the audit firm ----------------------------------------------------------------------------


def letter_number_prefix(node: Node) -> str:
    """The firm's prefix of its 函证编号: as configured, else F and its member number."""
    return node.settings.letter_number_prefix or f"F{node.member_id()}"


def _reserve_numbers(session: Session, year: int, count: int) -> int:
    """The first of ``count`` fresh sequence numbers of ``year``; taken in the caller's transaction,
    so numbers of letters that are not stored are not used up."""
    for _ in range(2):
        last = session.scalar(
            update(LetterNumberRow)
            .where(LetterNumberRow.year == year)
            .values(last=LetterNumberRow.last + count)
            .returning(LetterNumberRow.last)
        )
        if last is not None:
            return int(last) - count + 1
        try:
            with session.begin_nested():  # the year's first letters; another request may be first
                session.add(LetterNumberRow(year=year, last=count))
            return 1
        except IntegrityError:
            continue
    raise Conflict(f"the letter numbers of {year} are being taken by another request; try again")


def _numbered(
    node: Node, session: Session, letters: Sequence[ConfirmationLetter]
) -> list[ConfirmationLetter]:
    """The letters with their 函证编号, in order: the firm's prefix, the year of the letter's date
    and the next sequence numbers of that year."""
    prefix = letter_number_prefix(node)
    by_year: dict[int, list[int]] = {}
    for index, letter in enumerate(letters):
        by_year.setdefault(letter.issued_on.year, []).append(index)
    numbers: dict[int, str] = {}
    for year, indexes in sorted(by_year.items()):
        first = _reserve_numbers(session, year, len(indexes))
        for offset, index in enumerate(indexes):
            numbers[index] = format_confirmation_no(prefix, year, first + offset)
    # Only the number is new: it is checked, and the letter, checked whole when it came in (no
    # rule of a letter looks at its number), is not parsed again around it.
    return [
        letter.model_copy(update={"confirmation_no": _checked_number(numbers[index])})
        for index, letter in enumerate(letters)
    ]


_CONFIRMATION_NO: TypeAdapter[str] = TypeAdapter(ConfirmationNo)


def _checked_number(number: str) -> str:
    try:
        return _CONFIRMATION_NO.validate_python(number)
    except ValidationError as exc:
        raise InvalidDocument(f"the 函证编号 {number} is not one: {exc}") from exc


def create_letters(
    node: Node,
    session: Session,
    drafts: Sequence[tuple[ConfirmationLetter, int | None]],
    *,
    prepared_by: str | None = None,
) -> list[LetterRow]:
    """Stores letters and enqueues their requests: all of them, or none if any is wrong.

    Each draft is the letter and the reply due time (default: two weeks). The auditee's reference
    at the bank is not asked for: the firm finds it when it relays the auditee's authorisation
    (:func:`mandate_references`). The gateway gives each letter its 函证编号 (a draft
    that brings one is refused): the stored, hashed and sent document carries it. Where the firm
    reviews its letters (``firm_review_required``) they stay PREPARED, nothing enqueued, until a
    manager approves them (``services.firm_review``). A letter in a format its bank's published
    rules do not accept is refused (FormatNotAccepted, when that is all that is wrong).
    """
    held = node.settings.firm_review_required
    me = node.member_id()
    problems: list[str] = []
    unaccepted: list[FormatRefusal] = []
    seen: set[str] = set()
    formats: dict[int, list[LetterFormat] | None] = {}  # each bank's rules read once for the batch
    existing = letter_rows(session, [letter.letter_id for letter, _ in drafts])
    for letter, due_at in drafts:
        lid = letter.letter_id
        if lid in seen or lid.lower() in existing:
            problems.append(f"{lid}: a letter with this id exists")
        seen.add(lid)
        if letter.audit_firm.member_no != me:
            problems.append(
                f"{lid}: the letter names member {letter.audit_firm.member_no} as firm, this is {me}"
            )
        if letter.confirmation_no is not None:
            problems.append(f"{lid}: the firm's gateway gives the 函证编号; leave confirmation_no out")
        if due_at is not None and due_at <= _now():
            problems.append(f"{lid}: the due time is in the past")
        try:
            bank = node.member(letter.bank.member_no)
        except ChainError:
            problems.append(f"{lid}: member {letter.bank.member_no} does not exist")
            continue
        if bank.role != Role.BANK or bank.status != MemberStatus.ACTIVE:
            problems.append(f"{lid}: member {letter.bank.member_no} is not an active bank")
        elif (refusal := format_refusal(session, letter, formats)) is not None:
            unaccepted.append(refusal)
        problems += correction_problems(node, session, letter)
    if problems:
        raise InvalidRequest("; ".join(problems + [refusal.message for refusal in unaccepted]))
    if unaccepted:
        raise FormatNotAccepted(
            "; ".join(refusal.message for refusal in unaccepted), [x.details() for x in unaccepted]
        )
    rows = []
    steps: list[tuple[str, str, dict[str, Any], str | None]] = []
    numbered = _numbered(node, session, [letter for letter, _ in drafts])
    # A batch's letters are listed in the order they came in (the lists sort on created_at, then
    # the id): one microsecond apart, where the column's default could give two the same instant.
    created = utcnow()
    for index, (letter, (_, due_at)) in enumerate(zip(numbered, drafts, strict=True)):
        salt = new_salt()
        canonical, letter_hash = hashed_document(letter, salt)
        due = due_at or _now() + DEFAULT_REPLY_DAYS * 86400
        row = LetterRow(
            letter_id=letter.letter_id,
            firm=me,
            bank=letter.bank.member_no,
            letter_hash=to_hex(letter_hash),
            due_at=due,
            status=PREPARED if held else PENDING,
            confirmation_no=letter.confirmation_no,
            prepared_by=prepared_by,
            letter_sealed=node.vault.seal(letter.letter_id, "letter", StoredDocument(canonical, salt)),
            created_at=created + timedelta(microseconds=index),
        )
        session.add(row)
        if not held:
            steps.append(request_step(row))
        rows.append(row)
    enqueue_steps(session, steps)
    session.flush()  # the rows as stored (their defaults), even with no step to look up
    return rows


def request_step(row: LetterRow) -> tuple[str, str, dict[str, Any], str | None]:
    """The outbox entry that records a stored letter's request on chain."""
    payload = {
        "letter_id": row.letter_id,
        "bank": row.bank,
        "letter_hash": row.letter_hash,
        "due_at": row.due_at,
    }
    return (f"request:{row.letter_id}", "request", payload, row.letter_id)


class SignerNotMandated(InvalidRequest):
    """The signer holds no valid mandate of one of the letters' banks (the API's code for it has
    always been ``invalid_request``)."""


class SignerMandateAmbiguous(Conflict):
    """The signer holds valid mandates for several customers at one of the letters' banks, so the
    firm cannot tell which of them the letters are about: a known limitation (a group's CFO
    mandated for two subsidiaries at one bank); the bank must give each customer its own signer."""

    code = "signer_mandate_ambiguous"


def mandate_references(node: Node, signer: str, banks: Sequence[int]) -> dict[int, str]:
    """The auditee reference under which each of ``banks`` mandates ``signer`` now, read from the
    chain: what the firm relays with the signer's authorisation or refusal. The chain checks the
    mandate again, and the bank, on arrival, that the letter's auditee is the customer the
    reference commits to. SignerNotMandated where a bank mandates the signer under none,
    SignerMandateAmbiguous where under several."""
    found = node.network.confirmations.signer_references(
        signer, banks, node.network.deployment_block, now=_now()
    )
    for bank, references in sorted(found.items()):
        if not references:
            raise SignerNotMandated(f"the signer {signer} holds no valid mandate of bank {bank}")
        if len(references) > 1:
            raise SignerMandateAmbiguous(
                f"the signer holds mandates for several customers at bank {bank}; the bank must give "
                "each customer its own signer"
            )
    return {bank: to_hex(references[0]) for bank, references in found.items()}


def _firm_letters(node: Node, session: Session, letter_ids: Sequence[str]) -> list[LetterRow]:
    if not letter_ids:
        raise InvalidRequest("name at least one letter")
    if len(set(letter_ids)) != len(letter_ids):
        raise InvalidRequest("a letter is named twice")
    me = node.member_id()
    found = letter_rows(session, letter_ids)
    rows = []
    for letter_id in letter_ids:
        row = found.get(letter_id.lower())
        if row is None:
            raise NotFound(f"no letter {letter_id} here")
        if row.firm != me:
            raise Forbidden(f"letter {row.letter_id} was not requested by this firm")
        rows.append(row)
    return rows


def requests_tree(rows: Sequence[LetterRow]) -> RequestsTree:
    return RequestsTree([LetterLeaf(from_hex(r.letter_id), from_hex(r.letter_hash), r.bank) for r in rows])


def authorisation_request(
    node: Node,
    session: Session,
    letter_ids: Sequence[str],
    *,
    valid_until: int | None = None,
    refusal_reason: int | None = None,
) -> dict[str, Any]:
    """What the auditee's signer signs for these letters: the EIP-712 document and what it covers."""
    rows = _firm_letters(node, session, letter_ids)
    for row in rows:
        if row.status not in _AWAITING_AUTHORISATION:
            raise Conflict(f"letter {row.letter_id} is {row.status}, not awaiting authorisation")
    tree = requests_tree(rows)
    chain_id = node.sender.chain_id
    registry = node.network.confirmations.address
    until = valid_until or _now() + int(AUTHORISATION_VALIDITY.total_seconds())
    nonce = int.from_bytes(secrets.token_bytes(16), "big")
    if refusal_reason is None:
        auth = Authorisation(tree.root, node.member_id(), until, nonce)
        typed = authorisation_typed_data(auth, chain_id=chain_id, registry=registry)
    else:
        refusal = Refusal(tree.root, node.member_id(), refusal_reason, until, nonce)
        typed = refusal_typed_data(refusal, chain_id=chain_id, registry=registry)
    letters = []
    for r in rows:
        stored = node.vault.open(r.letter_id, "letter", sealed_or_missing(r.letter_sealed, r.letter_id))
        # The documents and salts let the signer's tool recompute every hash and the root, so it
        # shows exactly what the signature covers.
        letters.append(
            {
                "letter_id": r.letter_id,
                "bank": r.bank,
                "letter_hash": r.letter_hash,
                "document": json.loads(stored.canonical),
                "salt": to_hex(stored.salt),
            }
        )
    return {"typed_data": _json_typed_data(typed), "letters": letters}


def sealed_or_missing(value: bytes | None, letter_id: str) -> bytes:
    if value is None:
        raise NotFound(f"this gateway holds no document of letter {letter_id}")
    return value


def _json_typed_data(typed: dict[str, Any]) -> dict[str, Any]:
    message = {k: (to_hex(v) if isinstance(v, bytes) else v) for k, v in typed["message"].items()}
    return {**typed, "message": message}


def _verified_signer(node: Node, typed: dict[str, Any], signature: bytes, signer: str | None) -> str:
    """The signer's text form (node_gateway.chain.signers): an ordinary key's recovered address, or
    the named signer once the registry's own check accepts the signature."""
    try:
        return signer_text(verified_signer(node.network.confirmations, typed, signature, signer))
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc


def submit_authorisation(
    node: Node,
    session: Session,
    letter_ids: Sequence[str],
    auth: Authorisation | Refusal,
    signature: bytes,
    signer: str | None = None,
) -> str:
    """Checks a signed authorisation (or refusal) of these letters and enqueues it; returns the signer.

    ``signer`` (ERC-7913, text form) names a signer that is not an ordinary key: a contract
    account, a passkey, a P-256 or RSA key; without it the signature is an ordinary key's."""
    rows = _firm_letters(node, session, letter_ids)
    tree = requests_tree(rows)
    if auth.requests_root != tree.root:
        raise InvalidRequest("the signed requests root does not cover exactly these letters")
    if auth.firm != node.member_id():
        raise InvalidRequest("the authorisation names another audit firm")
    if auth.valid_until <= _now():
        raise InvalidRequest("the authorisation has expired")
    chain_id, registry = node.sender.chain_id, node.network.confirmations.address
    is_refusal = isinstance(auth, Refusal)
    typed = (
        refusal_typed_data(auth, chain_id=chain_id, registry=registry)
        if isinstance(auth, Refusal)
        else authorisation_typed_data(auth, chain_id=chain_id, registry=registry)
    )
    signer = _verified_signer(node, typed, signature, signer)
    for row in rows:
        if row.status not in _AWAITING_AUTHORISATION:
            raise Conflict(f"letter {row.letter_id} is {row.status}, not awaiting authorisation")
    # One lookup for every bank the letters go to, not one per letter.
    references = mandate_references(node, signer, sorted({row.bank for row in rows}))
    step = "refuse" if is_refusal else "authorise"
    auth_json = {k: (to_hex(v) if isinstance(v, bytes) else v) for k, v in vars(auth).items()}
    steps: list[tuple[str, str, dict[str, Any], str | None]] = []
    for row in rows:
        row.auditee_ref = references[row.bank]
        proof = [to_hex(p) for p in tree.proof(from_hex(row.letter_id))]
        # The proof goes into the letter's evidence: it shows the signature covers this letter.
        row.authorisation = {
            "kind": step,
            "signer": signer,
            "signature": to_hex(signature),
            **auth_json,
            "proof": proof,
        }
        payload = {
            "letter_id": row.letter_id,
            "refusal" if is_refusal else "authorisation": auth_json,
            "auditee_ref": row.auditee_ref,
            "signer": signer,
            "signature": to_hex(signature),
            "proof": proof,
        }
        # Keyed by its nonce too: the same signed document again is a no-op, while another one,
        # after the chain refused the first (a mandate revoked meanwhile), is sent in its turn.
        steps.append((f"{step}:{row.letter_id}:{auth.nonce}", step, payload, row.letter_id))
    enqueue_steps(session, steps)
    return signer


def _firm_letter(node: Node, session: Session, letter_id: str) -> LetterRow:
    return _firm_letters(node, session, [letter_id])[0]


def follow_up(node: Node, session: Session, letter_id: str, message: str | None = None) -> int:
    """Queues a follow-up (催函) of the letter, with the firm's message if any; its ordinal (the
    letter's Nth follow-up). Follow-ups reach the chain in the order asked (the outbox sends in
    order; once one is refused, the letter no longer awaits the bank and no later one passes), so
    the Nth asked, not failed, is the Nth on chain; the indexer checks that before it sends the
    message (``services.notices``)."""
    row = _firm_letter(node, session, letter_id)
    if not _allows(Action.FOLLOW_UP, row.status):
        raise Conflict(f"letter {letter_id} is {row.status}; only a letter awaiting a reply is followed up")
    asked = session.scalar(
        select(func.count()).where(
            OutboxTransaction.letter_id == letter_id,
            OutboxTransaction.step == "follow_up",
            OutboxTransaction.state != "failed",
        )
    )
    ordinal = (asked or 0) + 1
    enqueue_step(
        session,
        key=f"follow_up:{letter_id}:{ordinal}:{time.time_ns()}",
        step="follow_up",
        letter_id=letter_id,
        payload={"letter_id": letter_id, "ordinal": ordinal},
    )
    if message is not None:
        keep_follow_up_message(node, session, letter_id, ordinal, message)
    return ordinal


def withdraw(node: Node, session: Session, letter_id: str, reason_text: str | None = None) -> None:
    """Queues the letter's withdrawal (撤回), with the firm's reason if any (the same again is a
    no-op, another one a conflict)."""
    row = _firm_letter(node, session, letter_id)
    if not _allows(Action.WITHDRAW, row.status):
        raise Conflict(f"letter {letter_id} is {row.status}; only a letter awaiting a reply can be withdrawn")
    enqueue_step(
        session,
        key=f"withdraw:{letter_id}",
        step="withdraw",
        letter_id=letter_id,
        payload={"letter_id": letter_id},
    )
    if reason_text is not None:
        keep_withdrawal_reason(node, session, letter_id, reason_text)


def close(node: Node, session: Session, letter_id: str) -> None:
    close_many(node, session, [letter_id])


def close_many(
    node: Node, session: Session, letter_ids: Sequence[str], *, accepted_by: str | None = None
) -> None:
    """Closes letters whose replies this gateway has verified: all of them, or none if any has none.
    ``accepted_by``: the person who accepts the replies (验收), kept with each letter."""
    steps: list[tuple[str, str, dict[str, Any], str | None]] = []
    for row in _firm_letters(node, session, letter_ids):
        if row.status == LetterStatus.CLOSED.name:
            continue
        if not _allows(Action.CLOSE, row.status) or not row.reply_verified:
            raise Conflict(f"letter {row.letter_id} has no verified reply yet (status {row.status})")
        row.accepted_by = accepted_by
        steps.append((f"close:{row.letter_id}", "close", {"letter_id": row.letter_id}, row.letter_id))
    enqueue_steps(session, steps)


def verified_reply(
    node: Node, session: Session, letter_id: str
) -> tuple[ConfirmationReply, StoredDocument, str]:
    """The reply, checked again against the hash on chain right now; with the reply hash."""
    row = _firm_letter(node, session, letter_id)
    reply, stored = stored_reply(node, row)
    on_chain = node.network.confirmations.get_letter(from_hex(letter_id))
    verify_document_hash(reply, as_salt(stored.salt), on_chain.reply_hash)
    return reply, stored, to_hex(on_chain.reply_hash)


# --- the bank ----------------------------------------------------------------------------------


def customer_salt(node: Node, registration_code: str) -> Salt:
    """The salt of a customer's auditee reference at this bank: derived, so it needs no table,
    and keyed, so nobody without the bank's storage key can derive it."""
    return _customer_reference(node.keys.storage_key, registration_code)[0]


def customer_reference(node: Node, registration_code: str) -> tuple[Salt, str]:
    return _customer_reference(node.keys.storage_key, registration_code)


@functools.lru_cache(maxsize=4096)  # a round asks for each letter's twice (its check, its reply)
def _customer_reference(storage_key: bytes, registration_code: str) -> tuple[Salt, str]:
    code = normalise_registration_code(registration_code)
    salt = Salt(hmac.new(storage_key, f"confirmnet/auditee-salt/v1/{code}".encode(), sha256).digest())
    return salt, to_hex(auditee_reference(registration_code, salt))


def _bank_letter(node: Node, session: Session, letter_id: str) -> LetterRow:
    row = letter_row(session, letter_id)
    if row.bank != node.member_id():
        raise Forbidden(f"letter {letter_id} is not addressed to this bank")
    return row


def accept(node: Node, session: Session, letter_id: str) -> None:
    accept_many(node, session, [letter_id])


def accept_many(node: Node, session: Session, letter_ids: Sequence[str]) -> None:
    """``accept`` of each letter, all or none, with one query for the steps queued (a round's
    accepts); a letter accepted or answered already is left as it is."""
    steps: list[tuple[str, str, dict[str, Any], str | None]] = []
    for letter_id in letter_ids:
        row = _bank_letter(node, session, letter_id)
        if row.letter_sealed is None:
            raise Conflict(f"letter {letter_id} has not been received; it cannot be accepted")
        if row.status in _ACCEPTED:
            continue
        if not _allows(Action.ACCEPT, row.status):
            raise Conflict(f"letter {letter_id} is {row.status}; only an authorised letter is accepted")
        steps.append((f"accept:{letter_id}", "accept", {"letter_id": letter_id}, letter_id))
    enqueue_steps(session, steps)


def reject(node: Node, session: Session, letter_id: str, reason: int) -> None:
    row = _bank_letter(node, session, letter_id)
    if reason not in RejectionReason._value2member_map_:
        raise InvalidRequest(f"unknown rejection reason {reason}")
    if not _allows(Action.REJECT, row.status):
        raise Conflict(f"letter {letter_id} is {row.status}; only an authorised letter is rejected")
    enqueue_step(
        session,
        key=f"reject:{letter_id}",
        step="reject",
        letter_id=letter_id,
        payload={"letter_id": letter_id, "reason": reason},
    )


def submit_reply(node: Node, session: Session, reply: ConfirmationReply) -> LetterRow:
    """Stores the bank's approved reply and enqueues its hash; delivery follows once it is on chain."""
    return submit_replies(node, session, [reply])[0]


def submit_replies(node: Node, session: Session, replies: Sequence[ConfirmationReply]) -> list[LetterRow]:
    """``submit_reply`` of each reply, all or none, with one query for the accepts queued and one
    for the steps (a round's replies)."""
    rows = [_bank_letter(node, session, reply.letter_id) for reply in replies]
    accepting = [row.letter_id for row in rows if _allows(Action.ACCEPT, row.status)]
    accepts = _queued_keys(session, [f"accept:{letter_id}" for letter_id in accepting])
    steps: list[tuple[str, str, dict[str, Any], str | None]] = []
    for reply, row in zip(replies, rows, strict=True):
        if reply.bank_member_no != row.bank:
            raise InvalidRequest(f"the reply names member {reply.bank_member_no} as bank, this is {row.bank}")
        if reply.letter_hash.lower() != row.letter_hash:
            raise InvalidRequest("the reply answers another version of the letter (its letter hash differs)")
        if row.reply_sealed is not None:
            existing, _ = stored_reply(node, row)
            if existing == reply:
                continue
            raise Conflict(f"letter {row.letter_id} already has a different reply")
        if not (_allows(Action.REPLY, row.status) or f"accept:{row.letter_id}" in accepts):
            raise Conflict(f"letter {row.letter_id} is {row.status}; accept it before replying")
        row.auditee_salt = _auditee_salt(node, row)
        salt = new_salt()
        canonical, reply_hash = hashed_document(reply, salt)
        row.reply_sealed = node.vault.seal(row.letter_id, "reply", StoredDocument(canonical, salt))
        payload: dict[str, Any] = {"letter_id": row.letter_id, "reply_hash": to_hex(reply_hash)}
        steps.append((f"reply:{row.letter_id}", "reply", payload, row.letter_id))
    enqueue_steps(session, steps)
    return rows


def _auditee_salt(node: Node, row: LetterRow) -> str:
    """The salt of the reference the letter was authorised under, which the bank sends with its
    reply so that the evidence shows whom the reference names. The letter's auditee must be the
    customer it commits to: a letter about another company is rejected, not answered."""
    salt, reference = customer_reference(node, stored_letter(node, row).auditee.registration_code)
    if reference != row.auditee_ref:
        raise Conflict(
            f"the auditee of letter {row.letter_id} is not the customer whose signer authorised it; "
            "reject it as an unknown customer"
        )
    return to_hex(salt)


def _queued_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Those of the outbox keys queued (in any state)."""
    return {
        key
        for batch in in_batches(sorted(set(keys)))
        for key in session.scalars(select(OutboxTransaction.key).where(OutboxTransaction.key.in_(batch)))
    }


def register_mandate(
    node: Node, session: Session, registration_code: str, signer: str, valid_until: int
) -> str:
    """Lets ``signer`` authorise letters for the customer; returns the customer's auditee reference.

    The signer (ERC-7913, text form) is an account (an ordinary key, or a contract account such as
    the company's multisig) or a key for one of the network's verifiers (a passkey, P-256, RSA)."""
    if valid_until <= _now():
        raise InvalidRequest("a mandate must be valid until a time in the future")
    signer = _mandated_signer(node, signer)
    _, auditee_ref = customer_reference(node, registration_code)
    existing = session.get(MandateRow, (auditee_ref, signer))
    if existing is None:
        session.add(MandateRow(auditee_ref=auditee_ref, signer=signer, valid_until=valid_until))
    else:
        existing.valid_until, existing.revoked = valid_until, False
    enqueue_step(
        session,
        key=f"register_mandate:{auditee_ref}:{to_hex(signer_id(signer))}:{valid_until}",  # a key's text is long
        step="register_mandate",
        payload={
            "bank": node.member_id(),
            "auditee_ref": auditee_ref,
            "signer": signer,
            "valid_until": valid_until,
        },
    )
    return auditee_ref


def _mandated_signer(node: Node, signer: str) -> str:
    """A mandate's signer in its text form; a key only for a verifier the network deploys (a key
    for any other address could never verify: the contract refuses one without code)."""
    try:
        raw = as_signer(signer)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    verifiers = node.network.verifiers
    if len(raw) > ADDRESS_LENGTH and (verifiers is None or verifiers.kind_of(raw) is None):
        raise InvalidRequest(
            f"the signer's verifier {signer_text(raw[:ADDRESS_LENGTH])} is none of this network's"
        )
    return signer_text(raw)


def revoke_mandate(node: Node, session: Session, registration_code: str, signer: str) -> str:
    signer = _mandated_signer(node, signer)
    _, auditee_ref = customer_reference(node, registration_code)
    existing = session.get(MandateRow, (auditee_ref, signer))
    if existing is None:
        raise NotFound(f"no mandate of {signer} for this customer")
    existing.revoked = True
    enqueue_step(
        session,
        key=f"revoke_mandate:{auditee_ref}:{to_hex(signer_id(signer))}:{time.time_ns()}",
        step="revoke_mandate",
        payload={"bank": node.member_id(), "auditee_ref": auditee_ref, "signer": signer},
    )
    return auditee_ref
