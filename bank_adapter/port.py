"""The port to the bank's core-banking system: what the adapter needs to answer a letter.

A bank plugs its own systems in by implementing :class:`CoreBankingPort`; ``core_sql.CoreBank``
is the reference implementation on SQL. The port speaks the letter's own vocabulary: a
:class:`CoreSnapshot` holds, for one customer as of one date, the bank's version of every item
of the standard letter as protocol entries, so drafting compares like with like and no adapter
has to learn a second data model. The workflow asks for a round's customers and snapshots
together (``customers``, ``snapshots``), so that a core answers a round of letters in one set of
queries rather than a set per letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bank_adapter.errors import BankAdapterError
from node_gateway.protocol.documents import (
    BankAcceptance,
    BillForCollection,
    CapitalContribution,
    CashPoolAccount,
    ClosedAccount,
    CustodyHolding,
    DepositAccount,
    DiscountedBill,
    EntrustedLoanGiven,
    EntrustedLoanTaken,
    FxContract,
    Guarantee,
    LetterOfCredit,
    Loan,
    Period,
    WealthProduct,
)


class CoreBankingError(BankAdapterError):
    """The core-banking system failed to answer (unreachable, inconsistent data)."""


class UnknownCustomer(CoreBankingError):
    """The core holds no customer with this registration code."""


@dataclass(frozen=True)
class CustomerRecord:
    """A customer as the core knows it."""

    registration_code: str
    name: str


@dataclass(frozen=True)
class CoreSnapshot:
    """Everything the 14 items and the annex, and the 验资 letter, need for one customer as of one
    date.

    Field names are the letter's item keys, so ``getattr(snapshot, key.value)`` finds an item's
    entries. Item 14 (other matters) has no counterpart: nothing in a core system answers a
    free-text question.
    """

    customer: CustomerRecord
    as_of: date
    deposits: tuple[DepositAccount, ...]  # open at the date, zero balances included
    closed_accounts: tuple[ClosedAccount, ...]  # every account closed on or before the date
    loans: tuple[Loan, ...]
    entrusted_loans_given: tuple[EntrustedLoanGiven, ...]
    entrusted_loans_taken: tuple[EntrustedLoanTaken, ...]
    guarantees: tuple[Guarantee, ...]
    bank_acceptances: tuple[BankAcceptance, ...]
    discounted_bills: tuple[DiscountedBill, ...]
    bills_for_collection: tuple[BillForCollection, ...]
    letters_of_credit: tuple[LetterOfCredit, ...]
    fx_contracts: tuple[FxContract, ...]
    custody: tuple[CustodyHolding, ...]
    wealth_products: tuple[WealthProduct, ...]
    cash_pooling: tuple[CashPoolAccount, ...]
    # 验资: the credits to the customer's capital accounts on or before the date
    capital_contributions: tuple[CapitalContribution, ...] = ()

    def closed_in_period(self, period: Period) -> tuple[ClosedAccount, ...]:
        """Item 3: the accounts closed within ``period`` (both days included), the letter's."""
        return tuple(
            a
            for a in self.closed_accounts
            if a.closed_on is not None and period.start <= a.closed_on <= period.end
        )


class CoreBankingPort(Protocol):
    """Read-only access to the core-banking records of the bank's customers."""

    def customer(self, registration_code: str) -> CustomerRecord | None:
        """The customer with this registration code (any spelling), or None."""
        ...

    def snapshot(self, registration_code: str, as_of: date) -> CoreSnapshot:
        """The customer's banking relations as of the end of ``as_of``.

        Raises ``UnknownCustomer`` for a code the core does not know and ``CoreBankingError``
        when the core cannot answer.
        """
        ...

    def customers(self, registration_codes: Iterable[str]) -> Mapping[str, CustomerRecord]:
        """Those of the customers the core knows, by the code as given (``customer`` of each, in
        one go)."""
        ...

    def snapshots(self, registration_codes: Iterable[str], as_of: date) -> Mapping[str, CoreSnapshot]:
        """The snapshots as of ``as_of`` of those of the customers the core knows, by the code as
        given: ``snapshot`` of each, in one go, a code the core does not know left out. Raises
        ``CoreBankingError`` when the core cannot answer for any of them."""
        ...
