"""The documents members exchange off chain: the confirmation letter (询证函) and the bank's reply (回函).

Both are versioned, frozen pydantic models that forbid unknown fields: what is hashed and
recorded on chain must be exactly what was validated, with no room for a field one side ignores.
The letter follows the standard letter of 财会〔2020〕12号: one reference date, the 14 items in
their order and the cash-pooling annex, each item either explicitly not applicable or a list of
typed entries. Amounts are ``Decimal`` and travel as strings, never as binary floats.

Also here: the reason codes a bank or an auditee's signer records on chain, and the time zone
the letters' dates and deadlines are in (``CHINA_TIME``).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from node_gateway.protocol.errors import InvalidDocument

CHINA_TIME = timezone(timedelta(hours=8), "China Standard Time")
"""UTC+8 all year: the dates of letters and replies, deadlines, and times shown to their users."""

# --- value types -------------------------------------------------------------------------------


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


_BINARY_NUMBERS = (float, bool)  # a tuple: ``float | bool`` would make a union at every call


def _no_binary_float(value: object) -> object:
    # 0.1 as a float is not 0.1: an amount that went through a float may hash differently on
    # the other side, so amounts must come as strings (or integers, or Decimals).
    if isinstance(value, _BINARY_NUMBERS):
        raise ValueError("give amounts and rates as strings, not floats")
    return value


def _finite_decimal(places: int, *, signed: bool, limit: int) -> Callable[[Decimal], Decimal]:
    quantum = Decimal(1).scaleb(-places)
    bound = Decimal(10) ** limit
    zero = Decimal(0).quantize(quantum)

    def check(value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite number")
        if abs(value) >= bound:
            raise ValueError(f"must be below 10^{limit}")
        if not signed and value < 0:
            raise ValueError("must not be negative")
        fixed = value.quantize(quantum)
        if fixed != value:
            raise ValueError(f"at most {places} decimal places")
        return fixed if not value.is_zero() else zero  # "-0.00" is 0.00

    return check


def _fixed_point(value: Decimal) -> str:
    return format(value, "f")


def _shortest(value: Decimal) -> str:
    # "3.450" and "3.45" are the same rate: serialise the shortest form so both hash alike.
    return format(value.normalize(), "f")


Amount = Annotated[
    Decimal,
    AfterValidator(_finite_decimal(2, signed=False, limit=18)),
    BeforeValidator(_no_binary_float),
    PlainSerializer(_fixed_point, return_type=str, when_used="json"),
]
"""A non-negative amount of money with at most 2 decimal places; JSON ``"1234.50"``."""

SignedAmount = Annotated[
    Decimal,
    AfterValidator(_finite_decimal(2, signed=True, limit=18)),
    BeforeValidator(_no_binary_float),
    PlainSerializer(_fixed_point, return_type=str, when_used="json"),
]
"""An amount that may be negative (an overdrawn balance, money received into a pool)."""

Percent = Annotated[
    Decimal,
    AfterValidator(_finite_decimal(6, signed=True, limit=4)),
    BeforeValidator(_no_binary_float),
    PlainSerializer(_shortest, return_type=str, when_used="json"),
]
"""A rate in per cent per year, e.g. ``"3.45"``; negative rates exist in some currencies."""

ExchangeRate = Annotated[
    Decimal,
    AfterValidator(_finite_decimal(8, signed=False, limit=8)),
    BeforeValidator(_no_binary_float),
    PlainSerializer(_shortest, return_type=str, when_used="json"),
]
"""An FX contract's rate: units of the bought currency per one unit of the sold currency.

The one direction everywhere (letters, replies, the bank's core rows, the demo data): the contract's
amounts satisfy ``bought_amount = sold_amount × rate``. Selling USD 500,000 for CNY at 7.157 is
``7.157``; buying USD 500,000 with CNY 3,578,500 is ``0.13972`` (see :class:`FxContract`)."""

Quantity = Annotated[
    Decimal,
    AfterValidator(_finite_decimal(4, signed=False, limit=18)),
    BeforeValidator(_no_binary_float),
    PlainSerializer(_shortest, return_type=str, when_used="json"),
]
"""A number of units (shares, certificates)."""

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 alphabetic code such as ``CNY`` or ``USD``."""

Bytes32Hex = Annotated[str, BeforeValidator(_lower), StringConstraints(pattern=r"^0x[0-9a-f]{64}$")]
"""32 bytes as ``0x`` and 64 lower-case hex digits (upper case is accepted and lowered)."""

LetterId = Bytes32Hex
"""The letter's id on chain (``bytes32``), chosen at random by the requesting firm."""

MemberNumber = Annotated[int, Field(ge=1, le=0xFFFF_FFFF)]
"""A member's number in the MemberRegistry (``uint32``, assigned at admission)."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Note = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Reference = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z\-/.]{0,63}$")]
"""An account, contract, bill or product number as the bank writes it."""

_REGISTRATION_CODE = re.compile(r"[0-9A-Z]{8,32}")


def normalise_registration_code(code: str) -> str:
    """Return a registration code (统一社会信用代码 or older code) in its one canonical spelling.

    Codes are typed by hand on both sides, often with full-width characters, lower case or
    separators; the auditee reference and organisation id must not depend on that.
    """
    text = unicodedata.normalize("NFKC", code).upper()
    text = re.sub(r"[\s\-]", "", text)
    if not _REGISTRATION_CODE.fullmatch(text):
        raise ValueError("a registration code is 8 to 32 letters and digits")
    return text


RegistrationCode = Annotated[str, AfterValidator(normalise_registration_code)]

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(body: str) -> str:
    """A unified social credit code (统一社会信用代码, GB 32100-2015): its 17 characters and the
    check character computed from them."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def new_letter_id() -> str:
    """A fresh random letter id; random so that ids reveal nothing and never collide."""
    return "0x" + secrets.token_hex(32)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, serialize_by_alias=True)


# --- parties -----------------------------------------------------------------------------------


class AuditFirm(_Model):
    """The requesting audit firm (会计师事务所)."""

    member_no: MemberNumber
    name: Name


class Bank(_Model):
    """The confirming bank (银行), optionally the branch that keeps the accounts."""

    member_no: MemberNumber
    name: Name
    branch: Name | None = None


class Contact(_Model):
    """Someone at the auditee the bank may call about the letter."""

    name: Name
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 \-]{4,31}$")] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)] | None = None


class Auditee(_Model):
    """The audited entity (被审计单位) whose banking relations are confirmed."""

    name: Name
    registration_code: RegistrationCode
    contact: Contact | None = None


class FirmContact(Contact):
    """The firm's 函证经办人: who the bank asks about the letter, with a phone or an email."""

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.phone is None and self.email is None:
            raise PydanticCustomError("contact_unreachable", "the firm's contact needs a phone or an email")
        return self


class Period(_Model):
    """A span of dates, both days included (自…起至…止)."""

    start: date
    end: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.start > self.end:
            raise ValueError("start is after end")
        return self


