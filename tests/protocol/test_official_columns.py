"""The 14 items and the annex of the standard letter, field by field against the official columns.

The table below is the column list of 银行询证函 格式一 as 财会〔2020〕12号 (附件 2, with the
银行函证工作操作指引) lays out each item, as ``../shared/DOMAIN.md`` ("The standard letter's
columns") transcribes it: every official column maps to the schema field(s) that carry it. The
tests hold the schema to it both ways (every column has its fields, every field is a column or a
listed extra), check the column titles the pages and printouts use, and build a letter through the
public parser with every column filled, then with each figure left out.

The capital-verification letter (银行询证函(验资), 操作指引 附3) is the third format: one table of
the investors' contributions to the capital account, held to its columns the same way.
"""

from __future__ import annotations

from typing import Any

import pytest

from node_gateway.protocol import InvalidDocument, parse_letter
from node_gateway.protocol.documents import (
    FIELD_TITLES,
    ITEM_TITLES,
    STANDARD_ITEMS,
    ConfirmationLetter,
    ItemKey,
    LetterFormat,
)
from node_gateway.protocol.samples import sample_letter
from node_gateway.protocol.workbook import ENTRY_MODELS

# (official column, the schema fields that carry it), per item, in the template's order.
OFFICIAL_COLUMNS: dict[ItemKey, tuple[tuple[str, tuple[str, ...]], ...]] = {
    ItemKey.DEPOSITS: (  # 1 银行存款
        ("账户名称", ("account_name",)),
        ("银行账号", ("account_no",)),
        ("币种", ("currency",)),
        ("利率", ("interest_rate",)),
        ("账户类型", ("account_type",)),  # 基本/一般/专用/临时存款账户, apart from the product
        ("余额", ("balance",)),
        ("起止日期", ("start_date", "end_date")),
        ("是否用于担保或存在其他使用限制", ("restricted", "restriction_note")),
        ("是否属于资金归集账户", ("cash_pooled",)),
        ("备注", ("note",)),
    ),
    ItemKey.LOANS: (  # 2 银行借款
        ("借款人名称", ("borrower_name",)),
        ("银行账号", ("account_no",)),
        ("币种", ("currency",)),
        ("余额(本息)", ("principal", "accrued_interest")),  # 本金 and 利息 apart
        ("借款日期", ("start_date",)),
        ("到期日期", ("maturity_date",)),
        ("利率", ("interest_rate",)),
        ("抵(质)押品/担保人", ("security_note",)),
        ("备注", ("note",)),
    ),
    ItemKey.CLOSED_ACCOUNTS: (  # 3 期内注销账户; its period 自…起至… is the letter's (below)
        ("账户名称", ("account_name",)),
        ("银行账号", ("account_no",)),
        ("币种", ("currency",)),
        ("注销账户日", ("closed_on",)),
    ),
    ItemKey.ENTRUSTED_LOANS_GIVEN: (  # 4 委托贷款 (the company as 委托人)
        ("账户名称", ("account_name",)),
        ("银行结算账号", ("account_no",)),
        ("资金借入方", ("borrower_name",)),
        ("币种", ("currency",)),
        ("利率", ("interest_rate",)),
        ("余额", ("principal",)),
        ("贷款起止日期", ("start_date", "maturity_date")),
        ("备注", ("note",)),
    ),
    ItemKey.ENTRUSTED_LOANS_TAKEN: (  # 5 委托贷款 (the company as 借款人)
        ("账户名称", ("account_name",)),
        ("银行结算账号", ("account_no",)),
        ("资金借出方", ("lender_name",)),
        ("币种", ("currency",)),
        ("利率", ("interest_rate",)),
        ("余额", ("principal",)),
        ("贷款起止日期", ("start_date", "maturity_date")),
        ("备注", ("note",)),
    ),
    ItemKey.GUARANTEES: (  # 6 担保: (1) for others, the bank as beneficiary; (2) by the bank (保函)
        ("(1)/(2)", ("kind",)),
        ("被担保人", ("counterparty_name",)),
        ("担保方式", ("method",)),
        ("币种", ("currency",)),
        ("担保余额/金额", ("amount",)),
        ("担保到期日", ("end_date",)),
        ("担保合同编号", ("contract_no",)),
        ("备注", ("note",)),
    ),
    ItemKey.BANK_ACCEPTANCES: (  # 7 银行承兑汇票
        ("汇票号码", ("bill_no",)),
        ("承兑银行", ("acceptor_name",)),
        ("结算账号", ("settlement_account_no",)),
        ("币种", ("currency",)),
        ("票面金额", ("face_amount",)),
        ("出票日", ("issued_on",)),
        ("到期日", ("due_on",)),
        ("抵(质)押品", ("security_note",)),
    ),
    ItemKey.DISCOUNTED_BILLS: (  # 8 已贴现未到期商业汇票
        ("汇票号码", ("bill_no",)),
        ("承兑人", ("acceptor_name",)),
        ("币种", ("currency",)),
        ("票面金额", ("face_amount",)),
        ("出票日", ("issued_on",)),
        ("到期日", ("due_on",)),
        ("贴现日", ("discounted_on",)),
        ("贴现率", ("discount_rate",)),
        ("贴现净额", ("net_amount",)),
    ),
    ItemKey.BILLS_FOR_COLLECTION: (  # 9 托收商业汇票
        ("汇票号码", ("bill_no",)),
        ("承兑人", ("acceptor_name",)),
        ("币种", ("currency",)),
        ("票面金额", ("face_amount",)),
        ("出票日", ("issued_on",)),
        ("到期日", ("due_on",)),
    ),
    ItemKey.LETTERS_OF_CREDIT: (  # 10 不可撤销信用证
        ("信用证号码", ("lc_no",)),
        ("受益人", ("beneficiary_name",)),
        ("币种", ("currency",)),
        ("信用证金额", ("amount",)),
        ("到期日", ("expires_on",)),
        ("未使用金额", ("unused_amount",)),
    ),
    ItemKey.FX_CONTRACTS: (  # 11 外汇买卖合约
        ("类别", ("bought_currency", "sold_currency")),  # 买入 one currency, 卖出 the other
        ("合约号码", ("contract_no",)),
        ("买卖币种", ("bought_currency", "sold_currency")),
        ("未履行的合约买卖金额", ("bought_amount", "sold_amount")),
        ("汇率", ("rate",)),  # units bought per unit sold
        ("交收日期", ("settlement_date",)),
    ),
    ItemKey.CUSTODY: (  # 12 托管证券或其他产权文件
        ("名称", ("name",)),
        ("数量", ("quantity",)),
        ("号码/产权文件编号", ("document_no",)),
        ("备注", ("note",)),
    ),
    ItemKey.WEALTH_PRODUCTS: (  # 13 理财产品
        ("产品名称", ("product_name",)),
        ("产品类型", ("product_type",)),  # 封闭式/开放式
        ("币种", ("currency",)),
        ("持有份额", ("units",)),
        ("产品净值", ("net_value",)),
        ("购买日", ("purchased_on",)),
        ("到期日", ("matures_on",)),
        ("是否用于担保或存在其他使用限制", ("restricted", "restriction_note")),
    ),
    ItemKey.OTHER: (("其他事项", ("description",)),),  # 14 其他: free text
    ItemKey.CASH_POOLING: (  # 附 资金归集(资金池); the template heads each account 其账号
        ("资金提供机构名称", ("provider_name",)),
        ("资金提供机构账号", ("provider_account_no",)),
        ("资金使用机构名称", ("user_name",)),
        ("资金使用机构账号", ("user_account_no",)),
        ("币种", ("currency",)),
        ("截至基准日拨入或拨出资金余额", ("balance",)),  # 拨出 positive, 拨入 negative
        ("备注", ("note",)),
    ),
    ItemKey.CAPITAL_CONTRIBUTIONS: (  # 银行询证函(验资), 操作指引 附3: the investors' contributions
        ("缴款人", ("payer_name",)),
        ("缴款日期", ("paid_on",)),
        ("缴入账号", ("account_no",)),
        ("币种", ("currency",)),
        ("金额", ("amount",)),
        ("款项用途", ("purpose",)),
        ("备注", ("note",)),
    ),
}

