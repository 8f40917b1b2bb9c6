"""The reference core bank: customers, accounts, balances and the other relations, on SQL.

It stands in for a bank's core-banking system: its own database (SQLite by default, PostgreSQL by
URL), its own schema, created here and never part of the gateway's migrations. Each table is
derived from its row model in ``core_rows``, so the import format, the generator and the schema
cannot drift apart. Amounts are stored exactly: ``NUMERIC`` on PostgreSQL, canonical decimal text
on SQLite, whose numeric columns are binary floats.

What counts at a reference date (the end of that day):
- an account opened on or before it and not closed by then is a deposit, with the latest balance
  on or before the date (zero without one); an account closed on or before it is a closed account;
- a loan that started on or before it and was not repaid by then, with its latest balance (the
  principal, and for a loan of item 2 the accrued interest and the customer as its borrower);
- a guarantee or letter of credit in force on that day (validity dates inclusive, not released
  or closed by then); a bill booked on or before it and not yet due or settled; an FX contract
  traded on or before it and settling after it; custody and wealth holdings held at that date;
- each cash-pooling link with its latest balance on or before the date;
- each credit to a capital account (验资) booked on or before the date.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Engine,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, RowMapping
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import Join, Select
from sqlalchemy.types import TypeDecorator, TypeEngine

from bank_adapter.core_rows import (
    ROW_TYPES,
    AccountRow,
    BalanceRow,
    BillKind,
    BillRow,
    CapitalCreditRow,
    CashPoolRow,
    CoreDataset,
    CoreRow,
    CustodyRow,
    CustomerRow,
    FxContractRow,
    GuaranteeRow,
    LetterOfCreditRow,
    LoanRow,
    WealthHoldingRow,
)
from bank_adapter.port import CoreBankingError, CoreSnapshot, CustomerRecord, UnknownCustomer
from node_gateway.protocol.documents import (
    BankAcceptance,
    BillForCollection,
    DiscountedBill,
    EntrustedLoanGiven,
    EntrustedLoanTaken,
    Loan,
    normalise_registration_code,
)
from node_gateway.storage.db import in_batches, make_engine

TABLE_PREFIX = "core_"


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal that reads back exactly as written, on every backend."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def _column_type(annotation: Any) -> tuple[TypeEngine[Any], bool]:
    """The SQL type of a row field and whether it may be NULL."""
    nullable = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(options) < len(typing.get_args(annotation))
        (annotation,) = options
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if annotation is date:
        return Date(), nullable
    if annotation is bool:
        return Boolean(), nullable
    if annotation is Decimal:
        return ExactDecimal(), nullable
    if annotation is str or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return Text(), nullable
    raise TypeError(f"no column type for {annotation!r}")


def _table(metadata: MetaData, row_type: type[CoreRow]) -> Table:
    columns: list[Column[Any]] = []
    for name, field in row_type.model_fields.items():
        sql_type, nullable = _column_type(field.annotation)
        columns.append(Column(name, sql_type, primary_key=name in row_type.key, nullable=nullable))
    table = Table(TABLE_PREFIX + row_type.table, metadata, *columns)
    if "customer_code" in row_type.model_fields and "customer_code" not in row_type.key:
        Index(f"ix_{table.name}_customer", table.c.customer_code)
    return table


metadata = MetaData()
TABLES: dict[type[CoreRow], Table] = {row_type: _table(metadata, row_type) for row_type in ROW_TYPES}

RowT = TypeVar("RowT", bound=CoreRow)


# The snapshot's queries are built once, with the customers (``codes``), the accounts
# (``numbers``) and the reference date (``as_of``) as parameters: building a statement and its
# cache key cost more than running it, at a dozen queries a round.
_AS_OF: BindParameter[date] = bindparam("as_of")


def _among(name: str) -> BindParameter[Any]:
    return bindparam(name, expanding=True)


def _active(started: ColumnElement[Any], ended: ColumnElement[Any]) -> ColumnElement[bool]:
    """Begun on or before ``as_of`` and not ended by its end."""
    return and_(started <= _AS_OF, or_(ended.is_(None), ended > _AS_OF))


def _in_force(table: Table, start: str, expiry: str, ended: str) -> ColumnElement[bool]:
    """Valid on ``as_of`` (both validity dates count) and not released or closed by its end."""
    return and_(_active(table.c[start], table.c[ended]), table.c[expiry] >= _AS_OF)


def _query(row_type: type[CoreRow], *where: ColumnElement[bool]) -> Select[Any]:
    """The rows of ``row_type`` that ``where`` selects, in key order."""
    table = TABLES[row_type]
    return select(table).where(*where).order_by(*(table.c[name] for name in row_type.key))


# What counts of a customer's rows of each kind at ``as_of`` (the module's docstring).
_HELD_AT: dict[type[CoreRow], Callable[[Table], tuple[ColumnElement[bool], ...]]] = {
    AccountRow: lambda t: (t.c.opened_on <= _AS_OF,),
    LoanRow: lambda t: (_active(t.c.start_date, t.c.settled_on),),
    GuaranteeRow: lambda t: (_in_force(t, "start_date", "end_date", "released_on"),),
    BillRow: lambda t: (t.c.due_on > _AS_OF, or_(t.c.settled_on.is_(None), t.c.settled_on > _AS_OF)),
    LetterOfCreditRow: lambda t: (_in_force(t, "issued_on", "expires_on", "closed_on"),),
    FxContractRow: lambda t: (t.c.trade_date <= _AS_OF, t.c.settlement_date > _AS_OF),
    CustodyRow: lambda t: (_active(t.c.deposited_on, t.c.withdrawn_on),),
    WealthHoldingRow: lambda t: (_active(t.c.purchased_on, t.c.redeemed_on),),
    CapitalCreditRow: lambda t: (t.c.paid_on <= _AS_OF,),
}


@functools.cache
def _known_customers_query() -> Select[Any]:
    """The customers among ``codes``."""
    return _query(CustomerRow, TABLES[CustomerRow].c.registration_code.in_(_among("codes")))


@functools.cache
def _customers_query(row_type: type[CoreRow]) -> Select[Any]:
    """The rows of ``row_type`` of the customers ``codes`` that count at ``as_of``."""
    table = TABLES[row_type]
    return _query(row_type, table.c.customer_code.in_(_among("codes")), *_HELD_AT[row_type](table))


def _latest(table: Table, keys: Sequence[str], among: ColumnElement[bool]) -> Join:
    """For each distinct ``keys`` of the rows ``among`` selects, the latest row of a dated table
    on or before ``as_of``. ``among`` must select every row of the keys it selects any of: the
    latest rows are looked for among the keys asked about, not over the whole table's history
    (a scan at every round that grew with the core)."""
    latest = (
        select(*(table.c[k] for k in keys), func.max(table.c.as_of).label("as_of"))
        .where(table.c.as_of <= _AS_OF, among)
        .group_by(*(table.c[k] for k in keys))
        .subquery()
    )
    on = and_(*(table.c[k] == latest.c[k] for k in (*keys, "as_of")))
    return table.join(latest, on)


@functools.cache
def _balances_query() -> Select[Any]:
    """The latest balance and accrued interest of each of the accounts ``numbers`` at ``as_of``."""
    table = TABLES[BalanceRow]
    numbers = table.c.account_no.in_(_among("numbers"))
    return (
        select(table.c.account_no, table.c.currency, table.c.balance, table.c.accrued_interest)
        .select_from(_latest(table, ("account_no", "currency"), numbers))
        .where(numbers)
    )


_POOL_KEYS = ("provider_account_no", "user_account_no", "currency")


@functools.cache
def _cash_pooling_query() -> Select[Any]:
    """Each cash-pooling link of the customers ``codes`` with its latest balance at ``as_of``."""
    pool_t = TABLES[CashPoolRow]
    theirs = pool_t.alias("theirs")
    # Every row of the links the customers hold any of, whoever holds their latest row.
    links = pool_t.c.provider_account_no.in_(
        select(theirs.c.provider_account_no).where(theirs.c.customer_code.in_(_among("codes")))
    )
    return (
        select(pool_t)
        .select_from(_latest(pool_t, _POOL_KEYS, links))
        .where(pool_t.c.customer_code.in_(_among("codes")))
        .order_by(*(pool_t.c[k] for k in _POOL_KEYS))
    )


@dataclass(frozen=True)
class _CustomerRows:
    """The rows of a snapshot's customers as of one date, by customer, and the balances of their
    accounts and loans."""

    balances: dict[tuple[str, str], tuple[Decimal, Decimal | None]]
    accounts: dict[str, list[AccountRow]]
    loans: dict[str, list[LoanRow]]
    guarantees: dict[str, list[GuaranteeRow]]
    bills: dict[str, list[BillRow]]
    lcs: dict[str, list[LetterOfCreditRow]]
    fx: dict[str, list[FxContractRow]]
    custody: dict[str, list[CustodyRow]]
    wealth: dict[str, list[WealthHoldingRow]]
    pooled: dict[str, list[CashPoolRow]]
    capital: dict[str, list[CapitalCreditRow]]

    def balance(self, account_no: str, currency: str) -> tuple[Decimal, Decimal]:
        """The account's latest principal and accrued interest (zero without a balance)."""
        principal, interest = self.balances.get((account_no, currency), (Decimal(0), None))
        return principal, interest or Decimal(0)

    def snapshot(self, customer: CustomerRecord, as_of: date) -> CoreSnapshot:
        code = customer.registration_code
        accounts = self.accounts[code]
        open_accounts = [a for a in accounts if a.closed_on is None or a.closed_on > as_of]
        closed = [a for a in accounts if a.closed_on is not None and a.closed_on <= as_of]
        loan_entries = [
            x.entry(*self.balance(x.account_no, x.currency), borrower_name=customer.name)
            for x in self.loans[code]
        ]
        bills = [bill for bill in self.bills[code] if bill.booked_on <= as_of]
        return CoreSnapshot(
            customer=customer,
            as_of=as_of,
            deposits=tuple(a.deposit(self.balance(a.account_no, a.currency)[0]) for a in open_accounts),
            closed_accounts=tuple(a.closed() for a in closed),
            loans=tuple(x for x in loan_entries if isinstance(x, Loan)),
            entrusted_loans_given=tuple(x for x in loan_entries if isinstance(x, EntrustedLoanGiven)),
            entrusted_loans_taken=tuple(x for x in loan_entries if isinstance(x, EntrustedLoanTaken)),
            guarantees=tuple(g.as_entry() for g in self.guarantees[code]),
            bank_acceptances=tuple(
                e
                for b in bills
                if b.kind is BillKind.ACCEPTANCE and isinstance(e := b.as_entry(), BankAcceptance)
            ),
            discounted_bills=tuple(
                e
                for b in bills
                if b.kind is BillKind.DISCOUNTED and isinstance(e := b.as_entry(), DiscountedBill)
            ),
            bills_for_collection=tuple(
                e
                for b in bills
                if b.kind is BillKind.COLLECTION and isinstance(e := b.as_entry(), BillForCollection)
            ),
            letters_of_credit=tuple(x.as_entry() for x in self.lcs[code]),
            fx_contracts=tuple(x.as_entry() for x in self.fx[code]),
            custody=tuple(x.as_entry() for x in self.custody[code]),
            wealth_products=tuple(x.as_entry() for x in self.wealth[code]),
            cash_pooling=tuple(x.as_entry() for x in self.pooled[code]),
            capital_contributions=tuple(x.as_entry() for x in self.capital[code]),
        )


