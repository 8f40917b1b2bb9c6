"""A round of the bank worker asks the core for its letters' customers and snapshots together:
each letter is drafted from its own customer's records as of its own reference date, a customer
the core does not know gets the no-relationship draft, and the number of questions to the core
follows the reference dates, not the letters.

A bank gateway on the in-process chain with a reference core bank (SQLite) holds letters its
officers accepted (the check records that and the round drafts at once); the drafts wait for a
reviewer (manual policy), so nothing goes to the chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gateway.conftest import gateway_node
from sqlalchemy import event
from sqlalchemy.engine import Connection

from bank.conftest import store_received
from bank_adapter.approval import current_draft, open_content
from bank_adapter.core_rows import CustomerRow, rows_of
from bank_adapter.core_sql import CoreBank
from bank_adapter.drafting import draft_reply
from bank_adapter.generator import generate
from bank_adapter.workflow import BankWorkflow, core_for, no_relationship_draft
from node_gateway.chain.contracts import LetterStatus
from node_gateway.node import Node
from node_gateway.protocol.documents import Auditee, AuditFirm, Bank, ConfirmationLetter, uscc
from node_gateway.protocol.samples import sample_letter

if TYPE_CHECKING:
    from conftest import Chain, Deployment

YEAR_END, HALF_YEAR = date(2024, 12, 31), date(2024, 6, 30)
STRANGER = Auditee(name="陌生贸易有限公司", registration_code=uscc("91440300MA5FXXXX0"))


@pytest.fixture(scope="module")
def deployed(in_process: Chain) -> Deployment:
    return in_process.deploy()


@pytest.fixture
def bank(deployed: Deployment, tmp_path: Path) -> Iterator[tuple[Node, list[Auditee]]]:
    """A bank gateway with a core bank of 12 customers (their auditee names and codes)."""
    core_url = f"sqlite:///{tmp_path / 'core.db'}"
    dataset = generate(customers=12, seed=5, reference_date=YEAR_END)
    core = CoreBank(core_url)
    core.load(dataset)
    core.dispose()
    node = gateway_node(deployed, deployed.bank, tmp_path, core_banking_url=core_url)
    yield (
        node,
        [Auditee(name=c.name, registration_code=c.registration_code) for c in rows_of(dataset, CustomerRow)],
    )
    node.db.dispose()


def _receive(node: Node, deployed: Deployment, auditee: Auditee, reference_date: date) -> ConfirmationLetter:
    """Stores a letter about ``auditee`` as its bank's officers accepted it."""
    letter = sample_letter(
        audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
        auditee=auditee,
        reference_date=reference_date,
    )
    store_received(node, letter, LetterStatus.ACCEPTED)
    return letter


def _round(node: Node) -> int:
    """Runs one round of the worker; how many statements the core bank was sent."""
    engine = core_for(node.settings.core_banking_url).engine  # type: ignore[union-attr]
    sent: list[str] = []

    def count(connection: Connection, cursor: object, statement: str, *args: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        BankWorkflow.for_node(node).run_once()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def test_each_letter_is_drafted_as_of_its_own_date_with_a_question_per_date(
    bank: tuple[Node, list[Auditee]], deployed: Deployment
) -> None:
    node, customers = bank
    dates = (YEAR_END, HALF_YEAR)
    first = [_receive(node, deployed, c, dates[i % 2]) for i, c in enumerate(customers[:2])]
    first.append(_receive(node, deployed, STRANGER, YEAR_END))
    asked_for_three = _round(node)
    # Five times the letters, the same two dates: the core is asked as often.
    rest = [_receive(node, deployed, c, dates[i % 2]) for i, c in enumerate(customers[2:])]
    rest.append(_receive(node, deployed, customers[0], HALF_YEAR))  # a customer at a second date
    assert _round(node) == asked_for_three

    core = CoreBank(node.settings.core_banking_url or "")
    try:
        with node.db.session() as session:
            for letter in first + rest:
                draft = current_draft(session, letter.letter_id)
                assert draft is not None, letter.letter_id
                code = letter.auditee.registration_code
                expected = (
                    no_relationship_draft(letter)
                    if core.customer(code) is None
                    else draft_reply(letter, core.snapshot(code, letter.reference_date))
                )
                assert open_content(node.vault, draft) == expected, letter.letter_id
        # The dates matter: some customer's records differ between them.
        codes = [c.registration_code for c in customers]
        year_end, half_year = core.snapshots(codes, YEAR_END), core.snapshots(codes, HALF_YEAR)
        assert any(replace(year_end[code], as_of=HALF_YEAR) != half_year[code] for code in codes)
    finally:
        core.dispose()