# Fields the template leaves to 备注, kept apart because they are how a bank finds or tells the
# record (a product code, a contract number), or what the auditor needs with a figure (a currency
# with an amount, the deposit product beside the account type).
EXTRA_FIELDS: dict[ItemKey, set[str]] = {
    ItemKey.DEPOSITS: {"deposit_type"},
    ItemKey.LOANS: {"contract_no"},
    ItemKey.GUARANTEES: {"start_date", "purpose"},
    ItemKey.LETTERS_OF_CREDIT: {"issued_on"},
    ItemKey.CUSTODY: {"currency", "amount"},
    ItemKey.WEALTH_PRODUCTS: {"product_code", "account_no", "principal_protected"},
    ItemKey.OTHER: {"currency", "amount"},
}

# One value per field, as an auditor would write it, for a letter with every column filled.
VALUES: dict[str, Any] = {
    "account_name": "上海江南精密机械股份有限公司",
    "account_no": "31050161373600001234",
    "currency": "CNY",
    "interest_rate": "0.35",
    "account_type": "basic",
    "deposit_type": "time",
    "balance": "1200000.00",
    "start_date": "2024-03-15",
    "end_date": "2025-03-15",
    "restricted": True,
    "restriction_note": "质押",
    "cash_pooled": True,
    "note": "备注",
    "borrower_name": "上海江南精密机械股份有限公司",
    "principal": "30000000.00",
    "accrued_interest": "31625.00",
    "maturity_date": "2025-06-27",
    "security_note": "厂房抵押",
    "closed_on": "2024-08-20",
    "lender_name": "江南控股集团有限公司",
    "kind": "by_auditee",
    "counterparty_name": "苏州江南精工有限公司",
    "method": "suretyship",
    "amount": "8000000.00",
    "contract_no": "DHYH-2024-0042",
    "bill_no": "131029000001120241105000123456",
    "acceptor_name": "东海银行股份有限公司上海浦东支行",
    "settlement_account_no": "31050161373600001234",
    "face_amount": "1500000.00",
    "issued_on": "2024-10-18",
    "due_on": "2025-04-18",
    "discounted_on": "2024-11-20",
    "discount_rate": "1.55",
    "net_amount": "1490377.08",
    "lc_no": "LC310024000315",
    "beneficiary_name": "Müller Präzisionstechnik GmbH",
    "expires_on": "2025-04-08",
    "unused_amount": "180000.00",
    "bought_currency": "CNY",
    "sold_currency": "USD",
    "bought_amount": "3578500.00",
    "sold_amount": "500000.00",
    "rate": "7.157",
    "settlement_date": "2025-03-28",
    "name": "国有土地使用权证",
    "quantity": "1",
    "document_no": "HU2021-0042",
    "product_code": "DHLC180-2024-11",
    "product_name": "东海银行鑫利180天人民币理财产品",
    "product_type": "closed_end",
    "units": "10000000",
    "net_value": "10086300.00",
    "purchased_on": "2024-11-01",
    "matures_on": "2025-04-30",
    "description": "本公司在贵行的其他业务",
    "provider_name": "上海江南精密机械股份有限公司",
    "provider_account_no": "31050161373600001234",
    "user_name": "江南控股集团有限公司",
    "user_account_no": "31050161373600000001",
    "payer_name": "江南控股集团有限公司",
    "paid_on": "2024-12-18",
    "purpose": "投资款",
}


