"""Demo data for the reference core bank: many realistic customers, the same for the same seed.

``generate`` makes a book of corporate customers with valid registration codes, several
currencies, monthly balances, zero balances, accounts closed in and before the period, loans,
entrusted loans, guarantees, the three kinds of bills, letters of credit, FX contracts, custody,
wealth products, cash pools and, for every fifth customer, investors' contributions in the period
(the credits a 验资 letter confirms). ``dataset_from_letter`` goes the other way: the core records that
make a letter's every figure true, so a demo or a test can start from a letter the bank confirms.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from bank_adapter.core_rows import (
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
    LoanKind,
    LoanRow,
    WealthHoldingRow,
)
from bank_adapter.deadlines import period_start
from node_gateway.protocol.documents import (
    AccountType,
    ConfirmationLetter,
    DepositType,
    GuaranteeKind,
    GuaranteeMethod,
    ProductType,
    uscc,
)

_USCC_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_REGIONS = {
    "上海": "310115",
    "苏州": "320505",
    "杭州": "330106",
    "深圳": "440305",
    "南京": "320104",
    "宁波": "330212",
}
_BRANDS = ("江南", "东方", "华信", "恒通", "瑞丰", "金桥", "海纳", "远景", "同创", "鼎盛", "新源", "安泰")
_TRADES = ("精密机械", "电子科技", "新材料", "医药", "物流", "食品", "汽车部件", "环保科技", "纺织", "软件")
_FORMS = ("有限公司", "股份有限公司")
_ACCEPTORS = (
    "浙江东港汽车部件有限公司",
    "江苏华泰电气有限公司",
    "广东粤海建材有限公司",
    "山东鲁信机械有限公司",
)
_BENEFICIARIES = (
    "Müller Präzisionstechnik GmbH",
    "Tanaka Seiki Co., Ltd.",
    "Northwind Trading Ltd.",
    "Dupont Industrie SA",
)
_PRODUCTS = (
    ("DHLC90", "鑫利90天人民币理财产品"),
    ("DHLC180", "鑫利180天人民币理财产品"),
    ("DHJX365", "稳健一年期净值型理财产品"),
)
# Rough mid rates, enough for plausible FX contracts: CNY per unit of the foreign currency.
_INVESTORS = ("上海东方创业投资有限公司", "江苏恒通产业投资基金", "浙江瑞丰控股集团有限公司", "张伟", "李娜")
_CNY_PER = {"USD": Decimal("7.15"), "EUR": Decimal("7.80"), "HKD": Decimal("0.92"), "JPY": Decimal("0.048")}
_PRODUCT_TYPES = {
    "DHLC90": ProductType.CLOSED_END,
    "DHLC180": ProductType.CLOSED_END,
    "DHJX365": ProductType.OPEN_END,
}


def month_ends(start: date, end: date) -> Iterator[date]:
    """The last day of every month from ``start``'s to ``end``'s."""
    current = date(start.year, start.month, 1)
    while current <= end:
        following = date(current.year + current.month // 12, current.month % 12 + 1, 1)
        yield following - timedelta(days=1)
        current = following


@dataclass
class _Book:
    """The dataset under construction, with counters that keep numbers unique."""

    rows: CoreDataset = field(default_factory=dict)
    next_account: int = 1

    def add(self, row: CoreRow) -> None:
        self.rows.setdefault(row.table, []).append(row)

    def account_no(self, branch: str) -> str:
        self.next_account += 1
        return f"3105{branch}{self.next_account:012d}"


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """An amount between ``low`` and ``high`` yuan with cents, log-uniform as balances are."""
    value = Decimal(f"{10 ** rng.uniform(len(str(low)) - 1, len(str(high)) - 1):.2f}")
    return min(max(value, Decimal(low)), Decimal(high))


def generate(*, customers: int = 50, seed: int = 1, reference_date: date | None = None) -> CoreDataset:
    """A book of ``customers`` corporate customers as of ``reference_date`` (default: last year end).

    The same arguments always give the same rows.
    """
    as_of = reference_date or date(date.today().year - 1, 12, 31)
    start = period_start(as_of)
    rng = random.Random(seed)  # noqa: S311 -- demo data must repeat for a seed; nothing secret here
    book = _Book()
    codes: set[str] = set()
    for index in range(customers):
        city = rng.choice(list(_REGIONS))
        while True:
            body = "91" + _REGIONS[city] + "".join(rng.choice(_USCC_BODY_CHARS) for _ in range(9))
            code = uscc(body)
            if code not in codes:
                codes.add(code)
                break
        name = f"{city}{rng.choice(_BRANDS)}{rng.choice(_TRADES)}{rng.choice(_FORMS)}"
        if index % 7 == 6:
            name = name.replace("有限公司", f"({index})有限公司")  # a group's numbered subsidiary
        book.add(CustomerRow(registration_code=code, name=name))
        basic = _customer(rng, book, code, name, as_of, start)
        if index % 5 == 2:
            # Their own generator: the other customers' rows stay what they were for the seed.
            credits = random.Random(f"{seed}:capital:{code}")  # noqa: S311 -- demo data, as above
            _capital_credits(credits, book, code, basic, as_of, start)
    return book.rows


def _capital_credits(
    rng: random.Random, book: _Book, code: str, account_no: str, as_of: date, start: date
) -> None:
    """Two or three investors' contributions to the customer's capital (增资) paid into its basic
    account during the period: what a 验资 letter asks the bank to confirm."""
    investors = rng.sample(_INVESTORS, k=rng.choice([2, 3]))
    for number, investor in enumerate(investors):
        book.add(
            CapitalCreditRow(
                credit_no=f"CC-{code[-8:]}-{number}",
                customer_code=code,
                account_no=account_no,
                currency="CNY",
                payer_name=investor,
                paid_on=start + timedelta(days=rng.randrange(30, (as_of - start).days)),
                amount=Decimal(rng.randrange(50, 2000) * 10_000),
                purpose="增资款",
            )
        )


def _customer(rng: random.Random, book: _Book, code: str, name: str, as_of: date, start: date) -> str:
    """The customer's accounts, balances and banking business; its basic account's number."""
    branch = f"{rng.randrange(100, 999)}"
    opened = start - timedelta(days=rng.randrange(200, 3000))

    def account(
        currency: str,
        account_type: AccountType,
        kind: DepositType,
        *,
        closed_on: date | None = None,
        balance: tuple[int, int] | None = (10_000, 50_000_000),
        **extra: object,
    ) -> str:
        number = book.account_no(branch)
        book.add(
            AccountRow.model_validate(
                {
                    "account_no": number,
                    "currency": currency,
                    "customer_code": code,
                    "account_name": name,
                    "account_type": account_type,
                    "deposit_type": kind,
                    "opened_on": opened,
                    "closed_on": closed_on,
                    **extra,
                }
            )
        )
        last = closed_on - timedelta(days=1) if closed_on else as_of
        for day in month_ends(start - timedelta(days=1), last):
            amount = _money(rng, *balance) if balance else Decimal(0)
            book.add(BalanceRow(account_no=number, currency=currency, as_of=min(day, last), balance=amount))
        return number

    basic = account("CNY", AccountType.BASIC, DepositType.DEMAND)
    for currency in rng.sample(["USD", "EUR", "HKD", "JPY"], k=rng.choice([0, 0, 1, 2])):
        account(
            currency,
            AccountType.OTHER,
            DepositType.DEMAND,
            balance=(1_000, 2_000_000),
            note="经常项目外汇结算账户",
        )
    if rng.random() < 0.4:
        account("CNY", AccountType.GENERAL, DepositType.DEMAND, balance=None, note="零余额")
    if rng.random() < 0.5:
        begun = as_of - timedelta(days=rng.randrange(30, 300))
        account(
            "CNY",
            AccountType.GENERAL,
            DepositType.TIME,
            interest_rate=rng.choice([Decimal("1.45"), Decimal("1.65"), Decimal("1.95")]),
            start_date=begun,
            end_date=begun + timedelta(days=365),
        )
    if rng.random() < 0.4:
        account(
            "CNY",
            AccountType.SPECIAL,
            DepositType.MARGIN,
            restricted=True,
            restriction_note="银行承兑汇票保证金",
            balance=(100_000, 5_000_000),
        )
    if rng.random() < 0.3:  # closed during the period: item 3
        account(
            "CNY",
            AccountType.GENERAL,
            DepositType.DEMAND,
            closed_on=start + timedelta(days=rng.randrange(10, 300)),
        )
    if rng.random() < 0.2:  # closed long before: not item 3, yet the bank knows it
        account(
            "CNY",
            AccountType.GENERAL,
            DepositType.DEMAND,
            closed_on=opened + timedelta(days=rng.randrange(30, 150)),
        )

    def loan(kind: LoanKind, started_within: int, principal: tuple[int, int], **extra: object) -> None:
        number = book.account_no(branch)
        begun = as_of - timedelta(days=rng.randrange(30, started_within))
        tenor = rng.choice([365, 730, 1095])
        while begun + timedelta(days=tenor) <= as_of:  # outstanding, and not overdue, at the date
            tenor += 365
        book.add(
            LoanRow.model_validate(
                {
                    "account_no": number,
                    "customer_code": code,
                    "kind": kind,
                    "currency": "CNY",
                    "start_date": begun,
                    "maturity_date": begun + timedelta(days=tenor),
                    **extra,
                }
            )
        )
        amount = _money(rng, *principal)
        # Interest is settled on the 20th of each quarter's last month: what accrued since.
        rate = extra.get("interest_rate")
        accrued = None
        if kind is LoanKind.LOAN and isinstance(rate, Decimal):
            days = (as_of - _last_interest_day(as_of)).days
            accrued = (amount * rate / 100 * days / 360).quantize(Decimal("0.01"))
        book.add(
            BalanceRow(
                account_no=number, currency="CNY", as_of=begun, balance=amount, accrued_interest=accrued
            )
        )

    for _ in range(rng.choice([0, 1, 1, 2])):
        loan(
            LoanKind.LOAN,
            700,
            (1_000_000, 80_000_000),
            contract_no=f"LN-{as_of.year}-{rng.randrange(10**6, 10**7)}",
            interest_rate=rng.choice([Decimal("3.10"), Decimal("3.45"), Decimal("3.85")]),
            security_note=rng.choice(["信用", "保证", "抵押:厂房及土地使用权"]),
        )
    if rng.random() < 0.1:
        side = rng.choice([LoanKind.ENTRUSTED_GIVEN, LoanKind.ENTRUSTED_TAKEN])
        loan(
            side,
            300,
            (500_000, 20_000_000),
            interest_rate=Decimal("4.35"),
            counterparty_name=rng.choice(_ACCEPTORS),
            account_name=name,
        )
    if rng.random() < 0.3:
        begun = as_of - timedelta(days=rng.randrange(30, 400))
        book.add(
            GuaranteeRow(
                contract_no=f"GT-{code[-8:]}-{rng.randrange(1000, 9999)}",
                customer_code=code,
                kind=rng.choice(list(GuaranteeKind)),
                counterparty_name=rng.choice(_ACCEPTORS),
                method=rng.choice([GuaranteeMethod.SURETYSHIP, GuaranteeMethod.LETTER_OF_GUARANTEE]),
                currency="CNY",
                amount=_money(rng, 1_000_000, 30_000_000),
                start_date=begun,
                end_date=begun + timedelta(days=rng.choice([365, 730])),
            )
        )
    for kind in BillKind:
        for _ in range(rng.choice([0, 0, 1, 2])):
            issued = as_of - timedelta(days=rng.randrange(10, 170))
            face = _money(rng, 100_000, 5_000_000)
            discount: dict[str, object] = {}
            if kind is BillKind.DISCOUNTED:
                discount = _discount(face, issued + timedelta(days=5), issued + timedelta(days=180))
            book.add(
                BillRow(
                    bill_no=f"{rng.randrange(10**29, 10**30)}",
                    customer_code=code,
                    kind=kind,
                    currency="CNY",
                    face_amount=face,
                    issued_on=issued,
                    due_on=issued + timedelta(days=180),
                    acceptor_name=None if kind is BillKind.ACCEPTANCE else rng.choice(_ACCEPTORS),
                    settlement_account_no=basic if kind is BillKind.ACCEPTANCE else None,
                    **discount,
                )
            )
    if rng.random() < 0.15:
        issued = as_of - timedelta(days=rng.randrange(10, 120))
        amount = _money(rng, 50_000, 2_000_000)
        book.add(
            LetterOfCreditRow(
                lc_no=f"LC{branch}{rng.randrange(10**8, 10**9)}",
                customer_code=code,
                beneficiary_name=rng.choice(_BENEFICIARIES),
                currency=rng.choice(["USD", "EUR"]),
                amount=amount,
                unused_amount=(amount * Decimal(rng.choice(["0.25", "0.5", "1"]))).quantize(Decimal("0.01")),
                issued_on=issued,
                expires_on=issued + timedelta(days=180),
            )
        )
    if rng.random() < 0.15:
        currency = rng.choice(list(_CNY_PER))
        foreign = _money(rng, 100_000, 5_000_000)
        local = (foreign * _CNY_PER[currency]).quantize(Decimal("0.01"))
        traded = as_of - timedelta(days=rng.randrange(5, 60))
        # 远期结汇 sells the foreign currency for CNY at the quoted rate; 远期售汇 buys it with CNY,
        # its rate in the one direction (units bought per unit sold) the quote's inverse.
        sells_foreign = rng.random() < 0.7
        quoted = _CNY_PER[currency]
        buy, sell, rate = (
            (("CNY", local), (currency, foreign), quoted)
            if sells_foreign
            else ((currency, foreign), ("CNY", local), (1 / quoted).quantize(Decimal("1e-8")))
        )
        book.add(
            FxContractRow(
                contract_no=f"FX{traded:%Y%m%d}-{rng.randrange(1000, 9999)}",
                customer_code=code,
                bought_currency=buy[0],
                bought_amount=buy[1],
                sold_currency=sell[0],
                sold_amount=sell[1],
                rate=rate,
                trade_date=traded,
                settlement_date=as_of + timedelta(days=rng.randrange(10, 120)),
                note="远期结汇" if sells_foreign else "远期售汇",
            )
        )
    if rng.random() < 0.05:
        book.add(
            CustodyRow(
                holding_no=f"CU{branch}{rng.randrange(10**6, 10**7)}",
                customer_code=code,
                name="国有土地使用权证",
                document_no=f"HU{as_of.year - 3}-{rng.randrange(1000, 9999)}",
                quantity=Decimal(1),
                deposited_on=opened,
            )
        )
    if rng.random() < 0.25:
        product, title = rng.choice(_PRODUCTS)
        bought = as_of - timedelta(days=rng.randrange(10, 80))
        units = _money(rng, 1_000_000, 20_000_000).quantize(Decimal(1))
        book.add(
            WealthHoldingRow(
                product_code=f"{product}-{bought:%Y-%m}",
                account_no=basic,
                customer_code=code,
                product_name=f"东海银行{title}",
                product_type=_PRODUCT_TYPES[product],
                currency="CNY",
                units=units,
                net_value=(units * Decimal("1.0123")).quantize(Decimal("0.01")),
                purchased_on=bought,
                matures_on=bought + timedelta(days=180),
                principal_protected=False,
            )
        )
    if rng.random() < 0.1:
        _mark_pooled(book, basic)
        book.add(
            CashPoolRow(
                customer_code=code,
                provider_name=name,
                provider_account_no=basic,
                user_name=f"{name[:2]}控股集团有限公司",
                user_account_no=book.account_no(branch),
                currency="CNY",
                as_of=as_of,
                balance=_money(rng, 100_000, 10_000_000) * rng.choice([1, -1]),
            )
        )
    return basic


def _last_interest_day(as_of: date) -> date:
    """The last quarterly interest day (the 20th of March, June, September, December) before ``as_of``."""
    day = date(as_of.year, as_of.month, 20)
    while day.month % 3 or day >= as_of:
        month = day.month - 1 or 12
        day = date(day.year - (month == 12), month, 20)
    return day


def _discount(face: Decimal, discounted_on: date, due_on: date) -> dict[str, object]:
    """A discounted bill's 贴现日, 贴现率 and 贴现净额 (interest for the days to maturity, 360-day year)."""
    rate = Decimal("1.55")
    interest = (face * rate / 100 * (due_on - discounted_on).days / 360).quantize(Decimal("0.01"))
    return {"discounted_on": discounted_on, "discount_rate": rate, "net_amount": face - interest}