class FeeAccount(_Model):
    """The account the bank debits its confirmation fee (函证费) from."""

    account_no: Reference
    account_name: Name


class Officer(_Model):
    """A bank officer who signs off a reply: their user id at the bank, and their name and title
    (职务) as the bank's user records hold them."""

    officer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Name
    title: Name | None = None


# --- entries: one class per kind of item --------------------------------------------------------


class AccountType(StrEnum):
    """The account as the bank classes it (人民币银行结算账户管理办法), apart from its product."""

    BASIC = "basic"  # 基本存款账户
    GENERAL = "general"  # 一般存款账户
    SPECIAL = "special"  # 专用存款账户
    TEMPORARY = "temporary"  # 临时存款账户
    OTHER = "other"  # outside the four RMB settlement classes (外汇账户 and the like)


class DepositType(StrEnum):
    """The deposit product held in the account."""

    DEMAND = "demand"  # 活期
    TIME = "time"  # 定期
    CALL = "call"  # 通知存款
    MARGIN = "margin"  # 保证金
    STRUCTURED = "structured"  # 结构性存款
    OTHER = "other"


class GuaranteeKind(StrEnum):
    BY_AUDITEE = "by_auditee"  # the auditee guarantees another party, with the bank as beneficiary
    BY_BANK = "by_bank"  # the bank guarantees for the auditee (保函 and the like)


class ProductType(StrEnum):
    """A wealth-management product's type (产品类型)."""

    CLOSED_END = "closed_end"  # 封闭式
    OPEN_END = "open_end"  # 开放式


class GuaranteeMethod(StrEnum):
    SURETYSHIP = "suretyship"  # 保证
    MORTGAGE = "mortgage"  # 抵押
    PLEDGE = "pledge"  # 质押
    LETTER_OF_GUARANTEE = "letter_of_guarantee"  # 保函
    OTHER = "other"


class Entry(_Model):
    """One line of an item.

    ``figures`` names the fields the auditor states in format one and the bank fills in format
    two: they are optional in the model and required by the letter when its format is one.
    """

    figures: ClassVar[tuple[str, ...]] = ()
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = ()

    note: Note | None = None  # 备注

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        for start, end in self.date_ranges:
            first, last = getattr(self, start), getattr(self, end)
            if first is not None and last is not None and first > last:
                raise ValueError(f"{start} is after {end}")
        return self

    def missing_figures(self) -> list[str]:
        """The figures this entry leaves for the bank to fill in."""
        return [name for name in self.figures if getattr(self, name) is None]


EntrySelf = TypeVar("EntrySelf", bound=Entry)


def _restriction_explained(entry: EntrySelf, restricted: bool, note: str | None) -> EntrySelf:
    # A restriction is only useful to the auditor with what it is; a note without one is noise.
    if restricted != (note is not None):
        raise ValueError("a restricted entry needs a restriction_note, and only a restricted one")
    return entry


class DepositAccount(Entry):
    """1 银行存款: an account at the bank, including zero-balance ones."""

    figures: ClassVar[tuple[str, ...]] = ("balance",)
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (("start_date", "end_date"),)

    account_no: Reference
    account_name: Name
    currency: Currency
    account_type: AccountType  # 账户类型, as the bank classes the account
    deposit_type: DepositType  # the product: 活期, 定期, 通知, 保证金, 结构性存款
    balance: SignedAmount | None = None
    interest_rate: Percent | None = None
    start_date: date | None = None  # 起息日, for time deposits
    end_date: date | None = None  # 到期日
    restricted: bool = False  # 冻结、担保或其他使用限制
    restriction_note: Note | None = None
    cash_pooled: bool = False  # 是否属于资金归集账户

    @model_validator(mode="after")
    def _restriction_explained(self) -> Self:
        return _restriction_explained(self, self.restricted, self.restriction_note)


class _Borrowing(Entry):
    figures: ClassVar[tuple[str, ...]] = ("principal", "start_date", "maturity_date")
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (("start_date", "maturity_date"),)

    account_no: Reference
    currency: Currency
    principal: Amount | None = None  # outstanding at the reference date
    start_date: date | None = None
    maturity_date: date | None = None
    interest_rate: Percent | None = None


class Loan(_Borrowing):
    """2 银行借款: a loan from the bank; its balance as 本息, the principal and the accrued interest apart."""

    figures: ClassVar[tuple[str, ...]] = (
        "borrower_name",
        "principal",
        "accrued_interest",
        "start_date",
        "maturity_date",
    )

    borrower_name: Name | None = None  # 借款人名称: the auditee, or a group company it borrows for
    accrued_interest: Amount | None = None  # 应计利息 unpaid at the reference date
    contract_no: Reference | None = None
    security_note: Note | None = None  # 抵(质)押品/担保人


class EntrustedLoanGiven(_Borrowing):
    """4 委托贷款, the auditee as entrustor: money lent through the bank to a borrower."""

    account_name: Name  # 账户名称 of the settlement account
    borrower_name: Name


class EntrustedLoanTaken(_Borrowing):
    """5 委托贷款, the auditee as borrower: money received through the bank from a lender."""

    account_name: Name  # 账户名称 of the settlement account
    lender_name: Name


class ClosedAccount(Entry):
    """3 期内注销账户: an account closed within the letter's ``closed_accounts_period``."""

    figures: ClassVar[tuple[str, ...]] = ("closed_on",)

    account_no: Reference
    account_name: Name
    currency: Currency
    closed_on: date | None = None


class Guarantee(Entry):
    """6 担保(含保函)."""

    figures: ClassVar[tuple[str, ...]] = ("amount", "end_date")
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (("start_date", "end_date"),)

    kind: GuaranteeKind
    counterparty_name: Name  # the party guaranteed (by_auditee) or the beneficiary (by_bank)
    method: GuaranteeMethod
    contract_no: Reference | None = None
    currency: Currency
    amount: Amount | None = None
    start_date: date | None = None
    end_date: date | None = None
    purpose: Note | None = None  # 担保事由


class BankAcceptance(Entry):
    """7 银行承兑汇票: a bill drawn by the auditee and accepted by the bank, not yet due."""

    figures: ClassVar[tuple[str, ...]] = ("face_amount", "issued_on", "due_on")
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (("issued_on", "due_on"),)

    bill_no: Reference
    acceptor_name: Name | None = None  # 承兑银行: the bank, or the branch that accepted the bill
    settlement_account_no: Reference | None = None
    currency: Currency
    face_amount: Amount | None = None
    issued_on: date | None = None
    due_on: date | None = None
    security_note: Note | None = None  # 保证金, 抵(质)押品


