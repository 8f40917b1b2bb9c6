"""Drafting a reply from the core's records, item by item.

Format one (the auditor states the figures): every entry the auditor listed is matched with the
bank's record and every value the auditor wrote is compared with the bank's. An item is confirmed
when everything agrees, otherwise it is an exception that states each difference: another value,
a record the bank does not know, an account the bank has closed, or a record the bank holds that
the auditor did not list (the bank's entry travels with the reply).

Format two (the bank fills in): the reply carries every record the bank holds, item by item;
entries the auditor did list are still checked as above.

验资 (capital verification): the letter's one item, its contributions, is answered as in format
one from the credits to the capital accounts the letter names, booked within the letter's audit
period (the period the verification covers); a credit there that the auditor did not list is an
exception. Its 款项用途 is compared: what the payer stated the money was for is what 验资 checks.

Matching uses the natural identifiers of each kind of entry (account number and currency,
contract, bill or product number…), falling back to descriptive fields where the auditor left an
optional identifier out. Names compare without regard to full-width forms, case or spaces.
Free-text fields (notes, purposes, security descriptions) are never compared: they are prose,
not figures. Item 14 (other matters) cannot be answered from records; such entries are drafted as
exceptions for a person to answer, and flagged for attention.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bank_adapter.port import CoreSnapshot
from node_gateway.protocol.documents import (
    CapitalContribution,
    ClosedAccount,
    ConfirmationLetter,
    DepositAccount,
    Difference,
    DifferenceReason,
    Entry,
    Item,
    ItemKey,
    ItemReply,
    ItemStatus,
    LetterFormat,
    Note,
    ReplyItems,
)

MATCH_KEYS: dict[ItemKey, tuple[tuple[str, ...], ...]] = {
    ItemKey.DEPOSITS: (("account_no", "currency"),),
    ItemKey.LOANS: (("account_no",), ("contract_no",)),
    ItemKey.CLOSED_ACCOUNTS: (("account_no", "currency"),),
    ItemKey.ENTRUSTED_LOANS_GIVEN: (("account_no",),),
    ItemKey.ENTRUSTED_LOANS_TAKEN: (("account_no",),),
    ItemKey.GUARANTEES: (("contract_no",), ("kind", "counterparty_name", "currency")),
    ItemKey.BANK_ACCEPTANCES: (("bill_no",),),
    ItemKey.DISCOUNTED_BILLS: (("bill_no",),),
    ItemKey.BILLS_FOR_COLLECTION: (("bill_no",),),
    ItemKey.LETTERS_OF_CREDIT: (("lc_no",),),
    ItemKey.FX_CONTRACTS: (("contract_no",),),
    ItemKey.CUSTODY: (("document_no",), ("name",)),
    ItemKey.WEALTH_PRODUCTS: (("product_code", "account_no"), ("product_code",)),
    ItemKey.CASH_POOLING: (("provider_account_no", "user_account_no", "currency"),),
    ItemKey.CAPITAL_CONTRIBUTIONS: (
        ("account_no", "payer_name", "paid_on", "currency"),
        ("account_no", "payer_name", "currency"),
    ),
}
"""How an auditor's entry finds the bank's record: the first key whose fields the auditor gave."""

FREE_TEXT = frozenset({"note", "restriction_note", "security_note", "purpose"})
# Free text that is nonetheless a fact of the bank's record, compared: a contribution's 款项用途.
STATED_TEXT: dict[type[Entry], frozenset[str]] = {CapitalContribution: frozenset({"purpose"})}
# The field a difference names its entry by, the first one the entry has (账号 or another number).
REFERENCE_FIELDS = ("account_no", "contract_no", "bill_no", "lc_no", "product_code", "document_no")
NOT_RECORDED = "not recorded"
NOT_CLOSED = "not closed"


class Draft(BaseModel):
    """A drafted answer to every item, what a person must look at before it goes out, remarks.

    Stored sealed as a draft's content; a preparer's manual draft has the same shape.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: ReplyItems
    attention: tuple[Annotated[str, StringConstraints(max_length=500)], ...] = Field(
        default=(), max_length=1000
    )
    remarks: Note | None = None
    no_relationship: bool = False  # the bank holds no relationship with the auditee

    @property
    def exceptions(self) -> int:
        return sum(1 for _, item in self.items.by_key() if item.status is ItemStatus.EXCEPTION)


def normalise_text(text: str) -> str:
    """Text as compared: full-width forms folded (NFKC), case folded, spaces removed."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _same(auditor: Any, bank: Any) -> bool:
    if isinstance(auditor, str) and isinstance(bank, str):
        return normalise_text(auditor) == normalise_text(bank)
    return bool(auditor == bank)


def _same_rate(stated: Decimal, recorded: Decimal | None) -> bool:
    """An FX rate as the letter states it: the bank's rate (both in the one direction, units bought
    per unit sold) rounded to the places the letter gives, so 0.1399 is the bank's 0.13986014."""
    if recorded is None:
        return False
    exponent = stated.normalize().as_tuple().exponent
    places = exponent if isinstance(exponent, int) and exponent < 0 else 0
    return recorded.quantize(Decimal(1).scaleb(places), ROUND_HALF_UP) == stated