def _mapped(key: ItemKey) -> set[str]:
    return {field for _, fields in OFFICIAL_COLUMNS[key] for field in fields}


def _full_entry(key: ItemKey) -> dict[str, Any]:
    """An entry of ``key`` with every official column filled in (and the extras it cannot lack)."""
    model = ENTRY_MODELS[key]
    required = {name for name, info in model.model_fields.items() if info.is_required()}
    entry = {field: VALUES[field] for field in _mapped(key) | required}
    if key is ItemKey.LOANS:
        entry["start_date"] = "2024-06-28"
    if key in (ItemKey.ENTRUSTED_LOANS_GIVEN, ItemKey.ENTRUSTED_LOANS_TAKEN):
        entry["start_date"], entry["maturity_date"] = "2024-06-28", "2025-06-27"
    if key is ItemKey.BANK_ACCEPTANCES:
        entry["acceptor_name"] = "东海银行股份有限公司上海浦东支行"
    if key is ItemKey.BILLS_FOR_COLLECTION:
        entry["acceptor_name"] = "浙江东港汽车部件有限公司"
    if key is ItemKey.LETTERS_OF_CREDIT:
        entry["amount"] = "420000.00"
    return entry


def _letter_data(
    entries: dict[ItemKey, dict[str, Any]], letter_format: LetterFormat = LetterFormat.ONE
) -> dict[str, Any]:
    data = sample_letter(letter_format=letter_format).model_dump(mode="json", by_alias=True)
    data["items"] = {key.value: {"entries": [entry]} for key, entry in entries.items()}
    return data