class CoreBank:
    """The reference core bank; a :class:`~bank_adapter.port.CoreBankingPort`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise CoreBankingError(f"the core bank at {self.engine.url!r} is not reachable: {exc}") from exc

    def dispose(self) -> None:
        self.engine.dispose()

    # --- reading ---------------------------------------------------------------------------

    def _rows(self, connection: Connection, row_type: type[RowT], *where: ColumnElement[bool]) -> list[RowT]:
        return [row for _, row in self._records(connection, row_type, _query(row_type, *where))]

    def _records(
        self,
        connection: Connection,
        row_type: type[RowT],
        query: Select[Any],
        parameters: Mapping[str, Any] | None = None,
    ) -> Iterator[tuple[RowMapping, RowT]]:
        """The records ``query`` selects of ``row_type``, each with its row (``CoreBankingError``
        for one the row model refuses)."""
        for record in connection.execute(query, parameters).mappings():
            try:
                row = row_type.model_validate(dict(record))
            except ValidationError as exc:
                key = ", ".join(str(record[name]) for name in row_type.key)
                raise CoreBankingError(f"the core's {row_type.table} record {key} is invalid: {exc}") from exc
            yield record, row

    def customer(self, registration_code: str) -> CustomerRecord | None:
        return self.customers([registration_code]).get(registration_code)

    def customers(self, registration_codes: Iterable[str]) -> dict[str, CustomerRecord]:
        given = set(registration_codes)
        try:
            with self.engine.connect() as connection:
                found = self._customers(connection, {normalise_registration_code(c) for c in given})
        except SQLAlchemyError as exc:
            raise CoreBankingError(f"the core bank did not answer: {exc}") from exc
        return {
            code: found[normal] for code in given if (normal := normalise_registration_code(code)) in found
        }

    def snapshot(self, registration_code: str, as_of: date) -> CoreSnapshot:
        found = self.snapshots([registration_code], as_of)
        if registration_code not in found:
            raise UnknownCustomer(
                f"the core knows no customer {normalise_registration_code(registration_code)}"
            )
        return found[registration_code]

    def snapshots(self, registration_codes: Iterable[str], as_of: date) -> dict[str, CoreSnapshot]:
        given = set(registration_codes)
        try:
            with self.engine.connect() as connection:
                found = self._snapshots(connection, {normalise_registration_code(c) for c in given}, as_of)
        except SQLAlchemyError as exc:
            raise CoreBankingError(f"the core bank did not answer: {exc}") from exc
        return {
            code: found[normal] for code in given if (normal := normalise_registration_code(code)) in found
        }

    def _customers(self, connection: Connection, codes: Iterable[str]) -> dict[str, CustomerRecord]:
        """The customers among ``codes`` (normalised) the core knows, by code."""
        query = _known_customers_query()
        return {
            row.registration_code: CustomerRecord(row.registration_code, row.name)
            for batch in in_batches(sorted(codes))
            for _, row in self._records(connection, CustomerRow, query, {"codes": batch})
        }

    def _balances(
        self, connection: Connection, account_nos: Iterable[str], as_of: date
    ) -> dict[tuple[str, str], tuple[Decimal, Decimal | None]]:
        """The latest balance and accrued interest of each account and currency."""
        query = _balances_query()
        return {
            (account_no, currency): (balance, interest)
            for batch in in_batches(sorted(set(account_nos)))
            for account_no, currency, balance, interest in connection.execute(
                query, {"numbers": batch, "as_of": as_of}
            )
        }

    def _snapshots(
        self, connection: Connection, codes: Iterable[str], as_of: date
    ) -> dict[str, CoreSnapshot]:
        """The snapshots of the customers among ``codes`` (normalised) the core knows, by code: one
        query per table for them all (per IN list), each table's rows then grouped by customer."""
        customers = self._customers(connection, codes)
        known = sorted(customers)
        if not known:
            return {}

        def of_customers(row_type: type[RowT]) -> dict[str, list[RowT]]:
            by_customer: dict[str, list[RowT]] = {code: [] for code in known}
            query = _customers_query(row_type)
            for batch in in_batches(known):
                for record, row in self._records(
                    connection, row_type, query, {"codes": batch, "as_of": as_of}
                ):
                    by_customer[record["customer_code"]].append(row)
            return by_customer

        accounts, loans = of_customers(AccountRow), of_customers(LoanRow)
        held = [a.account_no for rows in accounts.values() for a in rows]
        balances = self._balances(
            connection, held + [x.account_no for rows in loans.values() for x in rows], as_of
        )
        rows = _CustomerRows(
            balances=balances,
            accounts=accounts,
            loans=loans,
            guarantees=of_customers(GuaranteeRow),
            bills=of_customers(BillRow),
            lcs=of_customers(LetterOfCreditRow),
            fx=of_customers(FxContractRow),
            custody=of_customers(CustodyRow),
            wealth=of_customers(WealthHoldingRow),
            pooled=self._cash_pooling(connection, known, as_of),
            capital=of_customers(CapitalCreditRow),
        )
        return {code: rows.snapshot(customers[code], as_of) for code in known}

    def _cash_pooling(
        self, connection: Connection, codes: Sequence[str], as_of: date
    ) -> dict[str, list[CashPoolRow]]:
        """Each customer's cash-pooling links with their latest balance on or before ``as_of``."""
        by_customer: dict[str, list[CashPoolRow]] = {code: [] for code in codes}
        query = _cash_pooling_query()
        for batch in in_batches(codes):
            for record, row in self._records(
                connection, CashPoolRow, query, {"codes": batch, "as_of": as_of}
            ):
                by_customer[record["customer_code"]].append(row)
        return by_customer

    # --- writing ---------------------------------------------------------------------------

    def existing(self, row_type: type[RowT], keys: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], RowT]:
        """The rows of this kind the core already holds, among ``keys`` (natural keys)."""
        table = TABLES[row_type]
        wanted = sorted(set(keys))
        columns = [table.c[name] for name in row_type.key]
        found: dict[tuple[Any, ...], RowT] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 200):
                chunk = wanted[start : start + 200]
                match = or_(*(and_(*(c == v for c, v in zip(columns, key, strict=True))) for key in chunk))
                found |= {row.key_value(): row for row in self._rows(connection, row_type, match)}
        return found

    def load(self, dataset: CoreDataset) -> dict[str, int]:
        """Writes the rows in one transaction (a row with a known key replaces it); counts by table."""
        counts: dict[str, int] = {}
        try:
            with self.engine.begin() as connection:
                for row_type in ROW_TYPES:
                    rows = dataset.get(row_type.table, [])
                    if rows:
                        _upsert(connection, row_type, [row.model_dump() for row in rows])
                        counts[row_type.table] = len(rows)
        except SQLAlchemyError as exc:
            raise CoreBankingError(f"the core bank refused the data: {exc}") from exc
        return counts


def _upsert(connection: Connection, row_type: type[CoreRow], values: list[dict[str, Any]]) -> None:
    table = TABLES[row_type]
    dialect = connection.dialect.name
    for start in range(0, len(values), 1000):
        chunk = values[start : start + 1000]
        if dialect in ("sqlite", "postgresql"):
            module: Any = sqlite if dialect == "sqlite" else postgresql
            statement = module.insert(table)
            updates = {
                c.name: statement.excluded[c.name] for c in table.columns if c.name not in row_type.key
            }
            connection.execute(
                statement.on_conflict_do_update(index_elements=list(row_type.key), set_=updates), chunk
            )
        else:  # portable: replace by key
            for value in chunk:
                connection.execute(
                    delete(table).where(*(table.c[name] == value[name] for name in row_type.key))
                )
            connection.execute(insert(table), chunk)
