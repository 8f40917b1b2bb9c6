"""Mandates: which signer keys may authorise letters for which customer, registered on chain.

A bank imports its customers' mandates from a CSV or Excel file with the columns
``registration_code``, ``signer`` (ERC-7913 in hex: an account's address, or a verifier's and a
key, node_gateway.chain.signers) and ``valid_until`` (a date, meaning the
end of that day in China, a date and time, or unix seconds). Every row is checked first; the
gateway then registers them all in one transaction through its letters facade
(``Letters.register_mandate``), which enqueues each ``registerMandate`` on chain, or none if any
is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from sqlalchemy.orm import Session

from bank_adapter.importer import ImportRejected, parse_rows, read_tables
from node_gateway.chain.signers import as_signer, signer_text
from node_gateway.errors import InvalidRequest
from node_gateway.node import Node
from node_gateway.protocol.documents import CHINA_TIME, RegistrationCode
from node_gateway.services.facade import Letters


def _signer(value: str) -> str:
    """The signer's text form (ERC-7913): an account's checksummed address, or a key's hex."""
    return signer_text(as_signer(value))


def _unix(value: object) -> object:
    """A date is valid to the end of that day in China; a naive date and time is China's time."""
    if isinstance(value, str) and not value.strip().isdigit():
        try:
            value = (
                datetime.fromisoformat(value.strip())
                if "T" in value or ":" in value
                else date.fromisoformat(value.strip())
            )
        except ValueError:
            return value  # pydantic reports it
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=CHINA_TIME)
        return int(moment.timestamp())
    if isinstance(value, date):
        end_of_day = datetime.combine(value + timedelta(days=1), time(), CHINA_TIME)
        return int(end_of_day.timestamp()) - 1
    return value


class MandateRecord(BaseModel):
    """One mandate: the customer, the signer, and until when the signer may authorise."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    registration_code: RegistrationCode
    signer: Annotated[str, AfterValidator(_signer)]
    valid_until: Annotated[int, BeforeValidator(_unix)]


def read_mandates(paths: Sequence[Path]) -> list[MandateRecord]:
    """The mandates in the files, or ``ImportRejected`` with every bad row's line and reason."""
    tables, problems = read_tables(paths, table="mandates")
    records: list[MandateRecord] = []
    for table in tables:
        good, bad = parse_rows(table, MandateRecord)
        records += [record for _, record in good]
        problems += bad
    if problems:
        raise ImportRejected(problems)
    return records


def register_mandates(node: Node, session: Session, records: Sequence[MandateRecord]) -> list[str]:
    """Registers every mandate in the caller's transaction; the auditee references, in order.

    Raises ``InvalidRequest`` naming every refused record; the caller's transaction then rolls
    back, so no mandate of the batch is registered.
    """
    desk = Letters(node)
    problems: list[str] = []
    references: list[str] = []
    for index, record in enumerate(records):
        try:
            references.append(
                desk.register_mandate(session, record.registration_code, record.signer, record.valid_until)
            )
        except InvalidRequest as exc:
            problems.append(f"mandates[{index}]: {exc}")
    if problems:
        raise InvalidRequest("; ".join(problems))
    return references