class DiscountedBill(Entry):
    """8 已贴现未到期商业汇票."""

    figures: ClassVar[tuple[str, ...]] = (
        "face_amount",
        "issued_on",
        "due_on",
        "discounted_on",
        "discount_rate",
        "net_amount",
    )
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (
        ("issued_on", "discounted_on"),
        ("discounted_on", "due_on"),
        ("issued_on", "due_on"),
    )

    bill_no: Reference
    acceptor_name: Name
    currency: Currency
    face_amount: Amount | None = None
    issued_on: date | None = None  # 出票日
    due_on: date | None = None
    discounted_on: date | None = None
    discount_rate: Percent | None = None  # 贴现率, per cent per year
    net_amount: Amount | None = None  # 贴现净额: what the bank paid out

    @model_validator(mode="after")
    def _net_within_face(self) -> Self:
        if (
            self.net_amount is not None
            and self.face_amount is not None
            and self.net_amount > self.face_amount
        ):
            raise ValueError("net_amount exceeds face_amount")
        return self


class BillForCollection(Entry):
    """9 托收商业汇票: a bill the bank collects for the auditee."""

    figures: ClassVar[tuple[str, ...]] = ("face_amount", "due_on")
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (("issued_on", "due_on"),)

    bill_no: Reference
    acceptor_name: Name
    currency: Currency
    face_amount: Amount | None = None
    issued_on: date | None = None
    due_on: date | None = None


class LetterOfCredit(Entry):
    """10 不可撤销信用证: issued by the bank at the auditee's request, not yet expired."""

    figures: ClassVar[tuple[str, ...]] = ("amount", "unused_amount", "expires_on")
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (("issued_on", "expires_on"),)

    lc_no: Reference
    beneficiary_name: Name
    currency: Currency
    amount: Amount | None = None
    unused_amount: Amount | None = None
    issued_on: date | None = None
    expires_on: date | None = None


FX_RATE_TOLERANCE = Decimal("0.001")
"""How far (relatively) ``sold_amount × rate`` may stray from ``bought_amount``: rounding of the
amounts and a rate quoted to four places, never a rate written the other way round."""


def fx_rate(bought_amount: Decimal, sold_amount: Decimal) -> Decimal:
    """The rate of a contract buying ``bought_amount`` for ``sold_amount``, in the one direction
    (:data:`ExchangeRate`), to 8 places."""
    return (bought_amount / sold_amount).quantize(Decimal("1e-8"))


class FxContract(Entry):
    """11 外汇买卖合约: an FX contract not yet settled (类别: what it buys and what it sells).

    ``rate`` is units of the bought currency per unit of the sold currency, so
    ``bought_amount = sold_amount × rate``; a letter or a core record stating all three is checked
    against that, so a rate written the other way round is refused where it is written.
    """

    figures: ClassVar[tuple[str, ...]] = ("bought_amount", "sold_amount", "rate", "settlement_date")

    contract_no: Reference
    bought_currency: Currency
    bought_amount: Amount | None = None
    sold_currency: Currency
    sold_amount: Amount | None = None
    rate: ExchangeRate | None = None
    settlement_date: date | None = None

    @model_validator(mode="after")
    def _two_currencies(self) -> Self:
        if self.bought_currency == self.sold_currency:
            raise ValueError("an FX contract buys one currency and sells another")
        return self

    @model_validator(mode="after")
    def _rate_in_its_direction(self) -> Self:
        bought, sold, rate = self.bought_amount, self.sold_amount, self.rate
        if bought is None or sold is None or rate is None or not sold:
            return self
        if abs(sold * rate - bought) > max(Decimal("0.01"), bought * FX_RATE_TOLERANCE):
            raise PydanticCustomError(
                "fx_rate_direction",
                "the rate is {bought} per {sold} (bought_amount = sold_amount × rate): "
                "for these amounts about {expected}, not {rate}",
                {
                    "bought": self.bought_currency,
                    "sold": self.sold_currency,
                    "expected": str(fx_rate(bought, sold).normalize()),
                    "rate": str(rate),
                },
            )
        return self


class CustodyHolding(Entry):
    """12 托管证券或其他产权文件: securities or title documents the bank holds for the auditee."""

    figures: ClassVar[tuple[str, ...]] = ("quantity",)

    name: Name
    document_no: Reference | None = None
    quantity: Quantity | None = None
    currency: Currency | None = None
    amount: Amount | None = None

    @model_validator(mode="after")
    def _amount_has_currency(self) -> Self:
        if self.amount is not None and self.currency is None:
            raise ValueError("an amount needs a currency")
        return self


class WealthProduct(Entry):
    """13 理财产品: a wealth-management product bought through the bank."""

    figures: ClassVar[tuple[str, ...]] = ("units", "net_value")
    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = (("purchased_on", "matures_on"),)

    product_code: Reference
    product_name: Name
    product_type: ProductType  # 产品类型: 封闭式 or 开放式
    account_no: Reference | None = None
    currency: Currency
    units: Quantity | None = None  # 持有份额 at the reference date
    net_value: Amount | None = None  # 产品净值 of the holding at the reference date
    purchased_on: date | None = None
    matures_on: date | None = None
    principal_protected: bool | None = None  # 保本 or not, when the product says
    restricted: bool = False  # 用于担保或存在其他使用限制
    restriction_note: Note | None = None

    @model_validator(mode="after")
    def _restriction_explained(self) -> Self:
        return _restriction_explained(self, self.restricted, self.restriction_note)


class OtherMatter(Entry):
    """14 其他: anything else the auditor asks the bank to confirm."""

    description: Note
    currency: Currency | None = None
    amount: SignedAmount | None = None

    @model_validator(mode="after")
    def _amount_has_currency(self) -> Self:
        if self.amount is not None and self.currency is None:
            raise ValueError("an amount needs a currency")
        return self


class CashPoolAccount(Entry):
    """Annex 资金归集(资金池): money moved between group accounts by a pooling arrangement."""

    figures: ClassVar[tuple[str, ...]] = ("balance",)

    provider_name: Name  # 资金提供机构
    provider_account_no: Reference
    user_name: Name  # 资金使用机构
    user_account_no: Reference
    currency: Currency
    balance: SignedAmount | None = None  # positive: paid out by the auditee; negative: received


class CapitalContribution(Entry):
    """验资 (银行询证函(验资), 操作指引 附3): one contribution an investor paid into the auditee's
    capital account. The auditor states every column; the bank confirms each against its credits."""

    payer_name: Name  # 缴款人
    paid_on: date  # 缴款日期
    account_no: Reference  # 缴入账号
    currency: Currency
    amount: Amount  # 金额
    purpose: Note | None = None  # 款项用途


# --- items -------------------------------------------------------------------------------------


class ItemKey(StrEnum):
    """The items of the standard letter in their order; each value is a field of the item sets."""

    DEPOSITS = "deposits"
    LOANS = "loans"
    CLOSED_ACCOUNTS = "closed_accounts"
    ENTRUSTED_LOANS_GIVEN = "entrusted_loans_given"
    ENTRUSTED_LOANS_TAKEN = "entrusted_loans_taken"
    GUARANTEES = "guarantees"
    BANK_ACCEPTANCES = "bank_acceptances"
    DISCOUNTED_BILLS = "discounted_bills"
    BILLS_FOR_COLLECTION = "bills_for_collection"
    LETTERS_OF_CREDIT = "letters_of_credit"
    FX_CONTRACTS = "fx_contracts"
    CUSTODY = "custody"
    WEALTH_PRODUCTS = "wealth_products"
    OTHER = "other"
    CASH_POOLING = "cash_pooling"
    CAPITAL_CONTRIBUTIONS = "capital_contributions"  # the 验资 letter's one item


