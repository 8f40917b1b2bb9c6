"""Banks' business rules on the network: a bank publishes them, audit firms fetch and keep them.

A bank's admin sets the rules (the bank adapter's ``PUT /v1/bank/rules``); its gateway signs them
with the member key and serves them at ``GET /peer/v1/rules`` (public: they name no letter). An
audit firm's gateway fetches them from the endpoint the bank registered on chain, checks that the
bank's current account signed them and that they are the bank's own (its member number), and
keeps the last good copy: the composer shows them without waiting on the bank, and a bank that
does not answer leaves the last rules it published in place.

The firm's gateway also holds its letters to the kept rules: a letter in a format its bank's
rules do not list is refused when it is created (``format_not_accepted``); a bank whose rules this
gateway does not hold (it published none, or none checked yet) receives letters in any format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import httpx
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from node_gateway.chain.contracts import MemberStatus, Role
from node_gateway.chain.errors import ChainError, MemberRegistryUnknownMember
from node_gateway.errors import EndpointRefused, InvalidRequest, NotFound, Unavailable
from node_gateway.node import Node
from node_gateway.peer.endpoints import check_endpoint
from node_gateway.protocol.bank_rules import (
    BankRules,
    SignedBankRules,
    format_not_accepted,
    rules_signer,
    sign_rules,
)
from node_gateway.protocol.documents import ConfirmationLetter, LetterFormat
from node_gateway.protocol.errors import InvalidDocument
from node_gateway.storage.models import BankRulesRow, utcnow

PEER_RULES_PATH: Final = "/peer/v1/rules"
REFRESH_AFTER: Final = timedelta(hours=1)  # a kept copy older than this is fetched again
MAX_RULES_BYTES: Final = 64 * 1024  # far more than any rules take; a member cannot flood the firm


def publish_rules(node: Node, session: Session, rules: BankRules) -> SignedBankRules:
    """The bank's own rules, signed and kept for its peer endpoint to serve."""
    if rules.bank_member_no != node.member_id():
        raise InvalidRequest(f"the rules name member {rules.bank_member_no}; this bank is {node.member_id()}")
    signed = sign_rules(rules, node.keys.chain_account)
    keep_rules(session, rules.bank_member_no, signed)
    return signed


def kept_rules(session: Session, bank: int) -> SignedBankRules | None:
    row = session.get(BankRulesRow, bank)
    return None if row is None else SignedBankRules.model_validate(row.signed)


def all_kept_rules(session: Session) -> dict[int, BankRules]:
    """Every bank's rules kept here, by member number."""
    rows = session.scalars(select(BankRulesRow).order_by(BankRulesRow.bank))
    return {row.bank: SignedBankRules.model_validate(row.signed).rules for row in rows}


@dataclass(frozen=True)
class FormatRefusal:
    """A letter in a format its bank's published rules do not list."""

    letter_id: str
    bank: int
    format: LetterFormat
    accepted: tuple[LetterFormat, ...]

    @property
    def message(self) -> str:
        return f"{self.letter_id}: {format_not_accepted(self.bank, self.accepted, self.format)}"

    def details(self) -> dict[str, Any]:
        return {
            "letter_id": self.letter_id,
            "bank": self.bank,
            "format": self.format.value,
            "accepted": [f.value for f in self.accepted],
        }


def accepted_formats(session: Session, bank: int) -> list[LetterFormat] | None:
    """The formats bank ``bank``'s rules kept here accept; None if none are kept."""
    signed = kept_rules(session, bank)
    return None if signed is None else signed.rules.formats


def format_refusal(
    session: Session, letter: ConfirmationLetter, read: dict[int, list[LetterFormat] | None] | None = None
) -> FormatRefusal | None:
    """Whether ``letter``'s bank does not take its format: None if the bank's rules kept here
    list the format, or if none are kept (a bank that published no rules takes every format).
    ``read``: each bank's formats as already read, filled as read (a batch reads a bank's once)."""
    read = {} if read is None else read
    if (bank := letter.bank.member_no) not in read:
        read[bank] = accepted_formats(session, bank)
    accepted = read[bank]
    if accepted is None or letter.format in accepted:
        return None
    return FormatRefusal(letter.letter_id, letter.bank.member_no, letter.format, tuple(accepted))