def _mark_pooled(book: _Book, account_no: str) -> None:
    """The account takes part in a cash pool (是否属于资金归集账户: 是)."""
    rows = book.rows[AccountRow.table]
    for index, row in enumerate(rows):
        if isinstance(row, AccountRow) and row.account_no == account_no:
            rows[index] = row.model_copy(update={"cash_pooled": True})


def dataset_from_letter(letter: ConfirmationLetter, *, opened_on: date | None = None) -> CoreDataset:
    """Core records under which every figure of ``letter`` (format one or 验资) is right.

    For demos and tests: load these and the bank confirms the letter item by item. Records get
    the dates a letter leaves out (accounts opened ``opened_on``, default two years before the
    reference date).
    """
    book = _Book()
    as_of = letter.reference_date
    code = letter.auditee.registration_code
    opened = opened_on or as_of - timedelta(days=730)
    items = letter.items
    book.add(CustomerRow(registration_code=code, name=letter.auditee.name))
    for deposit in items.deposits.entries:
        book.add(
            AccountRow(
                customer_code=code,
                opened_on=opened,
                **deposit.model_dump(exclude={"balance"}),
            )
        )
        balance = deposit.balance or Decimal(0)
        book.add(
            BalanceRow(account_no=deposit.account_no, currency=deposit.currency, as_of=as_of, balance=balance)
        )
    for closed in items.closed_accounts.entries:
        book.add(
            AccountRow(
                account_no=closed.account_no,
                currency=closed.currency,
                customer_code=code,
                account_name=closed.account_name,
                account_type=AccountType.GENERAL,
                deposit_type=DepositType.DEMAND,
                opened_on=opened,
                closed_on=closed.closed_on,
            )
        )
    borrowings = (
        [(LoanKind.LOAN, x, None) for x in items.loans.entries]
        + [(LoanKind.ENTRUSTED_GIVEN, x, x.borrower_name) for x in items.entrusted_loans_given.entries]
        + [(LoanKind.ENTRUSTED_TAKEN, x, x.lender_name) for x in items.entrusted_loans_taken.entries]
    )
    for kind, loan, counterparty in borrowings:
        fields = loan.model_dump(
            include={"account_no", "currency", "start_date", "maturity_date", "interest_rate", "note"}
        )
        extra = loan.model_dump(include={"contract_no", "security_note", "account_name"})
        book.add(LoanRow(customer_code=code, kind=kind, counterparty_name=counterparty, **fields, **extra))
        book.add(
            BalanceRow(
                account_no=loan.account_no,
                currency=loan.currency,
                as_of=as_of,
                balance=loan.principal or Decimal(0),
                accrued_interest=getattr(loan, "accrued_interest", None),
            )
        )
    for index, guarantee in enumerate(items.guarantees.entries):
        values = guarantee.model_dump()
        values["contract_no"] = values["contract_no"] or f"GT-{index}"
        values["start_date"] = values["start_date"] or opened
        book.add(GuaranteeRow(customer_code=code, **values))
    for acceptance in items.bank_acceptances.entries:
        book.add(BillRow(customer_code=code, kind=BillKind.ACCEPTANCE, **acceptance.model_dump()))
    for discounted in items.discounted_bills.entries:
        values = discounted.model_dump()
        values["issued_on"] = values["issued_on"] or values["discounted_on"]
        book.add(BillRow(customer_code=code, kind=BillKind.DISCOUNTED, **values))
    for collected in items.bills_for_collection.entries:
        values = collected.model_dump()
        values["issued_on"] = values["issued_on"] or as_of - timedelta(days=30)
        book.add(BillRow(customer_code=code, kind=BillKind.COLLECTION, **values))
    for lc in items.letters_of_credit.entries:
        values = lc.model_dump()
        values["issued_on"] = values["issued_on"] or as_of - timedelta(days=30)
        book.add(LetterOfCreditRow(customer_code=code, **values))
    for fx in items.fx_contracts.entries:
        book.add(FxContractRow(customer_code=code, trade_date=as_of - timedelta(days=30), **fx.model_dump()))
    for number, holding in enumerate(items.custody.entries):
        book.add(
            CustodyRow(
                holding_no=f"CU-{number}", customer_code=code, deposited_on=opened, **holding.model_dump()
            )
        )
    for product in items.wealth_products.entries:
        values = product.model_dump()
        values["account_no"] = values["account_no"] or (
            items.deposits.entries[0].account_no if items.deposits.entries else "0"
        )
        values["purchased_on"] = values["purchased_on"] or as_of - timedelta(days=30)
        book.add(WealthHoldingRow(customer_code=code, **values))
    for pooled in items.cash_pooling.entries:
        book.add(CashPoolRow(customer_code=code, as_of=as_of, **pooled.model_dump()))
    for number, contribution in enumerate(items.capital_contributions.entries):
        book.add(CapitalCreditRow(credit_no=f"CC-{number}", customer_code=code, **contribution.model_dump()))
    return book.rows