def _shown(entry: Entry, name: str) -> str:
    """A value as the reply states it: its canonical JSON form (amounts as "1234.50")."""
    value = entry.model_dump(mode="json")[name]
    if value is None:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)[:200]


def _label(entry: Entry, keys: tuple[tuple[str, ...], ...]) -> str:
    """The entry's identifiers, as the first key it has them for."""
    for fields in keys:
        values = [getattr(entry, name) for name in fields]
        if all(v is not None for v in values):
            return " ".join(str(v) for v in values)
    return ""


def _compared(value: Any) -> Any:
    """A value as ``_same`` compares it: text normalised, anything else as it is."""
    return normalise_text(value) if isinstance(value, str) else value


class _Records:
    """The bank's records an auditor's entry may match, indexed by the values of each match key as
    ``_same`` compares them, so that finding an entry's record is a look-up rather than a pass
    over every record (a customer's hundreds of accounts made drafting quadratic)."""

    def __init__(self, records: Sequence[Entry], keys: tuple[tuple[str, ...], ...]) -> None:
        self._keys = keys
        self._index: dict[tuple[str, ...], dict[tuple[Any, ...], list[int]]] = {}
        for fields in keys:
            by_values = self._index[fields] = {}
            for position, record in enumerate(records):
                values = tuple(_compared(getattr(record, name)) for name in fields)
                by_values.setdefault(values, []).append(position)

    def find(self, entry: Entry, taken: Collection[int] = ()) -> int | None:
        """The position of the first record not ``taken`` that holds the entry's values of the
        first key the entry gives all of and some record matches; None if none does."""
        for fields in self._keys:
            wanted = [getattr(entry, name) for name in fields]
            if any(v is None for v in wanted):
                continue
            for position in self._index[fields].get(tuple(_compared(v) for v in wanted), ()):
                if position not in taken:
                    return position
        return None


def named(entry: Entry) -> dict[str, Any]:
    """The account (or contract, bill, product) number and the currency a difference names
    ``entry`` by, where it has them."""
    numbers = (getattr(entry, name, None) for name in REFERENCE_FIELDS)
    return {
        "reference": next((n for n in numbers if n is not None), None),
        "currency": getattr(entry, "currency", None),
    }


def compare_entries(index: int, auditor: Entry, bank: Entry) -> list[Difference]:
    """A difference for every value the auditor stated that the bank's record does not hold."""
    differences = []
    for name in type(auditor).model_fields:
        stated = getattr(auditor, name)
        recorded = getattr(bank, name)
        prose = name in FREE_TEXT and name not in STATED_TEXT.get(type(auditor), frozenset())
        if prose or stated is None or _same(stated, recorded):
            continue
        if name == "rate" and _same_rate(stated, recorded):
            continue
        differences.append(
            Difference(
                reason=DifferenceReason.DIFFERENT_VALUE,
                entry=index,
                field=name,
                auditor_value=_shown(auditor, name),
                bank_value=_shown(bank, name),
                **named(auditor),
            )
        )
    return differences


Unmatched = Callable[[int, Entry], Difference]


def _unknown(index: int, entry: Entry) -> Difference:
    return Difference(
        reason=DifferenceReason.UNKNOWN_TO_BANK,
        entry=index,
        note="the bank holds no such record at the reference date",
        **named(entry),
    )


def answer_item(
    item: Item[Any],
    bank_entries: Sequence[Entry],
    keys: tuple[tuple[str, ...], ...],
    *,
    letter_format: LetterFormat,
    candidates: Sequence[Entry] | None = None,
    unmatched: Unmatched = _unknown,
) -> ItemReply[Any]:
    """The answer to one item.

    ``bank_entries`` are the records the bank reports for the item; ``candidates`` (default the
    same) the records an auditor's entry may match, which for closed accounts include accounts
    closed before the period.
    """
    pool = list(bank_entries if candidates is None else candidates)
    records = _Records(pool, keys)
    taken: set[int] = set()
    differences: list[Difference] = []
    for index, entry in enumerate(item.entries):
        found = records.find(entry, taken)
        if found is None:
            differences.append(unmatched(index, entry))
            continue
        taken.add(found)
        differences += compare_entries(index, entry, pool[found])
    matched = {id(pool[i]) for i in taken}
    unlisted = [e for e in bank_entries if id(e) not in matched]
    # In format two the bank fills the item in, so what the auditor did not list is no exception,
    # unless the auditor declared the item not applicable.
    bank_fills_in = letter_format is LetterFormat.TWO
    report_unlisted = not bank_fills_in or item.not_applicable
    entries = tuple(bank_entries) if bank_fills_in else tuple(unlisted)
    if report_unlisted:
        positions: dict[int, int] = {}
        for i, e in enumerate(entries):
            positions.setdefault(id(e), i)
        for entry in unlisted:
            position = positions[id(entry)]
            label = _label(entry, keys)
            differences.append(
                Difference(
                    reason=DifferenceReason.NOT_LISTED_BY_AUDITOR,
                    bank_entry=position,
                    note=f"entries[{position}]: {label}"[:2000],
                    **named(entry),
                )
            )
    if differences:
        return ItemReply(status=ItemStatus.EXCEPTION, differences=tuple(differences), entries=entries)
    if item.entries or entries:
        return ItemReply(status=ItemStatus.CONFIRMED, entries=entries)
    return ItemReply(status=ItemStatus.NOT_APPLICABLE)