def keep_rules(session: Session, bank: int, signed: SignedBankRules) -> None:
    document = signed.model_dump(mode="json", by_alias=True)
    row = session.get(BankRulesRow, bank)
    if row is None:
        session.add(BankRulesRow(bank=bank, signed=document))
    else:
        row.signed, row.fetched_at = document, utcnow()


def check_rules(node: Node, bank: int, signed: SignedBankRules) -> None:
    """Raises InvalidDocument unless the rules are bank ``bank``'s, signed by its current account."""
    member = node.member(bank, fresh=True)
    if member.role != Role.BANK or member.status != MemberStatus.ACTIVE:
        raise InvalidDocument(f"member {bank} is not an active bank")
    if signed.rules.bank_member_no != bank:
        raise InvalidDocument(f"the rules served by member {bank} name member {signed.rules.bank_member_no}")
    if rules_signer(signed) != member.account:
        raise InvalidDocument(f"the rules served by member {bank} are not signed by its account")


def fetch_rules(node: Node, session: Session, bank: int, client: httpx.Client | None = None) -> BankRules:
    """Bank ``bank``'s rules: the kept copy while fresh, else fetched from the bank and checked.
    Unavailable if the bank has published none this gateway can check and none is kept."""
    row = session.get(BankRulesRow, bank)
    if row is not None and utcnow() - row.fetched_at < REFRESH_AFTER:
        return SignedBankRules.model_validate(row.signed).rules
    try:
        signed = _download(node, bank, client)
    except Unavailable:
        if row is not None:
            return SignedBankRules.model_validate(row.signed).rules
        raise
    keep_rules(session, bank, signed)
    return signed.rules


def _download(node: Node, bank: int, client: httpx.Client | None) -> SignedBankRules:
    try:
        try:
            member = node.member(bank, fresh=True)  # the endpoint the bank registers now
        except MemberRegistryUnknownMember as exc:
            raise NotFound(f"there is no member {bank}") from exc
        if member.role != Role.BANK or member.status != MemberStatus.ACTIVE:
            raise NotFound(f"member {bank} is not an active bank")
        endpoint = member.endpoint.rstrip("/")
        check_endpoint(endpoint, node.network_file.peer_endpoints)
        http = client or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        try:
            status, body = _read_capped(http, endpoint + PEER_RULES_PATH)
        finally:
            if client is None:
                http.close()
    except (httpx.HTTPError, ChainError, EndpointRefused) as exc:
        raise Unavailable(f"bank {bank} does not answer for its rules: {exc}") from exc
    if status == 404:
        raise NotFound(f"bank {bank} has published no business rules")
    if not 200 <= status < 300 or body is None:
        raise Unavailable(
            f"bank {bank} answered {status} for its rules, or more than {MAX_RULES_BYTES} bytes"
        )
    try:
        signed = SignedBankRules.model_validate_json(body)
        check_rules(node, bank, signed)
    except (ValidationError, InvalidDocument) as exc:
        raise Unavailable(f"bank {bank}'s rules do not check: {exc}") from exc
    return signed


def _read_capped(http: httpx.Client, url: str) -> tuple[int, bytes | None]:
    """The status and body of a GET; no body past ``MAX_RULES_BYTES`` (read no further)."""
    with http.stream("GET", url) as response:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_RULES_BYTES:
                return response.status_code, None
        return response.status_code, bytes(body)


def refresh_all(node: Node) -> int:
    """Fetches the rules of every active bank whose kept copy is missing or old (the audit firm's
    housekeeping); how many banks' rules are kept. A bank that does not answer keeps its copy."""
    kept = 0
    members = node.network.members
    for member_id in range(1, members.member_count() + 1):
        try:
            member = node.member(member_id)
            if member.role != Role.BANK or member.status != MemberStatus.ACTIVE:
                continue
            with node.db.session() as session:
                fetch_rules(node, session, member_id)
            kept += 1
        except (Unavailable, NotFound, ChainError):
            continue
    return kept
