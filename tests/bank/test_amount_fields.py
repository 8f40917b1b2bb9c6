"""The money fields are read from the schema (``documents.AMOUNT_FIELDS``), so the new columns of
issue 12 count where amounts count: the straight-through limit sees a wealth product's net value, a
loan's accrued interest and a discounted bill's net amount, and the pages group them by thousands."""

from __future__ import annotations

from decimal import Decimal

from bank_adapter.approval import AMOUNT_FIELDS, amounts_by_currency, over_limit
from node_gateway.protocol.documents import ENTRY_MODELS, ItemKey
from node_gateway.protocol.samples import sample_letter


def test_every_amount_of_the_schema_is_a_money_field_and_nothing_else() -> None:
    assert {"accrued_interest", "net_amount", "net_value", "balance", "principal"} <= AMOUNT_FIELDS
    assert not {"units", "quantity", "rate", "interest_rate", "discount_rate"} & AMOUNT_FIELDS
    assert {name for model in ENTRY_MODELS.values() for name in model.model_fields} >= AMOUNT_FIELDS


def test_the_straight_through_limit_counts_the_new_columns() -> None:
    items = sample_letter().items
    (product,) = items.wealth_products.entries
    assert amounts_by_currency([product]) == {"CNY": Decimal("10086300.00")}  # its 产品净值
    (bill,) = items.discounted_bills.entries
    assert amounts_by_currency([bill]) == {"CNY": Decimal("1500000.00")}  # face over net amount
    assert over_limit(amounts_by_currency([product]), {"CNY": Decimal("10000000")}) is not None
    (loan,) = items.loans.entries
    interest_only = loan.model_copy(update={"principal": Decimal(0)})
    assert amounts_by_currency([interest_only]) == {"CNY": Decimal("31625.00")}
    assert ItemKey.WEALTH_PRODUCTS in ENTRY_MODELS