def test_the_table_covers_the_14_items_and_the_annex_in_order_and_the_capital_table() -> None:
    assert list(OFFICIAL_COLUMNS) == list(ItemKey)
    assert list(ItemKey)[: len(STANDARD_ITEMS)] == list(STANDARD_ITEMS)
    assert len(STANDARD_ITEMS) == 15
    assert ITEM_TITLES[ItemKey.FX_CONTRACTS] == "外汇买卖合约"


@pytest.mark.parametrize("key", list(ItemKey), ids=lambda key: key.value)
def test_every_official_column_is_a_field_and_every_field_a_column_or_a_listed_extra(key: ItemKey) -> None:
    fields = set(ENTRY_MODELS[key].model_fields)
    assert _mapped(key) <= fields, f"columns without their field: {_mapped(key) - fields}"
    unexplained = fields - _mapped(key) - EXTRA_FIELDS.get(key, set()) - {"note"}
    assert not unexplained, f"{key.value} fields the template has no column for: {unexplained}"


@pytest.mark.parametrize("key", list(ItemKey), ids=lambda key: key.value)
def test_each_single_field_column_is_titled_as_the_template_names_it(key: ItemKey) -> None:
    titles = FIELD_TITLES[key]
    assert set(titles) == set(ENTRY_MODELS[key].model_fields)  # every field has its column title
    for column, fields in OFFICIAL_COLUMNS[key]:
        if len(fields) == 1 and column not in ("(1)/(2)", "其他事项"):
            assert titles[fields[0]].startswith(column), (key.value, column, titles[fields[0]])


def test_item_3_s_period_is_the_letter_s_own_and_the_auditors() -> None:
    assert {"audit_period", "closed_accounts_period"} <= set(ConfirmationLetter.model_fields)
    data = _letter_data({key: _full_entry(key) for key in STANDARD_ITEMS})
    data["closed_accounts_period"] = {"start": "2024-07-01", "end": "2024-12-31"}
    letter = parse_letter(data)
    assert (str(letter.closed_accounts_period.start), str(letter.closed_accounts_period.end)) == (
        "2024-07-01",
        "2024-12-31",
    )


@pytest.mark.parametrize(
    ("letter_format", "keys"),
    [(LetterFormat.ONE, STANDARD_ITEMS), (LetterFormat.CAPITAL, (ItemKey.CAPITAL_CONTRIBUTIONS,))],
    ids=["standard", "capital"],
)
def test_a_letter_with_every_column_filled_keeps_each_value(
    letter_format: LetterFormat, keys: tuple[ItemKey, ...]
) -> None:
    entries = {key: _full_entry(key) for key in keys}
    letter = parse_letter(_letter_data(entries, letter_format))
    assert [key for key, _ in letter.items.by_key()] == list(keys)
    for key, item in letter.items.by_key():
        (entry,) = item.entries
        stated = entry.model_dump(mode="json")
        for column, fields in OFFICIAL_COLUMNS[key]:
            for field in fields:
                assert stated[field] == entries[key][field], (key.value, column, field)


@pytest.mark.parametrize("key", STANDARD_ITEMS, ids=lambda key: key.value)
def test_format_one_refuses_each_figure_column_left_blank(key: ItemKey) -> None:
    model = ENTRY_MODELS[key]
    for field in model.figures:
        entries = {k: _full_entry(k) for k in STANDARD_ITEMS}
        del entries[key][field]
        with pytest.raises(InvalidDocument) as refused:
            parse_letter(_letter_data(entries))
        assert [e["type"] for e in refused.value.details] == ["figure_blank"], (key.value, field)
        assert field in str(refused.value)