def _account_elsewhere(
    accounts: Sequence[DepositAccount | ClosedAccount], difference: Callable[[int, Entry, Any], Difference]
) -> Unmatched:
    """For an account the auditor lists under the wrong item: ``difference`` with the bank's record."""
    keys = MATCH_KEYS[ItemKey.DEPOSITS]  # closed and open accounts alike: number and currency

    def unmatched(index: int, entry: Entry) -> Difference:
        found = _Records(accounts, keys).find(entry)  # rare: an entry the item's records lack
        return _unknown(index, entry) if found is None else difference(index, entry, accounts[found])

    return unmatched


def _closed(index: int, entry: Entry, account: ClosedAccount) -> Difference:
    return Difference(
        reason=DifferenceReason.CLOSED_ACCOUNT,
        entry=index,
        field="closed_on",
        bank_value=_shown(account, "closed_on"),
        note=f"the account was closed on {account.closed_on}",
        **named(entry),
    )


def _not_closed(index: int, entry: Entry, _: DepositAccount) -> Difference:
    return Difference(
        reason=DifferenceReason.DIFFERENT_VALUE,
        entry=index,
        field="closed_on",
        auditor_value=_shown(entry, "closed_on"),
        bank_value=NOT_CLOSED,
        note="the account is open at the reference date",
        **named(entry),
    )


def _other_matters(item: Item[Any]) -> tuple[ItemReply[Any], list[str]]:
    if not item.entries:
        return ItemReply(status=ItemStatus.NOT_APPLICABLE), []
    differences = tuple(
        Difference(
            reason=DifferenceReason.OTHER,
            entry=index,
            note="the bank's records hold nothing to confirm this against; to be answered by an officer",
        )
        for index in range(len(item.entries))
    )
    return (
        ItemReply(status=ItemStatus.EXCEPTION, differences=differences),
        [f"other[{i}]: answer by hand" for i in range(len(item.entries))],
    )


def _credited_in_period(
    letter: ConfirmationLetter, credits: Sequence[CapitalContribution]
) -> tuple[CapitalContribution, ...]:
    """验资: the credits to the capital accounts the letter names within its audit period, those
    the bank reports; credits to the customer's other accounts are not what the letter asks."""
    accounts = {normalise_text(c.account_no) for c in letter.items.capital_contributions.entries}
    period = letter.audit_period
    return tuple(
        c
        for c in credits
        if normalise_text(c.account_no) in accounts and period.start <= c.paid_on <= period.end
    )


def draft_reply(letter: ConfirmationLetter, snapshot: CoreSnapshot) -> Draft:
    """Answers every item of ``letter`` from ``snapshot`` (the auditee's records at its reference date)."""
    if snapshot.as_of != letter.reference_date:
        raise ValueError("the snapshot is not of the letter's reference date")
    answers: dict[str, ItemReply[Any]] = {}
    attention: list[str] = []
    for key, item in letter.items.by_key():
        if key is ItemKey.OTHER:
            answers[key.value], notes = _other_matters(item)
            attention += notes
            continue
        options: dict[str, Any] = {}
        bank_entries: Sequence[Entry] = getattr(snapshot, key.value)
        if key is ItemKey.DEPOSITS:
            options["unmatched"] = _account_elsewhere(snapshot.closed_accounts, _closed)
        elif key is ItemKey.CLOSED_ACCOUNTS:
            # The period the auditor chose on the letter (自…起至…), never one assumed here.
            bank_entries = snapshot.closed_in_period(letter.closed_accounts_period)
            options["candidates"] = snapshot.closed_accounts
            options["unmatched"] = _account_elsewhere(snapshot.deposits, _not_closed)
        elif key is ItemKey.CAPITAL_CONTRIBUTIONS:
            bank_entries = _credited_in_period(letter, snapshot.capital_contributions)
            options["candidates"] = snapshot.capital_contributions
        answers[key.value] = answer_item(
            item, bank_entries, MATCH_KEYS[key], letter_format=letter.format, **options
        )
    if not _same(letter.auditee.name, snapshot.customer.name):
        attention.append("the letter names the auditee differently from the bank's records")
    return Draft(items=ReplyItems.model_validate(answers), attention=tuple(attention))
