"""Realistic sample documents for tests and the demo.

The companies, banks and people are made up; the registration codes are well-formed (their GB
32100-2015 check characters are right), so code that validates them sees real-looking data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from node_gateway.protocol.documents import (
    STANDARD_ITEMS,
    AccountType,
    Auditee,
    AuditFirm,
    Bank,
    BankAcceptance,
    CapitalContribution,
    CashPoolAccount,
    ClosedAccount,
    ConfirmationLetter,
    ConfirmationReply,
    Contact,
    DepositAccount,
    DepositType,
    Difference,
    DifferenceReason,
    DiscountedBill,
    Entry,
    FeeAccount,
    FirmContact,
    FxContract,
    Guarantee,
    GuaranteeKind,
    GuaranteeMethod,
    Item,
    ItemReply,
    ItemStatus,
    LetterFormat,
    LetterItems,
    LetterOfCredit,
    Loan,
    Officer,
    Period,
    ProductType,
    ReplyItems,
    WealthProduct,
    conclusion_of,
    new_letter_id,
    quoted_number,
    uscc,
)
from node_gateway.protocol.hashing import to_hex

AUDITEE_CODE = uscc("91310115MA1H7Q3K2")
AUDIT_FIRM_CODE = uscc("91310000MA1FL2D47")
BANK_CODE = uscc("91310000132209448")

AUDIT_FIRM = AuditFirm(member_no=2, name="明鉴会计师事务所(特殊普通合伙)")
BANK = Bank(member_no=3, name="东海银行股份有限公司", branch="上海浦东支行")
AUDITEE = Auditee(
    name="上海江南精密机械股份有限公司",
    registration_code=AUDITEE_CODE,
    contact=Contact(name="王丽华", phone="+86 21 5888 1234", email="wanglh@jiangnan-precision.example"),
)
FIRM_CONTACT = FirmContact(name="赵敏", phone="+86 21 6350 8800", email="zhaomin@mingjian-cpa.example")
FEE_ACCOUNT = FeeAccount(account_no="31050161373600001234", account_name="上海江南精密机械股份有限公司")


def _deposits(*, figures: bool) -> tuple[DepositAccount, ...]:
    def amount(text: str) -> Decimal | None:
        return Decimal(text) if figures else None

    return (
        DepositAccount(
            account_no="31050161373600001234",
            account_name="上海江南精密机械股份有限公司",
            currency="CNY",
            account_type=AccountType.BASIC,
            deposit_type=DepositType.DEMAND,
            balance=amount("12345678.90"),
            interest_rate=Decimal("0.10") if figures else None,
            cash_pooled=True,
        ),
        DepositAccount(
            account_no="31050161373600005678",
            account_name="上海江南精密机械股份有限公司",
            currency="USD",
            account_type=AccountType.OTHER,
            deposit_type=DepositType.DEMAND,
            note="经常项目外汇结算账户",
            balance=amount("256000.00"),
        ),
        DepositAccount(
            account_no="31050161373600009012",
            account_name="上海江南精密机械股份有限公司",
            currency="CNY",
            account_type=AccountType.GENERAL,
            deposit_type=DepositType.TIME,
            balance=amount("5000000.00"),
            interest_rate=Decimal("1.65") if figures else None,
            start_date=date(2024, 3, 15) if figures else None,
            end_date=date(2025, 3, 15) if figures else None,
        ),
        DepositAccount(
            account_no="31050161373600003456",
            account_name="上海江南精密机械股份有限公司",
            currency="CNY",
            account_type=AccountType.SPECIAL,
            deposit_type=DepositType.MARGIN,
            balance=amount("1200000.00"),
            restricted=True,
            restriction_note="银行承兑汇票保证金",
        ),
        DepositAccount(
            account_no="31050161373600007890",
            account_name="上海江南精密机械股份有限公司",
            currency="CNY",
            account_type=AccountType.GENERAL,
            deposit_type=DepositType.DEMAND,
            balance=amount("0.00"),
            note="零余额",
        ),
    )


def _format_one_items(auditee: Auditee) -> LetterItems:
    """The items of a format-one letter, with every figure stated; the auditee is the borrower of
    its loan (item 2), so a letter composed for another auditee does not differ from its bank there."""
    return LetterItems(
        deposits=Item(entries=_deposits(figures=True)),
        loans=Item(
            entries=(
                Loan(
                    borrower_name=auditee.name,
                    account_no="31050161373600088001",
                    contract_no="DHYH-PD-2024-LD-0168",
                    currency="CNY",
                    principal=Decimal("30000000.00"),
                    accrued_interest=Decimal("31625.00"),
                    start_date=date(2024, 6, 28),
                    maturity_date=date(2025, 6, 27),
                    interest_rate=Decimal("3.45"),
                    security_note="保证:江南控股集团有限公司",
                ),
            )
        ),
        closed_accounts=Item(
            entries=(
                ClosedAccount(
                    account_no="31050161373600002233",
                    account_name="上海江南精密机械股份有限公司",
                    currency="CNY",
                    closed_on=date(2024, 8, 20),
                ),
            )
        ),
        entrusted_loans_given=Item(not_applicable=True),
        entrusted_loans_taken=Item(not_applicable=True),
        guarantees=Item(
            entries=(
                Guarantee(
                    kind=GuaranteeKind.BY_AUDITEE,
                    counterparty_name="苏州江南精工有限公司",
                    method=GuaranteeMethod.SURETYSHIP,
                    contract_no="DHYH-BZ-2024-0042",
                    currency="CNY",
                    amount=Decimal("8000000.00"),
                    start_date=date(2024, 4, 1),
                    end_date=date(2026, 3, 31),
                    purpose="为子公司流动资金借款提供连带责任保证",
                ),
            )
        ),
        bank_acceptances=Item(
            entries=(
                BankAcceptance(
                    bill_no="131029000001120241105000123456",
                    settlement_account_no="31050161373600001234",
                    currency="CNY",
                    face_amount=Decimal("2000000.00"),
                    issued_on=date(2024, 11, 5),
                    due_on=date(2025, 5, 5),
                    security_note="保证金 30%",
                ),
                BankAcceptance(
                    bill_no="131029000001120241212000654321",
                    settlement_account_no="31050161373600001234",
                    currency="CNY",
                    face_amount=Decimal("2000000.00"),
                    issued_on=date(2024, 12, 12),
                    due_on=date(2025, 6, 12),
                    security_note="保证金 30%",
                ),
            )
        ),
        discounted_bills=Item(
            entries=(
                DiscountedBill(
                    bill_no="230529000002320241018000987654",
                    acceptor_name="浙江东港汽车部件有限公司",
                    currency="CNY",
                    face_amount=Decimal("1500000.00"),
                    issued_on=date(2024, 10, 18),
                    discounted_on=date(2024, 11, 20),
                    due_on=date(2025, 4, 18),
                    discount_rate=Decimal("1.55"),
                    net_amount=Decimal("1490377.08"),
                ),
            )
        ),
        bills_for_collection=Item(not_applicable=True),
        letters_of_credit=Item(
            entries=(
                LetterOfCredit(
                    lc_no="LC310024000315",
                    beneficiary_name="Müller Präzisionstechnik GmbH",
                    currency="EUR",
                    amount=Decimal("420000.00"),
                    unused_amount=Decimal("180000.00"),
                    issued_on=date(2024, 10, 8),
                    expires_on=date(2025, 4, 8),
                ),
            )
        ),
        fx_contracts=Item(
            entries=(
                FxContract(
                    contract_no="FX20241126-0007",
                    bought_currency="CNY",
                    bought_amount=Decimal("3578500.00"),
                    sold_currency="USD",
                    sold_amount=Decimal("500000.00"),
                    rate=Decimal("7.157"),
                    settlement_date=date(2025, 3, 28),
                    note="远期结汇",
                ),
            )
        ),
        custody=Item(not_applicable=True),
        wealth_products=Item(
            entries=(
                WealthProduct(
                    product_code="DHLC180-2024-11",
                    product_name="东海银行鑫利180天人民币理财产品",
                    product_type=ProductType.CLOSED_END,
                    account_no="31050161373600001234",
                    currency="CNY",
                    units=Decimal("10000000"),
                    net_value=Decimal("10086300.00"),
                    purchased_on=date(2024, 11, 1),
                    matures_on=date(2025, 4, 30),
                    principal_protected=False,
                ),
            )
        ),
        other=Item(not_applicable=True),
        cash_pooling=Item(
            entries=(
                CashPoolAccount(
                    provider_name="上海江南精密机械股份有限公司",
                    provider_account_no="31050161373600001234",
                    user_name="江南控股集团有限公司",
                    user_account_no="31050161373600000001",
                    currency="CNY",
                    balance=Decimal("3600000.00"),
                ),
            )
        ),
    )


CAPITAL_ACCOUNT_NO = "31050161373600006688"  # the auditee's 验资 account at the bank


def sample_capital_contributions() -> tuple[CapitalContribution, ...]:
    """Two investors' contributions to 江南精密's capital increase, paid into its 验资 account."""
    return (
        CapitalContribution(
            payer_name="江南控股集团有限公司",
            paid_on=date(2024, 12, 18),
            account_no=CAPITAL_ACCOUNT_NO,
            currency="CNY",
            amount=Decimal("30000000.00"),
            purpose="投资款",
        ),
        CapitalContribution(
            payer_name="上海浦江创业投资合伙企业(有限合伙)",
            paid_on=date(2024, 12, 20),
            account_no=CAPITAL_ACCOUNT_NO,
            currency="CNY",
            amount=Decimal("12500000.00"),
            purpose="投资款",
            note="其中 2,500,000.00 元计入资本公积",
        ),
    )


def sample_letter(
    *,
    letter_id: str | None = None,
    letter_format: LetterFormat = LetterFormat.ONE,
    audit_firm: AuditFirm = AUDIT_FIRM,
    bank: Bank = BANK,
    auditee: Auditee = AUDITEE,
    reference_date: date = date(2024, 12, 31),
    issued_on: date = date(2025, 1, 6),
    confirmation_no: str | None = None,
) -> ConfirmationLetter:
    """A year-end letter from 明鉴 to 东海银行 for 江南精密 (a fresh random id unless given), for
    the year that ends on ``reference_date``.

    Format one states every figure. Format two lists the deposit accounts without balances and
    leaves the other items blank for the bank to fill in; it names the fee account, as format two
    must. A 验资 letter lists two investors' contributions to a capital increase, paid into the
    auditee's capital account in December. Without ``confirmation_no`` the letter is a draft, as
    the firm's gateway receives it.
    """
    year = Period(start=date(reference_date.year, 1, 1), end=reference_date)
    if letter_format is LetterFormat.ONE:
        items = _format_one_items(auditee)
    elif letter_format is LetterFormat.CAPITAL:
        items = LetterItems.model_validate(
            {"capital_contributions": Item(entries=sample_capital_contributions())}
        )
    else:
        blank: Item[Entry] = Item()
        items = LetterItems.model_validate(
            {key.value: blank for key in STANDARD_ITEMS}
            | {"deposits": Item(entries=_deposits(figures=False))}
        )
    return ConfirmationLetter(
        letter_id=letter_id or new_letter_id(),
        confirmation_no=confirmation_no,
        format=letter_format,
        reference_date=reference_date,
        issued_on=issued_on,
        audit_period=year,
        closed_accounts_period=year,
        audit_firm=audit_firm,
        firm_contact=FIRM_CONTACT,
        bank=bank,
        auditee=auditee,
        fee_account=FEE_ACCOUNT,
        items=items,
    )


PREPARER = Officer(officer_id="DH-PD-0417", name="陈晓明", title="对公业务经办")
REVIEWER = Officer(officer_id="DH-PD-0233", name="刘建国", title="运营主管")


def sample_reply(
    letter: ConfirmationLetter,
    *,
    letter_hash: bytes,
    replied_on: date = date(2025, 1, 8),
    with_exception: bool = False,
) -> ConfirmationReply:
    """The bank's reply to ``letter``: every item confirmed as the letter states it.

    With ``with_exception`` the first deposit's balance is reported as 100 less (信息不符).
    A format-two letter is answered by confirming what it lists; filling in is the adapter's job.
    """
    answers: dict[str, ItemReply[Entry]] = {}
    for key, item in letter.items.by_key():
        status = ItemStatus.NOT_APPLICABLE if item.not_applicable else ItemStatus.CONFIRMED
        answers[key.value] = ItemReply(status=status)
    if with_exception and letter.items.deposits.entries:
        first = letter.items.deposits.entries[0]
        stated = first.balance if first.balance is not None else Decimal(0)
        answers["deposits"] = ItemReply(
            status=ItemStatus.EXCEPTION,
            differences=(
                Difference(
                    reason=DifferenceReason.DIFFERENT_VALUE,
                    entry=0,
                    field="balance",
                    reference=first.account_no,
                    currency=first.currency,
                    auditor_value=f"{stated:.2f}",
                    bank_value=f"{stated - 100:.2f}",
                    note="基准日当日扣收手续费 100.00 元",
                ),
            ),
        )
    items = ReplyItems.model_validate(answers)
    return ConfirmationReply(
        letter_id=letter.letter_id,
        confirmation_no=quoted_number(letter),
        letter_hash=to_hex(letter_hash),
        bank_member_no=letter.bank.member_no,
        replied_on=replied_on,
        conclusion=conclusion_of(items),
        items=items,
        preparer=PREPARER,
        reviewer=REVIEWER,
    )