STANDARD_ITEMS: tuple[ItemKey, ...] = tuple(
    key for key in ItemKey if key is not ItemKey.CAPITAL_CONTRIBUTIONS
)
"""The 14 items and the annex of the standard letter (formats one and two)."""
CAPITAL_ITEMS: tuple[ItemKey, ...] = (ItemKey.CAPITAL_CONTRIBUTIONS,)
"""The items of the 验资 letter: its contributions."""

ITEM_TITLES: Mapping[ItemKey, str] = {
    ItemKey.DEPOSITS: "银行存款",
    ItemKey.LOANS: "银行借款",
    ItemKey.CLOSED_ACCOUNTS: "期内注销账户",
    ItemKey.ENTRUSTED_LOANS_GIVEN: "委托贷款(委托人)",
    ItemKey.ENTRUSTED_LOANS_TAKEN: "委托贷款(借款人)",
    ItemKey.GUARANTEES: "担保(含保函)",
    ItemKey.BANK_ACCEPTANCES: "银行承兑汇票",
    ItemKey.DISCOUNTED_BILLS: "已贴现未到期商业汇票",
    ItemKey.BILLS_FOR_COLLECTION: "托收商业汇票",
    ItemKey.LETTERS_OF_CREDIT: "不可撤销信用证",
    ItemKey.FX_CONTRACTS: "外汇买卖合约",
    ItemKey.CUSTODY: "托管证券或其他产权文件",
    ItemKey.WEALTH_PRODUCTS: "理财产品",
    ItemKey.OTHER: "其他",
    ItemKey.CASH_POOLING: "资金归集(资金池)",
    ItemKey.CAPITAL_CONTRIBUTIONS: "投资者缴款",
}
"""The Chinese title of each item, as printed on the standard letter."""

_ACCOUNT = {"account_no": "银行账号", "account_name": "账户名称", "currency": "币种"}
_BORROWING = {
    "account_no": "银行结算账号",
    "account_name": "账户名称",
    "currency": "币种",
    "interest_rate": "利率",
    "principal": "余额",
    "start_date": "贷款起始日期",
    "maturity_date": "贷款到期日期",
}
_BILL = {
    "bill_no": "汇票号码",
    "currency": "币种",
    "face_amount": "票面金额",
    "issued_on": "出票日",
    "due_on": "到期日",
}
_RESTRICTION = {"restricted": "是否用于担保或存在其他使用限制", "restriction_note": "使用限制说明"}

_COLUMN_TITLES: Mapping[ItemKey, Mapping[str, str]] = {
    ItemKey.DEPOSITS: _ACCOUNT
    | _RESTRICTION
    | {
        "interest_rate": "利率",
        "account_type": "账户类型",
        "deposit_type": "存款种类",
        "balance": "余额",
        "start_date": "起始日期",
        "end_date": "终止日期",
        "cash_pooled": "是否属于资金归集账户",
    },
    ItemKey.LOANS: {
        "borrower_name": "借款人名称",
        "account_no": "银行账号",
        "currency": "币种",
        "principal": "余额(本金)",
        "accrued_interest": "余额(利息)",
        "start_date": "借款日期",
        "maturity_date": "到期日期",
        "interest_rate": "利率",
        "security_note": "抵(质)押品/担保人",
        "contract_no": "借款合同编号",
    },
    ItemKey.CLOSED_ACCOUNTS: _ACCOUNT | {"closed_on": "注销账户日"},
    ItemKey.ENTRUSTED_LOANS_GIVEN: _BORROWING | {"borrower_name": "资金借入方"},
    ItemKey.ENTRUSTED_LOANS_TAKEN: _BORROWING | {"lender_name": "资金借出方"},
    ItemKey.GUARANTEES: {
        "kind": "担保类别",
        "counterparty_name": "被担保人",
        "method": "担保方式",
        "currency": "币种",
        "amount": "担保余额/金额",
        "start_date": "担保起始日",
        "end_date": "担保到期日",
        "contract_no": "担保合同编号",
        "purpose": "担保事由",
    },
    ItemKey.BANK_ACCEPTANCES: _BILL
    | {"acceptor_name": "承兑银行", "settlement_account_no": "结算账号", "security_note": "抵(质)押品"},
    ItemKey.DISCOUNTED_BILLS: _BILL
    | {
        "acceptor_name": "承兑人",
        "discounted_on": "贴现日",
        "discount_rate": "贴现率",
        "net_amount": "贴现净额",
    },
    ItemKey.BILLS_FOR_COLLECTION: _BILL | {"acceptor_name": "承兑人"},
    ItemKey.LETTERS_OF_CREDIT: {
        "lc_no": "信用证号码",
        "beneficiary_name": "受益人",
        "currency": "币种",
        "amount": "信用证金额",
        "unused_amount": "未使用金额",
        "issued_on": "开证日",
        "expires_on": "到期日",
    },
    ItemKey.FX_CONTRACTS: {
        "contract_no": "合约号码",
        "bought_currency": "买入币种",
        "bought_amount": "未履行的合约买入金额",
        "sold_currency": "卖出币种",
        "sold_amount": "未履行的合约卖出金额",
        "rate": "汇率(买入币种/卖出币种)",
        "settlement_date": "交收日期",
    },
    ItemKey.CUSTODY: {
        "name": "名称",
        "quantity": "数量",
        "document_no": "号码/产权文件编号",
        "currency": "币种",
        "amount": "金额",
    },
    ItemKey.WEALTH_PRODUCTS: _RESTRICTION
    | {
        "product_code": "产品代码",
        "product_name": "产品名称",
        "product_type": "产品类型",
        "account_no": "购买账号",
        "currency": "币种",
        "units": "持有份额",
        "net_value": "产品净值",
        "purchased_on": "购买日",
        "matures_on": "到期日",
        "principal_protected": "是否保本",
    },
    ItemKey.OTHER: {"description": "事项", "currency": "币种", "amount": "金额"},
    ItemKey.CAPITAL_CONTRIBUTIONS: {
        "payer_name": "缴款人",
        "paid_on": "缴款日期",
        "account_no": "缴入账号",
        "currency": "币种",
        "amount": "金额",
        "purpose": "款项用途",
    },
    ItemKey.CASH_POOLING: {
        "provider_name": "资金提供机构名称",
        "provider_account_no": "资金提供机构账号",
        "user_name": "资金使用机构名称",
        "user_account_no": "资金使用机构账号",
        "currency": "币种",
        "balance": "截至基准日拨入或拨出资金余额(拨出为正,拨入为负)",
    },
}
FIELD_TITLES: Mapping[ItemKey, Mapping[str, str]] = {
    key: {**titles, "note": "备注"} for key, titles in _COLUMN_TITLES.items()
}
"""Each item's fields by the column titles of the standard letter (and the titles of the fields the
standard letter leaves to 备注): for pages, PDFs and sheets."""

