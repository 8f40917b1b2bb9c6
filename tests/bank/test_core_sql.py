"""The reference core bank on SQLite and PostgreSQL: what a snapshot holds at a reference date,
exact amounts, balance history, replacing rows by key, and the generator's demo data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from bank_adapter.core_rows import AccountRow, BalanceRow, CustomerRow, LoanRow, rows_of
from bank_adapter.core_sql import TABLES, CoreBank
from bank_adapter.generator import dataset_from_letter, generate
from bank_adapter.port import CoreBankingPort, UnknownCustomer
from node_gateway.protocol.documents import (
    AccountType,
    ConfirmationLetter,
    DepositType,
    Period,
    normalise_registration_code,
    uscc,
)
from node_gateway.storage import db

CODE = uscc("91310115MA1H7Q3K9")
AS_OF = date(2024, 12, 31)


def _account(number: str, currency: str = "CNY", **values: object) -> AccountRow:
    return AccountRow.model_validate(
        {
            "account_no": number,
            "currency": currency,
            "customer_code": CODE,
            "account_name": "测试公司",
            "account_type": AccountType.BASIC,
            "deposit_type": DepositType.DEMAND,
            "opened_on": date(2020, 1, 1),
            **values,
        }
    )


def _balance(number: str, day: date, amount: str, currency: str = "CNY") -> BalanceRow:
    return BalanceRow(account_no=number, currency=currency, as_of=day, balance=Decimal(amount))


def test_the_core_is_a_port(core: CoreBank) -> None:
    port: CoreBankingPort = core
    assert port.customer(CODE) is None


def test_a_snapshot_takes_each_balance_as_of_its_date(core: CoreBank) -> None:
    core.load(
        {
            "customers": [CustomerRow(registration_code=CODE, name="测试公司")],
            "accounts": [
                _account("A1"),
                _account("A1", "USD"),  # the same account number in a second currency
                _account("A2"),  # no balance ever booked: zero
                _account("A3", closed_on=date(2024, 8, 20)),
                _account("A4", closed_on=date(2021, 3, 1)),
                _account("A5", opened_on=date(2025, 1, 2)),  # opened after the date
            ],
            "balances": [
                _balance("A1", date(2024, 11, 30), "100.00"),
                _balance("A1", date(2024, 12, 31), "123456789012345678.99"),  # beyond a float's precision
                _balance("A1", date(2025, 1, 31), "5.00"),
                _balance("A1", date(2024, 6, 30), "-12.50", "USD"),
            ],
        }
    )
    snapshot = core.snapshot(CODE, AS_OF)
    balances = {(d.account_no, d.currency): d.balance for d in snapshot.deposits}
    assert balances == {
        ("A1", "CNY"): Decimal("123456789012345678.99"),
        ("A1", "USD"): Decimal("-12.50"),
        ("A2", "CNY"): Decimal("0.00"),
    }
    assert [(c.account_no, c.closed_on) for c in snapshot.closed_accounts] == [
        ("A3", date(2024, 8, 20)),
        ("A4", date(2021, 3, 1)),
    ]
    assert [c.account_no for c in snapshot.closed_in_period(Period(start=date(2024, 1, 1), end=AS_OF))] == [
        "A3"
    ]
    # The auditor's period, not a year assumed: one that ends before the closing leaves it out.
    assert snapshot.closed_in_period(Period(start=date(2024, 1, 1), end=date(2024, 8, 19))) == ()
    assert [c.account_no for c in snapshot.closed_in_period(Period(start=date(2021, 1, 1), end=AS_OF))] == [
        "A3",
        "A4",
    ]
    earlier = core.snapshot(CODE, date(2024, 11, 30))
    assert {(d.account_no, d.currency): d.balance for d in earlier.deposits}[("A1", "CNY")] == Decimal(
        "100.00"
    )


def test_loans_are_outstanding_between_start_and_repayment(core: CoreBank) -> None:
    loan = LoanRow(
        account_no="L1",
        customer_code=CODE,
        currency="CNY",
        start_date=date(2024, 6, 28),
        maturity_date=date(2025, 6, 27),
        interest_rate=Decimal("3.45"),
        settled_on=date(2025, 3, 1),
    )
    core.load(
        {
            "customers": [CustomerRow(registration_code=CODE, name="测试公司")],
            "loans": [loan],
            "balances": [
                _balance("L1", date(2024, 6, 28), "30000000.00"),
                BalanceRow(
                    account_no="L1",
                    currency="CNY",
                    as_of=date(2024, 12, 20),
                    balance=Decimal("25000000.00"),
                    accrued_interest=Decimal("26354.17"),
                ),
            ],
        }
    )
    (outstanding,) = core.snapshot(CODE, AS_OF).loans
    # 本息: the principal and the interest accrued since the last settlement, apart; the customer borrows.
    assert (outstanding.principal, outstanding.accrued_interest) == (
        Decimal("25000000.00"),
        Decimal("26354.17"),
    )
    assert outstanding.borrower_name == "测试公司"
    assert core.snapshot(CODE, date(2024, 6, 27)).loans == ()
    assert core.snapshot(CODE, date(2025, 3, 1)).loans == ()


def test_the_sample_letter_comes_back_from_the_core(core: CoreBank, letter: ConfirmationLetter) -> None:
    core.load(dataset_from_letter(letter))
    snapshot = core.snapshot(letter.auditee.registration_code, letter.reference_date)
    for key, item in letter.items.by_key():
        if key.value in ("other", "closed_accounts"):
            continue
        assert sorted(map(repr, getattr(snapshot, key.value))) == sorted(map(repr, item.entries)), key
    assert snapshot.closed_accounts == letter.items.closed_accounts.entries


def test_a_row_with_a_known_key_replaces_it(core: CoreBank) -> None:
    customer = CustomerRow(registration_code=CODE, name="旧名称有限公司")
    core.load({"customers": [customer]})
    core.load({"customers": [customer.model_copy(update={"name": "新名称有限公司"})]})
    record = core.customer(CODE.lower())  # any spelling of the code finds it
    assert record is not None
    assert record.name == "新名称有限公司"
    assert core.existing(CustomerRow, [(CODE,), ("NOSUCHCODE1",)]).keys() == {(CODE,)}


def test_an_unknown_customer(core: CoreBank) -> None:
    assert core.customer(CODE) is None
    with pytest.raises(UnknownCustomer):
        core.snapshot(CODE, AS_OF)


def test_generated_data_loads_and_answers(core: CoreBank) -> None:
    dataset = generate(customers=30, seed=3, reference_date=AS_OF)
    counts = core.load(dataset)
    assert counts["customers"] == 30
    with core.engine.connect() as connection:
        stored = connection.execute(TABLES[AccountRow].select()).all()
    assert len(stored) == counts["accounts"]
    snapshots = [core.snapshot(c.registration_code, AS_OF) for c in rows_of(dataset, CustomerRow)]
    assert all(s.deposits for s in snapshots)  # every customer has its basic account
    assert sum(len(s.loans) for s in snapshots) > 0


def test_the_generator_repeats_itself_for_a_seed() -> None:
    first = generate(customers=40, seed=11, reference_date=AS_OF)
    assert first == generate(customers=40, seed=11, reference_date=AS_OF)
    assert first != generate(customers=40, seed=12, reference_date=AS_OF)


def test_generated_data_is_realistic() -> None:
    dataset = generate(customers=120, seed=5, reference_date=AS_OF)
    codes = [c.registration_code for c in rows_of(dataset, CustomerRow)]
    assert len(set(codes)) == 120
    assert all(uscc(code[:17]) == code == normalise_registration_code(code) for code in codes)
    accounts = rows_of(dataset, AccountRow)
    assert {a.currency for a in accounts} >= {"CNY", "USD", "EUR"}
    assert any(a.closed_on is not None and a.closed_on >= AS_OF - timedelta(days=365) for a in accounts)
    assert any(a.closed_on is not None and a.closed_on < AS_OF - timedelta(days=365) for a in accounts)
    assert any(a.restricted for a in accounts)
    balances = rows_of(dataset, BalanceRow)
    assert any(b.balance == 0 for b in balances)
    for table in (
        "loans",
        "guarantees",
        "bills",
        "letters_of_credit",
        "fx_contracts",
        "wealth_products",
        "cash_pooling",
        "custody",
    ):
        assert dataset.get(table), table


def test_the_snapshots_of_many_customers_are_each_ones_own(
    core: CoreBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round's customers in one set of queries (here in IN lists of 7, so batches split) give
    each customer exactly the snapshot it gets asked for alone, at each date."""
    dataset = generate(customers=20, seed=7, reference_date=AS_OF)
    core.load(dataset)
    codes = [c.registration_code for c in rows_of(dataset, CustomerRow)]
    monkeypatch.setattr(db, "IN_LIST_LIMIT", 7)
    for as_of in (AS_OF, date(2024, 6, 30)):
        together = core.snapshots(codes, as_of)
        assert together == {code: core.snapshots([code], as_of)[code] for code in codes}
        assert all(snapshot.as_of == as_of for snapshot in together.values())
    assert sum(len(s.loans) + len(s.guarantees) for s in together.values()) > 0  # not only deposits
    assert core.snapshots(codes, AS_OF) != core.snapshots(codes, date(2024, 6, 30))


