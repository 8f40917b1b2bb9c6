"""The reference core bank's records, table by table, as typed rows.

These rows are the core's data format: the importer reads them from CSV and Excel files, the
generator makes them, ``core_sql`` stores them. Each kind of row knows its table, its natural key
and the protocol entry it becomes; building that entry is also how a row is checked, so a row
the core accepts always yields an entry the letter schema accepts.

Balances are a history: one row per account (or loan account) and currency and date, the
balance at the end of that day; a snapshot takes the latest one on or before its date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from node_gateway.protocol.documents import (
    AccountType,
    Amount,
    BankAcceptance,
    BillForCollection,
    CapitalContribution,
    CashPoolAccount,
    ClosedAccount,
    Currency,
    CustodyHolding,
    DepositAccount,
    DepositType,
    DiscountedBill,
    EntrustedLoanGiven,
    EntrustedLoanTaken,
    Entry,
    ExchangeRate,
    FxContract,
    Guarantee,
    GuaranteeKind,
    GuaranteeMethod,
    LetterOfCredit,
    Loan,
    Name,
    Note,
    Percent,
    ProductType,
    Quantity,
    Reference,
    RegistrationCode,
    SignedAmount,
    WealthProduct,
)


class LoanKind(StrEnum):
    LOAN = "loan"  # 2 银行借款
    ENTRUSTED_GIVEN = "entrusted_given"  # 4 委托贷款, the customer as entrustor
    ENTRUSTED_TAKEN = "entrusted_taken"  # 5 委托贷款, the customer as borrower


class BillKind(StrEnum):
    ACCEPTANCE = "acceptance"  # 7 银行承兑汇票
    DISCOUNTED = "discounted"  # 8 已贴现未到期商业汇票
    COLLECTION = "collection"  # 9 托收商业汇票


EntryT = TypeVar("EntryT", bound=Entry)


def _problem(exc: ValidationError) -> ValueError:
    # The entry's own message, without pydantic's framing, reads best in an import report.
    return ValueError(
        "; ".join(
            ".".join(map(str, e["loc"])) + ": " * bool(e["loc"]) + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
    )


class CoreRow(BaseModel):
    """One record of the core; ``table`` names its table and ``key`` its natural key."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    table: ClassVar[str]
    key: ClassVar[tuple[str, ...]]
    # The columns that name another record: (column, table of the record it must name).
    references: ClassVar[tuple[tuple[str, str], ...]] = (("customer_code", "customers"),)

    def key_value(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.key)

    def as_entry(self) -> Entry | None:
        """The entry this row becomes; where its balance lives in other rows, with a zero one.

        Making it is also the row's check: a row the core stores always yields a valid entry.
        """
        return None

    def _entry(self, kind: type[EntryT], **values: Any) -> EntryT:
        """``kind`` made of this row's fields of the same names, and ``values`` for the rest."""
        return kind(**self.model_dump(include=set(kind.model_fields) - set(values)), **values)

    @model_validator(mode="after")
    def _makes_a_valid_entry(self) -> Self:
        try:
            self.as_entry()
        except ValidationError as exc:
            raise _problem(exc) from None
        return self


class CustomerRow(CoreRow):
    table: ClassVar[str] = "customers"
    key: ClassVar[tuple[str, ...]] = ("registration_code",)
    references: ClassVar[tuple[tuple[str, str], ...]] = ()

    registration_code: RegistrationCode
    name: Name


class AccountRow(CoreRow):
    """A deposit account in one currency (a multi-currency account is one row per currency)."""

    table: ClassVar[str] = "accounts"
    key: ClassVar[tuple[str, ...]] = ("account_no", "currency")

    account_no: Reference
    currency: Currency
    customer_code: RegistrationCode
    account_name: Name
    account_type: AccountType
    deposit_type: DepositType
    opened_on: date
    closed_on: date | None = None
    interest_rate: Percent | None = None
    start_date: date | None = None
    end_date: date | None = None
    restricted: bool = False
    restriction_note: Note | None = None
    cash_pooled: bool = False
    note: Note | None = None

    @model_validator(mode="after")
    def _opened_before_closed(self) -> Self:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError("closed_on is before opened_on")
        return self

    def deposit(self, balance: Decimal) -> DepositAccount:
        return self._entry(DepositAccount, balance=balance)

    def closed(self) -> ClosedAccount:
        return self._entry(ClosedAccount)

    def as_entry(self) -> Entry:
        return self.deposit(Decimal(0))