EntryT = TypeVar("EntryT", bound=Entry)

_MAX_ENTRIES = 10_000


class Item(_Model, Generic[EntryT]):
    """One item of a letter: explicitly not applicable, or its entries.

    An item with neither is blank; only a format-two letter may leave an item blank, for the bank
    to fill in.
    """

    not_applicable: bool = False
    entries: tuple[EntryT, ...] = Field(default=(), max_length=_MAX_ENTRIES)

    @model_validator(mode="after")
    def _not_both(self) -> Self:
        if self.not_applicable and self.entries:
            raise ValueError("an item marked not applicable cannot have entries")
        return self

    @property
    def blank(self) -> bool:
        return not self.not_applicable and not self.entries


def _fill_other_format(data: Any, applies: Callable[[Any], bool], not_applicable: object) -> Any:
    """Item sets given as a mapping: the 验资 item, absent on a standard letter's (all made before
    it existed), is not applicable; where the 验资 item applies, the standard items, which its
    letter does not carry, are."""
    if not isinstance(data, Mapping):
        return data
    capital = data.get(ItemKey.CAPITAL_CONTRIBUTIONS.value)
    if capital is None or not applies(capital):
        return data
    return {key.value: not_applicable for key in STANDARD_ITEMS} | dict(data)


def _item_applies(item: Any) -> bool:
    marked = (
        item.not_applicable
        if isinstance(item, Item)
        else isinstance(item, Mapping) and item.get("not_applicable")
    )
    return not marked


_ITEM_NOT_APPLICABLE: Item[Any] = Item(not_applicable=True)


class LetterItems(_Model):
    """The items of a letter, all present, in the order of the standard letter.

    A standard letter (formats one and two) carries the 14 items and the annex; its 验资 item is
    not applicable and left out of its serialised form, so letters made before the 验资 format
    keep their hashes. A 验资 letter carries its contributions; its standard items are not
    applicable (filled in as such where a mapping leaves them out).
    """

    deposits: Item[DepositAccount]
    loans: Item[Loan]
    closed_accounts: Item[ClosedAccount]
    entrusted_loans_given: Item[EntrustedLoanGiven]
    entrusted_loans_taken: Item[EntrustedLoanTaken]
    guarantees: Item[Guarantee]
    bank_acceptances: Item[BankAcceptance]
    discounted_bills: Item[DiscountedBill]
    bills_for_collection: Item[BillForCollection]
    letters_of_credit: Item[LetterOfCredit]
    fx_contracts: Item[FxContract]
    custody: Item[CustodyHolding]
    wealth_products: Item[WealthProduct]
    other: Item[OtherMatter]
    cash_pooling: Item[CashPoolAccount]
    capital_contributions: Item[CapitalContribution] = Field(
        default=_ITEM_NOT_APPLICABLE, exclude_if=lambda item: item.not_applicable
    )

    @model_validator(mode="before")
    @classmethod
    def _standard_or_capital(cls, data: Any) -> Any:
        return _fill_other_format(data, _item_applies, {"not_applicable": True})

    @property
    def capital(self) -> bool:
        """Whether these are a 验资 letter's items (its contributions item applies)."""
        return not self.capital_contributions.not_applicable

    def by_key(self) -> list[tuple[ItemKey, Item[Any]]]:
        """The items the letter carries, in letter order, with their keys: the standard ones, or
        the 验资 letter's contributions."""
        keys = CAPITAL_ITEMS if self.capital else STANDARD_ITEMS
        return [(key, getattr(self, key.value)) for key in keys]


def entry_model(key: ItemKey) -> type[Entry]:
    """The entry class of an item, read from the letter's schema."""
    annotation = LetterItems.model_fields[key.value].annotation
    model: type[Entry] = annotation.__pydantic_generic_metadata__["args"][0]  # type: ignore[union-attr]
    return model


ENTRY_MODELS: Mapping[ItemKey, type[Entry]] = {key: entry_model(key) for key in ItemKey}
"""Each item's entry class."""


def _money(metadata: Iterable[object]) -> bool:
    return any(isinstance(m, PlainSerializer) and m.func is _fixed_point for m in metadata)


def _holds_money(field: FieldInfo) -> bool:
    """Whether a field is an ``Amount`` or a ``SignedAmount``, optional or not."""
    options = get_args(field.annotation)
    return _money(field.metadata) or any(_money(getattr(option, "__metadata__", ())) for option in options)


AMOUNT_FIELDS: frozenset[str] = frozenset(
    name
    for model in ENTRY_MODELS.values()
    for name, field in model.model_fields.items()
    if _holds_money(field)
)
"""The entries' money fields, whatever the item (balances, principal and interest, face and net
amounts, a product's net value…): what a straight-through limit counts, what pages group."""


class LetterFormat(StrEnum):
    ONE = "one"  # 格式一: the auditor states the figures, the bank confirms or corrects them
    TWO = "two"  # 格式二: the bank fills in the figures
    CAPITAL = "capital"  # 验资 (操作指引 附3): investors' contributions paid into the capital account


def format_items(letter_format: LetterFormat) -> tuple[ItemKey, ...]:
    """The items a letter of ``letter_format`` carries, in their order."""
    return CAPITAL_ITEMS if letter_format is LetterFormat.CAPITAL else STANDARD_ITEMS


CONFIRMATION_NO_PATTERN = r"^[0-9A-Z]{1,16}-[0-9]{4}-[0-9]{6}$"
ConfirmationNo = Annotated[str, StringConstraints(pattern=CONFIRMATION_NO_PATTERN)]
"""A letter's 函证编号 as people quote it: the firm's prefix, the year and a sequence number,
``MJ-2025-000017``; assigned by the firm's gateway when it creates the letter, unique per firm."""


def format_confirmation_no(prefix: str, year: int, sequence: int) -> str:
    """The 函证编号 of a firm's ``sequence``-th letter of ``year``."""
    return f"{prefix}-{year:04d}-{sequence:06d}"


def _letter_rule(code: str, message: str) -> PydanticCustomError:
    # The error's type is the rule's stable code: clients and the pages tell the rules apart by it.
    return PydanticCustomError(code, message)


