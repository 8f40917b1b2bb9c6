"""Item 11's rate has one direction everywhere: units of the bought currency per unit of the sold
currency (``bought_amount = sold_amount × rate``, ``documents.ExchangeRate``).

The schema used to say the opposite of what the samples and the demo generator did, so an auditor
who followed the schema wrote the inverse of the bank's rate and every FX contract came back as an
exception. These tests write the rate from the documented direction (``fx_rate``) and hold the
samples, the generator's core records and the drafting comparison to it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bank_adapter.core_rows import FxContractRow, rows_of
from bank_adapter.core_sql import CoreBank
from bank_adapter.drafting import draft_reply
from bank_adapter.generator import dataset_from_letter, generate
from node_gateway.protocol import InvalidDocument, parse_letter
from node_gateway.protocol.documents import FX_RATE_TOLERANCE, ItemStatus, fx_rate
from node_gateway.protocol.samples import sample_letter

AS_OF = date(2024, 12, 31)


def _agrees(bought: Decimal, sold: Decimal, rate: Decimal) -> bool:
    """The documented direction, as the schema's docstring states it."""
    return abs(sold * rate - bought) <= max(Decimal("0.01"), bought * FX_RATE_TOLERANCE)


def test_the_sample_letter_states_its_rate_in_the_documented_direction() -> None:
    (contract,) = sample_letter().items.fx_contracts.entries
    assert contract.bought_amount is not None
    assert contract.sold_amount is not None
    assert contract.rate is not None
    assert _agrees(contract.bought_amount, contract.sold_amount, contract.rate)
    assert not _agrees(contract.bought_amount, contract.sold_amount, 1 / contract.rate)


def test_the_generator_s_contracts_both_ways_follow_the_direction() -> None:
    contracts = [
        row
        for seed in range(1, 9)
        for row in rows_of(generate(customers=40, seed=seed, reference_date=AS_OF), FxContractRow)
    ]
    assert {row.bought_currency == "CNY" for row in contracts} == {True, False}  # 结汇 and 售汇
    for row in contracts:
        assert _agrees(row.bought_amount, row.sold_amount, row.rate), row


def test_a_letter_written_by_the_documented_direction_confirms_against_the_core(tmp_path: Any) -> None:
    dataset = generate(customers=60, seed=3, reference_date=AS_OF)
    core = CoreBank(f"sqlite:///{tmp_path / 'core.db'}")
    core.load(dataset)
    codes = sorted({row.customer_code for row in rows_of(dataset, FxContractRow)})
    assert codes
    try:
        for code in codes:
            snapshot = core.snapshot(code, AS_OF)
            # The auditor's own figures: the amounts from the contract and the rate worked out
            # from them in the documented direction, written to four places as contracts quote it.
            contracts = [
                {
                    **contract.model_dump(mode="json"),
                    "rate": str(
                        fx_rate(contract.bought_amount, contract.sold_amount).quantize(Decimal("0.0001"))
                    ),
                }
                for contract in snapshot.fx_contracts
                if contract.bought_amount is not None and contract.sold_amount is not None
            ]
            data = sample_letter(reference_date=AS_OF).model_dump(mode="json", by_alias=True)
            data["auditee"] = {"name": snapshot.customer.name, "registration_code": code}
            data["items"] = {key: {"not_applicable": True} for key in data["items"]} | {
                "fx_contracts": {"entries": contracts}
            }
            draft = draft_reply(parse_letter(data), snapshot)
            answer = draft.items.fx_contracts
            assert answer.status is ItemStatus.CONFIRMED, answer.differences
    finally:
        core.dispose()


def test_a_rate_written_the_other_way_round_is_refused_where_it_is_written() -> None:
    data = sample_letter().model_dump(mode="json", by_alias=True)
    contract = data["items"]["fx_contracts"]["entries"][0]
    contract["rate"] = str((1 / Decimal(contract["rate"])).quantize(Decimal("0.00000001")))
    with pytest.raises(InvalidDocument) as refused:
        parse_letter(data)
    assert [error["type"] for error in refused.value.details] == ["fx_rate_direction"]
    assert "CNY per USD" in str(refused.value)
    assert "about 7.157" in str(refused.value)
    row = {
        "customer_code": sample_letter().auditee.registration_code,
        "trade_date": "2024-12-01",
        **contract,
    }
    with pytest.raises(ValidationError, match="bought_amount = sold_amount × rate"):
        FxContractRow.model_validate(row)


def test_the_comparison_rounds_the_bank_s_rate_to_the_letter_s_places_and_no_further(tmp_path: Any) -> None:
    letter = sample_letter()
    core = CoreBank(f"sqlite:///{tmp_path / 'core.db'}")
    core.load(dataset_from_letter(letter))  # the bank's record: 7.157
    try:
        snapshot = core.snapshot(letter.auditee.registration_code, letter.reference_date)
        for stated, status in (("7.16", ItemStatus.CONFIRMED), ("7.158", ItemStatus.EXCEPTION)):
            data = letter.model_dump(mode="json", by_alias=True)
            data["items"]["fx_contracts"]["entries"][0]["rate"] = stated
            answer = draft_reply(parse_letter(data), snapshot).items.fx_contracts
            assert answer.status is status, (stated, answer.differences)
        (difference,) = answer.differences
        assert (difference.field, difference.auditor_value, difference.bank_value) == (
            "rate",
            "7.158",
            "7.157",
        )
    finally:
        core.dispose()