class BalanceRow(CoreRow):
    """The end-of-day balance of an account or a loan account in one currency; for a loan, the
    outstanding principal and the interest accrued and unpaid (本息 apart)."""

    table: ClassVar[str] = "balances"
    key: ClassVar[tuple[str, ...]] = ("account_no", "currency", "as_of")
    # An account or a loan account: checked by the importer, which knows both tables.
    references: ClassVar[tuple[tuple[str, str], ...]] = ()

    account_no: Reference
    currency: Currency
    as_of: date
    balance: SignedAmount
    accrued_interest: Amount | None = None


class LoanRow(CoreRow):
    """A loan, or an entrusted loan on either side; its outstanding principal is in balances."""

    table: ClassVar[str] = "loans"
    key: ClassVar[tuple[str, ...]] = ("account_no",)

    account_no: Reference
    customer_code: RegistrationCode
    kind: LoanKind = LoanKind.LOAN
    account_name: Name | None = None  # the settlement account's name: an entrusted loan states it
    contract_no: Reference | None = None
    currency: Currency
    start_date: date
    maturity_date: date
    interest_rate: Percent | None = None
    counterparty_name: Name | None = None  # the borrower or lender of an entrusted loan
    security_note: Note | None = None
    note: Note | None = None
    settled_on: date | None = None  # repaid in full

    def entry(
        self, principal: Decimal, accrued_interest: Decimal = Decimal(0), *, borrower_name: str | None = None
    ) -> Loan | EntrustedLoanGiven | EntrustedLoanTaken:
        """The loan with its balance; a loan (item 2) names ``borrower_name``, the customer."""
        if self.kind is LoanKind.LOAN:
            return self._entry(
                Loan, principal=principal, accrued_interest=accrued_interest, borrower_name=borrower_name
            )
        if self.counterparty_name is None:
            raise ValueError("an entrusted loan names its counterparty (counterparty_name)")
        if self.kind is LoanKind.ENTRUSTED_GIVEN:
            return self._entry(EntrustedLoanGiven, principal=principal, borrower_name=self.counterparty_name)
        return self._entry(EntrustedLoanTaken, principal=principal, lender_name=self.counterparty_name)

    def as_entry(self) -> Entry:
        return self.entry(Decimal(0))


class GuaranteeRow(CoreRow):
    table: ClassVar[str] = "guarantees"
    key: ClassVar[tuple[str, ...]] = ("contract_no",)

    contract_no: Reference
    customer_code: RegistrationCode
    kind: GuaranteeKind
    counterparty_name: Name
    method: GuaranteeMethod
    currency: Currency
    amount: Amount
    start_date: date
    end_date: date
    purpose: Note | None = None
    note: Note | None = None
    released_on: date | None = None

    def as_entry(self) -> Guarantee:
        return self._entry(Guarantee)


class BillRow(CoreRow):
    """A bill: accepted by the bank, discounted by it, or held by it for collection."""

    table: ClassVar[str] = "bills"
    key: ClassVar[tuple[str, ...]] = ("bill_no",)

    bill_no: Reference
    customer_code: RegistrationCode
    kind: BillKind
    currency: Currency
    face_amount: Amount
    issued_on: date
    due_on: date
    discounted_on: date | None = None
    discount_rate: Percent | None = None
    net_amount: Amount | None = None
    acceptor_name: Name | None = None
    settlement_account_no: Reference | None = None
    security_note: Note | None = None
    note: Note | None = None
    settled_on: date | None = None

    @property
    def booked_on(self) -> date:
        """When the bill became the bank's business: discounted, else issued."""
        if self.kind is BillKind.DISCOUNTED and self.discounted_on is not None:
            return self.discounted_on
        return self.issued_on

    def as_entry(self) -> BankAcceptance | DiscountedBill | BillForCollection:
        if self.kind is not BillKind.ACCEPTANCE and self.acceptor_name is None:
            raise ValueError(f"a {self.kind.value} bill names its acceptor (acceptor_name)")
        if self.kind is BillKind.DISCOUNTED and None in (
            self.discounted_on,
            self.discount_rate,
            self.net_amount,
        ):
            raise ValueError("a discounted bill states discounted_on, discount_rate and net_amount")
        if self.kind is BillKind.ACCEPTANCE:
            return self._entry(BankAcceptance)
        if self.kind is BillKind.DISCOUNTED:
            return self._entry(DiscountedBill)
        return self._entry(BillForCollection)