class ConfirmationLetter(_Model):
    """A bank confirmation letter (询证函), as the audit firm composes it.

    Besides the parties and the items it names the firm's 函证经办人 (``firm_contact``), the audit
    period, the period item 3 covers (自…起至…, chosen by the auditor: the audit period unless
    given), and the account the bank debits its fee from (required in format two, where the
    操作指引 asks for it with the scope). ``confirmation_no`` is the 函证编号: the firm's gateway
    assigns it when it creates the letter, so a draft comes without one and a letter a bank
    receives always has one.
    """

    schema_id: Literal["confirmnet.letter"] = Field(default="confirmnet.letter", alias="schema")
    version: Literal[1] = 1
    letter_id: LetterId
    confirmation_no: ConfirmationNo | None = None  # 函证编号
    corrects: LetterId | None = None  # the rejected letter this one corrects (after a notice)
    format: LetterFormat
    reference_date: date  # 基准日
    issued_on: date
    audit_period: Period  # 审计期间
    closed_accounts_period: Period  # item 3's 自…起至…
    audit_firm: AuditFirm
    firm_contact: FirmContact  # 函证经办人
    bank: Bank
    auditee: Auditee
    fee_account: FeeAccount | None = None  # 扣费账户
    items: LetterItems

    @model_validator(mode="before")
    @classmethod
    def _closed_accounts_over_the_audit_period(cls, data: Any) -> Any:
        if (
            isinstance(data, Mapping)
            and data.get("closed_accounts_period") is None
            and "audit_period" in data
        ):
            return {**data, "closed_accounts_period": data["audit_period"]}
        return data

    @model_validator(mode="after")
    def _closed_accounts_period_ends_by_the_reference_date(self) -> Self:
        if self.closed_accounts_period.end > self.reference_date:
            raise _letter_rule(
                "closed_accounts_period_after_reference_date",
                "the period of item 3 (closed accounts) ends after the reference date",
            )
        return self

    @model_validator(mode="after")
    def _items_of_its_format(self) -> Self:
        # Runs before the figure checks, so a 验资 letter's own problems are named by its rules.
        capital = self.items.capital_contributions
        if self.format is not LetterFormat.CAPITAL:
            if not capital.not_applicable:
                raise _letter_rule(
                    "capital_item_outside_capital_format",
                    "item capital_contributions: only a capital-verification (验资) letter lists "
                    "capital contributions",
                )
            return self
        if not capital.entries:
            raise _letter_rule(
                "capital_contributions_blank",
                "item capital_contributions: a capital-verification (验资) letter lists the "
                "contributions it asks the bank to confirm",
            )
        if applying := [
            key.value for key in STANDARD_ITEMS if not getattr(self.items, key.value).not_applicable
        ]:
            raise _letter_rule(
                "standard_item_in_capital_letter",
                f"a capital-verification (验资) letter marks the standard items not applicable: {', '.join(applying)}",
            )
        return self

    @model_validator(mode="after")
    def _format_one_states_every_figure(self) -> Self:
        if self.format is LetterFormat.TWO:
            return self
        for key, item in self.items.by_key():
            if item.blank:
                raise _letter_rule(
                    "item_blank", f"item {key.value} is blank: list its entries or mark it not applicable"
                )
            for index, entry in enumerate(item.entries):
                if missing := entry.missing_figures():
                    raise _letter_rule(
                        "figure_blank",
                        f"{key.value}[{index}] leaves {', '.join(missing)} blank; "
                        "a format-one letter states every figure",
                    )
        return self

    @model_validator(mode="after")
    def _format_two_states_its_scope(self) -> Self:
        if self.format is not LetterFormat.TWO:
            return self
        if not any(item.entries for _, item in self.items.by_key()):
            raise _letter_rule(
                "format_two_blank",
                "a format-two letter lists what the auditor knows (at least the auditee's accounts "
                "at the bank); a blank one is refused",
            )
        if self.fee_account is None:
            raise _letter_rule(
                "fee_account_missing", "a format-two letter names the account for the bank's fee"
            )
        return self


# --- reply -------------------------------------------------------------------------------------


class ItemStatus(StrEnum):
    CONFIRMED = "confirmed"  # 信息证明无误
    EXCEPTION = "exception"  # 信息不符
    NOT_APPLICABLE = "not_applicable"


class DifferenceReason(StrEnum):
    DIFFERENT_VALUE = "different_value"  # the bank's records hold another value
    UNKNOWN_TO_BANK = "unknown_to_bank"  # the auditor lists something the bank does not know
    NOT_LISTED_BY_AUDITOR = "not_listed_by_auditor"  # the bank knows something the auditor left out
    CLOSED_ACCOUNT = "closed_account"  # the auditor lists an account the bank has closed
    OTHER = "other"


class Difference(_Model):
    """One stated difference (差异) between the letter and the bank's records.

    ``reference`` and ``currency`` name the entry it is about as the standard letter does (its
    account, contract, bill or product number and its currency), so that the difference reads on
    its own; ``bank_entry`` points at the bank's entry in the reply item for something the auditor
    did not list.
    """

    reason: DifferenceReason
    entry: int | None = Field(default=None, ge=0)  # index into the letter item's entries
    bank_entry: int | None = Field(default=None, ge=0)  # index into the reply item's entries
    field: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = None
    reference: Reference | None = None  # 账号 (or the contract, bill or product number)
    currency: Currency | None = None
    auditor_value: Name | None = None
    bank_value: Name | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _complete_for_its_reason(self) -> Self:
        reason = self.reason
        if reason is DifferenceReason.NOT_LISTED_BY_AUDITOR:
            if self.entry is not None:
                raise ValueError("a difference for something the auditor did not list names no entry")
        elif reason is not DifferenceReason.OTHER and self.entry is None:
            raise ValueError(f"a {reason.value} difference names the entry it is about")
        if self.bank_entry is not None and reason is not DifferenceReason.NOT_LISTED_BY_AUDITOR:
            raise ValueError("only a not_listed_by_auditor difference points at the bank's entry")
        if reason is DifferenceReason.DIFFERENT_VALUE:
            if self.field is None or self.bank_value is None:
                raise ValueError("a different_value difference names the field and the bank's value")
            if self.auditor_value == self.bank_value:
                raise ValueError("the auditor's and the bank's values are the same")
        if reason is DifferenceReason.OTHER and self.note is None:
            raise ValueError("an 'other' difference needs a note")
        return self


class ItemReply(_Model, Generic[EntryT]):
    """The bank's answer to one item.

    ``entries`` holds what the bank fills in: every entry in format two, and in format one the
    entries the auditor did not list (each with a ``not_listed_by_auditor`` difference).
    """

    status: ItemStatus
    differences: tuple[Difference, ...] = Field(default=(), max_length=_MAX_ENTRIES)
    entries: tuple[EntryT, ...] = Field(default=(), max_length=_MAX_ENTRIES)

    @model_validator(mode="after")
    def _consistent_with_status(self) -> Self:
        if self.status is ItemStatus.EXCEPTION and not self.differences:
            raise ValueError("an exception states at least one difference")
        if self.status is not ItemStatus.EXCEPTION and self.differences:
            raise ValueError(f"a {self.status.value} item states no differences")
        if self.status is ItemStatus.NOT_APPLICABLE and self.entries:
            raise ValueError("a not_applicable item has no entries")
        for difference in self.differences:
            if difference.bank_entry is not None and difference.bank_entry >= len(self.entries):
                raise ValueError(f"bank_entry {difference.bank_entry} is not among the item's entries")
        return self