def test_a_batch_leaves_out_unknown_customers_and_keeps_the_spelling_asked(core: CoreBank) -> None:
    core.load(
        {"customers": [CustomerRow(registration_code=CODE, name="测试公司")], "accounts": [_account("A1")]}
    )
    unknown = uscc("91310115MA1H7Q3K0")
    asked = [CODE.lower(), unknown]
    assert core.customers(asked) == {CODE.lower(): core.customer(CODE)}
    (snapshot,) = core.snapshots(asked, AS_OF).values()
    assert core.snapshots(asked, AS_OF).keys() == {CODE.lower()}
    assert snapshot == core.snapshot(CODE, AS_OF)
    assert [d.account_no for d in snapshot.deposits] == ["A1"]
    assert core.snapshots([], AS_OF) == {}
    assert core.customers([unknown]) == {}


def test_a_snapshot_reads_the_dated_rows_of_its_own_accounts_only(core: CoreBank) -> None:
    """The latest balance and cash-pooling rows on or before the date are looked for among the
    asked customers' accounts and links (by key), never by grouping the whole table's history,
    which grows with every customer and every day the core keeps."""
    dataset = generate(customers=20, seed=7, reference_date=AS_OF)
    core.load(dataset)
    code = rows_of(dataset, CustomerRow)[0].registration_code
    statements: list[tuple[str, Any]] = []

    def seen(conn: object, cursor: object, statement: str, parameters: Any, *_: object) -> None:
        statements.append((statement, parameters))

    event.listen(core.engine, "before_cursor_execute", seen)
    try:
        snapshot = core.snapshot(code, AS_OF)
    finally:
        event.remove(core.engine, "before_cursor_execute", seen)
    assert snapshot.deposits
    dated = [(s, p) for s, p in statements if "max(" in s]
    assert {"core_balances", "core_cash_pooling"} <= {
        t for s, _ in dated for t in ("core_balances", "core_cash_pooling") if t in s
    }
    if core.engine.dialect.name != "sqlite":
        return
    with core.engine.connect() as connection:
        for statement, parameters in dated:
            plan = [
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            assert not [step for step in plan if step.startswith("SCAN core_")], plan