class LetterOfCreditRow(CoreRow):
    table: ClassVar[str] = "letters_of_credit"
    key: ClassVar[tuple[str, ...]] = ("lc_no",)

    lc_no: Reference
    customer_code: RegistrationCode
    beneficiary_name: Name
    currency: Currency
    amount: Amount
    unused_amount: Amount
    issued_on: date
    expires_on: date
    closed_on: date | None = None
    note: Note | None = None

    def as_entry(self) -> LetterOfCredit:
        if self.unused_amount > self.amount:
            raise ValueError("unused_amount exceeds amount")
        return self._entry(LetterOfCredit)


class FxContractRow(CoreRow):
    table: ClassVar[str] = "fx_contracts"
    key: ClassVar[tuple[str, ...]] = ("contract_no",)

    contract_no: Reference
    customer_code: RegistrationCode
    bought_currency: Currency
    bought_amount: Amount
    sold_currency: Currency
    sold_amount: Amount
    rate: ExchangeRate
    trade_date: date
    settlement_date: date
    note: Note | None = None

    @model_validator(mode="after")
    def _traded_before_settled(self) -> Self:
        if self.settlement_date < self.trade_date:
            raise ValueError("settlement_date is before trade_date")
        return self

    def as_entry(self) -> FxContract:
        return self._entry(FxContract)


class CustodyRow(CoreRow):
    table: ClassVar[str] = "custody"
    key: ClassVar[tuple[str, ...]] = ("holding_no",)

    holding_no: Reference  # the bank's own record number
    customer_code: RegistrationCode
    name: Name
    document_no: Reference | None = None
    quantity: Quantity
    currency: Currency | None = None
    amount: Amount | None = None
    deposited_on: date
    withdrawn_on: date | None = None
    note: Note | None = None

    def as_entry(self) -> CustodyHolding:
        return self._entry(CustodyHolding)


class WealthHoldingRow(CoreRow):
    table: ClassVar[str] = "wealth_products"
    key: ClassVar[tuple[str, ...]] = ("product_code", "account_no")

    product_code: Reference
    account_no: Reference  # the account that bought it
    customer_code: RegistrationCode
    product_name: Name
    product_type: ProductType
    currency: Currency
    units: Quantity
    net_value: Amount
    purchased_on: date
    matures_on: date | None = None
    redeemed_on: date | None = None
    principal_protected: bool | None = None
    restricted: bool = False
    restriction_note: Note | None = None
    note: Note | None = None

    def as_entry(self) -> WealthProduct:
        return self._entry(WealthProduct)


class CashPoolRow(CoreRow):
    """The balance of one cash-pooling link at the end of a day (positive: paid out)."""

    table: ClassVar[str] = "cash_pooling"
    key: ClassVar[tuple[str, ...]] = ("provider_account_no", "user_account_no", "currency", "as_of")

    customer_code: RegistrationCode
    provider_name: Name
    provider_account_no: Reference
    user_name: Name
    user_account_no: Reference
    currency: Currency
    as_of: date
    balance: SignedAmount
    note: Note | None = None

    def as_entry(self) -> CashPoolAccount:
        return self._entry(CashPoolAccount)


class CapitalCreditRow(CoreRow):
    """A credit to a customer's capital account (验资账户): an investor's contribution as the
    bank booked it, answered by the 验资 letter."""

    table: ClassVar[str] = "capital_credits"
    key: ClassVar[tuple[str, ...]] = ("credit_no",)

    credit_no: Reference  # the bank's own transaction number
    customer_code: RegistrationCode
    account_no: Reference
    currency: Currency
    payer_name: Name
    paid_on: date
    amount: Amount
    purpose: Note | None = None
    note: Note | None = None

    def as_entry(self) -> CapitalContribution:
        return self._entry(CapitalContribution)


ROW_TYPES: tuple[type[CoreRow], ...] = (
    CustomerRow,
    AccountRow,
    LoanRow,
    BalanceRow,
    GuaranteeRow,
    BillRow,
    LetterOfCreditRow,
    FxContractRow,
    CustodyRow,
    WealthHoldingRow,
    CashPoolRow,
    CapitalCreditRow,
)
"""Every kind of row, in an order where a row comes after the rows it names."""

ROW_TYPE_BY_TABLE: dict[str, type[CoreRow]] = {row.table: row for row in ROW_TYPES}

CoreDataset = dict[str, list[CoreRow]]
"""Rows by table name: what an import or the generator hands the core in one transaction."""

RowT = TypeVar("RowT", bound=CoreRow)


def rows_of(dataset: CoreDataset, row_type: type[RowT]) -> list[RowT]:
    """The dataset's rows of one kind, typed as such."""
    return [row for row in dataset.get(row_type.table, []) if isinstance(row, row_type)]