def _answer_applies(answer: Any) -> bool:
    status = (
        answer.status
        if isinstance(answer, ItemReply)
        else isinstance(answer, Mapping) and answer.get("status")
    )
    return status not in (ItemStatus.NOT_APPLICABLE, ItemStatus.NOT_APPLICABLE.value)


_ANSWER_NOT_APPLICABLE: ItemReply[Any] = ItemReply(status=ItemStatus.NOT_APPLICABLE)


class ReplyItems(_Model):
    """The bank's answer to each item of its letter, in letter order: the 14 items and the annex,
    or a 验资 letter's contributions (as with the letter's items, the other format's answers are
    not applicable, and a standard reply leaves its 验资 answer out of its serialised form)."""

    deposits: ItemReply[DepositAccount]
    loans: ItemReply[Loan]
    closed_accounts: ItemReply[ClosedAccount]
    entrusted_loans_given: ItemReply[EntrustedLoanGiven]
    entrusted_loans_taken: ItemReply[EntrustedLoanTaken]
    guarantees: ItemReply[Guarantee]
    bank_acceptances: ItemReply[BankAcceptance]
    discounted_bills: ItemReply[DiscountedBill]
    bills_for_collection: ItemReply[BillForCollection]
    letters_of_credit: ItemReply[LetterOfCredit]
    fx_contracts: ItemReply[FxContract]
    custody: ItemReply[CustodyHolding]
    wealth_products: ItemReply[WealthProduct]
    other: ItemReply[OtherMatter]
    cash_pooling: ItemReply[CashPoolAccount]
    capital_contributions: ItemReply[CapitalContribution] = Field(
        default=_ANSWER_NOT_APPLICABLE, exclude_if=lambda answer: answer.status is ItemStatus.NOT_APPLICABLE
    )

    @model_validator(mode="before")
    @classmethod
    def _standard_or_capital(cls, data: Any) -> Any:
        return _fill_other_format(data, _answer_applies, {"status": ItemStatus.NOT_APPLICABLE.value})

    @model_validator(mode="after")
    def _one_format(self) -> Self:
        if self.capital and any(
            getattr(self, key.value).status is not ItemStatus.NOT_APPLICABLE for key in STANDARD_ITEMS
        ):
            raise ValueError("a reply to a capital-verification (验资) letter answers only its contributions")
        return self

    @property
    def capital(self) -> bool:
        """Whether this answers a 验资 letter (its contributions answer applies)."""
        return self.capital_contributions.status is not ItemStatus.NOT_APPLICABLE

    def by_key(self) -> list[tuple[ItemKey, ItemReply[Any]]]:
        """The answers to the items the letter carries, in letter order, with their keys."""
        keys = CAPITAL_ITEMS if self.capital else STANDARD_ITEMS
        return [(key, getattr(self, key.value)) for key in keys]


class Conclusion(StrEnum):
    """The reply's one conclusion (结论) over all its items."""

    CONFIRMED = "confirmed"  # 信息证明无误: every item confirmed or not applicable
    EXCEPTIONS = "exceptions"  # 信息不符: at least one item states differences


CONCLUSION_TITLES: Mapping[Conclusion, str] = {
    Conclusion.CONFIRMED: "信息证明无误",
    Conclusion.EXCEPTIONS: "信息不符",
}
"""The conclusion as the reply states it in words."""


class Person(_Model):
    """Someone named on a document by name and title (职务)."""

    name: Name
    title: Name


class AutomatedControl(_Model):
    """The bank's automated control that approved a reply without a person's review (直通式回函),
    and the person accountable for it (name and title): an automated reply needs complete system
    controls, and someone answers for them."""

    # The reviewer's officer id on a reply the control approved.
    control_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Name  # what the bank calls the control
    accountable: Person


QuotedNumber = Annotated[str, StringConstraints(min_length=1, max_length=80)]
"""The letter's 函证编号 as a reply or notice quotes it (its letter id where it has none)."""


def quoted_number(letter: ConfirmationLetter) -> str:
    """What a reply or a notice quotes of ``letter``: its 函证编号, or its letter id without one."""
    return letter.confirmation_no or letter.letter_id


class ConfirmationReply(_Model):
    """The bank's reply (回函) to one letter, bound to the exact letter by its hash.

    ``conclusion`` states the items' result in one word (信息证明无误 / 信息不符) and must agree with
    them. ``no_relationship``: the bank holds no relationship with the auditee (本行与被审计单位无
    业务关系), audit evidence the auditor must see; such a reply lists nothing of the bank's and
    states every entry the auditor listed as unknown to the bank. The preparer (经办) and reviewer
    (复核) are people by name and title, unless ``automated_control`` approved the reply: then the
    reviewer is that control, and the control names who is accountable for it.
    """

    schema_id: Literal["confirmnet.reply"] = Field(default="confirmnet.reply", alias="schema")
    version: Literal[2] = 2
    letter_id: LetterId
    confirmation_no: QuotedNumber  # 函证编号, quoted from the letter
    letter_hash: Bytes32Hex  # the salted letter hash recorded on chain at request
    bank_member_no: MemberNumber
    replied_on: date
    conclusion: Conclusion
    no_relationship: bool = False
    items: ReplyItems
    preparer: Officer  # 经办人
    reviewer: Officer  # 复核人
    automated_control: AutomatedControl | None = None
    remarks: Note | None = None

    @model_validator(mode="after")
    def _four_eyes(self) -> Self:
        if self.preparer.officer_id.casefold() == self.reviewer.officer_id.casefold():
            raise ValueError("the reviewer must be another officer than the preparer")
        control = self.automated_control
        if control is not None and control.control_id != self.reviewer.officer_id:
            raise ValueError("an automated control approves a reply as its reviewer")
        return self

    @model_validator(mode="after")
    def _conclusion_agrees(self) -> Self:
        stated = Conclusion.EXCEPTIONS if self.has_exceptions else Conclusion.CONFIRMED
        if self.conclusion is not stated:
            raise ValueError(f"the conclusion is {self.conclusion.value} but the items say {stated.value}")
        return self

    @model_validator(mode="after")
    def _no_relationship_holds_nothing(self) -> Self:
        if not self.no_relationship:
            return self
        for key, item in self.items.by_key():
            if item.entries:
                raise ValueError(f"a bank with no relationship lists no entries ({key.value})")
            if any(d.reason is not DifferenceReason.UNKNOWN_TO_BANK for d in item.differences):
                raise ValueError(
                    f"a bank with no relationship states only entries unknown to it ({key.value})"
                )
        return self

    @property
    def has_exceptions(self) -> bool:
        return any(item.status is ItemStatus.EXCEPTION for _, item in self.items.by_key())

    def differences(self) -> list[tuple[ItemKey, Difference]]:
        """Every stated difference with its item, in letter order: the list behind 信息不符."""
        return [(key, d) for key, item in self.items.by_key() for d in item.differences]


def conclusion_of(items: ReplyItems) -> Conclusion:
    """The conclusion that ``items`` make."""
    exceptions = any(item.status is ItemStatus.EXCEPTION for _, item in items.by_key())
    return Conclusion.EXCEPTIONS if exceptions else Conclusion.CONFIRMED


Document = ConfirmationLetter | ConfirmationReply

# --- reason codes recorded on chain (uint16; never renumber) -----------------------------------


class RejectionReason(IntEnum):
    """Why a bank rejects a letter as not compliant: ``reject(letterId, reason)``.

    A bank with no relationship with the auditee does not reject: it replies saying so
    (``ConfirmationReply.no_relationship``). ``UNKNOWN_CUSTOMER`` is for a letter whose auditee
    reference is not the bank's for the auditee it names.
    """

    INCOMPLETE = 1
    REFERENCE_DATE_INVALID = 2
    UNKNOWN_CUSTOMER = 3
    AUTHORISATION_INVALID = 4
    NOT_FROM_AUDIT_FIRM = 5
    UNPAID_FEES = 6  # 函证费 not paid, or the fee account cannot be debited
    FORMAT_NOT_ACCEPTED = 7  # a format or scope this bank does not confirm
    OTHER = 99


REJECTION_TITLES: Mapping[RejectionReason, str] = {
    RejectionReason.INCOMPLETE: "询证函内容不完整",
    RejectionReason.REFERENCE_DATE_INVALID: "基准日或函证日期有误",
    RejectionReason.UNKNOWN_CUSTOMER: "被审计单位信息与本行记录不符",
    RejectionReason.AUTHORISATION_INVALID: "被审计单位授权无效",
    RejectionReason.NOT_FROM_AUDIT_FIRM: "非由会计师事务所发出",
    RejectionReason.UNPAID_FEES: "函证费未支付",
    RejectionReason.FORMAT_NOT_ACCEPTED: "本行不受理该函证格式或范围",
    RejectionReason.OTHER: "其他原因",
}
"""Each rejection reason in words, as a non-compliance notice states it."""


class RefusalReason(IntEnum):
    """Why the auditee's signer refuses to authorise: ``refuseAuthorisation(…, reason)``."""

    NOT_OUR_AUDITOR = 1
    WRONG_CONTENT = 2
    OTHER = 99


REFUSAL_TITLES: Mapping[RefusalReason, str] = {
    RefusalReason.NOT_OUR_AUDITOR: "非本单位聘请的会计师事务所",
    RefusalReason.WRONG_CONTENT: "询证函内容有误",
    RefusalReason.OTHER: "其他原因",
}
"""Each refusal reason in words (ISA 505 ¶8: management's refusal is recorded with its reason)."""


# --- notices -----------------------------------------------------------------------------------


class NonComplianceNotice(_Model):
    """A bank's notice that a letter is not compliant (不符合要求通知), within 3 working days.

    It quotes the letter's 函证编号 and gives the specific reason: the code recorded on chain with
    ``reject`` and, in ``detail``, what exactly falls short. It travels encrypted to the firm, like
    the reply; only the rejection's fact, time and code are on chain.
    """

    schema_id: Literal["confirmnet.notice"] = Field(default="confirmnet.notice", alias="schema")
    version: Literal[1] = 1
    letter_id: LetterId
    confirmation_no: QuotedNumber
    bank_member_no: MemberNumber
    issued_on: date
    reason: RejectionReason
    detail: Note  # the specific reason, as the bank states it
    decided_by: Officer  # the officer, or the bank's automated compliance check

    @property
    def reason_words(self) -> str:
        return REJECTION_TITLES[self.reason]


# --- the firm's words to the bank: follow-ups and withdrawals ----------------------------------

FirmWords = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
"""A follow-up's message or a withdrawal's reason, as the firm's auditor writes it (1-500 characters)."""


class ChainReference(_Model):
    """Where the chain recorded a step: its block and transaction. The recipient finds the step
    there in its own index of the chain; the words themselves are never on chain."""

    block_number: int = Field(ge=0)
    transaction_hash: Bytes32Hex


class FollowUpMessage(_Model):
    """The audit firm's message with a follow-up (催函) of a letter awaiting the bank: the letter's
    ``ordinal``-th ``LetterFollowedUp`` on chain. It travels encrypted to the bank once the
    follow-up is on chain (``recorded``: where); the follow-up's fact and time are on chain only."""

    schema_id: Literal["confirmnet.follow_up"] = Field(default="confirmnet.follow_up", alias="schema")
    version: Literal[1] = 1
    letter_id: LetterId
    firm_member_no: MemberNumber
    ordinal: int = Field(ge=1, le=0x7FFF_FFFF)
    message: FirmWords
    recorded: ChainReference | None = None  # None while the follow-up is on its way to the chain


class WithdrawalReason(_Model):
    """The audit firm's reason in words for withdrawing a letter (撤回), or for its gateway's
    return of a letter the auditee did not authorise in time (``returned``). It travels encrypted
    to the bank once the withdrawal is on chain (``recorded``), if the bank holds the letter."""

    schema_id: Literal["confirmnet.withdrawal"] = Field(default="confirmnet.withdrawal", alias="schema")
    version: Literal[1] = 1
    letter_id: LetterId
    firm_member_no: MemberNumber
    reason_text: FirmWords
    returned: Literal["not_authorised_in_time"] | None = None
    recorded: ChainReference | None = None


# --- parsing at the edge -----------------------------------------------------------------------

DocumentT = TypeVar(
    "DocumentT", ConfirmationLetter, ConfirmationReply, NonComplianceNotice, FollowUpMessage, WithdrawalReason
)


def _parse(model: type[DocumentT], data: str | bytes | Mapping[str, Any]) -> DocumentT:
    try:
        if isinstance(data, str | bytes):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise InvalidDocument(f"not a valid {model.__name__}: {exc}", errors) from exc


def parse_letter(data: str | bytes | Mapping[str, Any]) -> ConfirmationLetter:
    """Validate a letter from JSON text or a mapping; raise ``InvalidDocument`` if it is not one."""
    return _parse(ConfirmationLetter, data)


def parse_reply(data: str | bytes | Mapping[str, Any]) -> ConfirmationReply:
    """Validate a reply from JSON text or a mapping; raise ``InvalidDocument`` if it is not one."""
    return _parse(ConfirmationReply, data)


def parse_notice(data: str | bytes | Mapping[str, Any]) -> NonComplianceNotice:
    """Validate a notice from JSON text or a mapping; raise ``InvalidDocument`` if it is not one."""
    return _parse(NonComplianceNotice, data)


def parse_follow_up(data: str | bytes | Mapping[str, Any]) -> FollowUpMessage:
    """Validate a follow-up's message; raise ``InvalidDocument`` if it is not one."""
    return _parse(FollowUpMessage, data)


def parse_withdrawal(data: str | bytes | Mapping[str, Any]) -> WithdrawalReason:
    """Validate a withdrawal's reason; raise ``InvalidDocument`` if it is not one."""
    return _parse(WithdrawalReason, data)
