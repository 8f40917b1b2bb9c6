"""A bank's business rules (业务规则) for confirmations, as it publishes them to the network: the
items it confirms, the formats it accepts, its fee, whom to contact.

The bank signs the rules with its member key (EIP-191 over a domain tag and the rules' RFC 8785
canonical JSON); an audit firm checks the signer is the bank's current account in the
MemberRegistry before it shows them, so rules that a relay, a cache or another member altered are
refused. They are public: nothing in them concerns a letter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as KeyValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from node_gateway.protocol.documents import Amount, Contact, ItemKey, LetterFormat, MemberNumber, Note
from node_gateway.protocol.errors import InvalidDocument
from node_gateway.protocol.hashing import canonical_bytes, from_hex, to_hex
from node_gateway.protocol.workbook import PlannedLetter, RowIssue

SIGNING_DOMAIN = b"confirmnet/bank-rules/v1\x00"

FORMAT_NAMES: Final[Mapping[LetterFormat, str]] = {
    LetterFormat.ONE: "格式一",
    LetterFormat.TWO: "格式二",
    LetterFormat.CAPITAL: "验资",
}
"""The letter formats as banks and firms name them (财会〔2020〕12号, 操作指引 附3)."""


def format_not_accepted(bank: int, accepted: Sequence[LetterFormat], letter_format: LetterFormat) -> str:
    """Why bank ``bank``, whose rules accept ``accepted``, does not take a ``letter_format`` letter:
    the words the firm's gateway and tools say it in."""

    def named(f: LetterFormat) -> str:
        return f"{FORMAT_NAMES[f]} ({f.value})"

    return (
        f"bank {bank} accepts letters in {', '.join(map(named, accepted))} only (its published rules); "
        f"this letter is {named(letter_format)}"
    )


def format_issues(
    letters: Sequence[PlannedLetter], accepted: Callable[[int], Sequence[LetterFormat] | None]
) -> list[RowIssue]:
    """An issue, beside the format of its first row, for each planned letter (a bulk upload's) in a
    format its bank does not accept; ``accepted`` gives a bank's accepted formats, None where its
    rules are not known (the gateway decides then)."""
    issues = []
    for planned in letters:
        bank, letter_format = planned.letter.bank.member_no, planned.letter.format
        formats = accepted(bank)
        if formats is not None and letter_format not in formats:
            words = format_not_accepted(bank, formats, letter_format)
            issues.append(RowIssue(planned.rows[0], "letter_format", words))
    return issues


Department = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Fee(BaseModel):
    """The bank's fee for a confirmation (函证费), debited from the account a letter names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_letter: Amount | None = Field(None, description="CNY a letter; none: no fee")
    note: Note | None = Field(None, description="How it is charged, as the bank words it")


class BankRules(BaseModel):
    """What the bank confirms and on what terms, as its admin sets them."""

    model_config = ConfigDict(frozen=True, extra="forbid", serialize_by_alias=True)

    schema_id: Literal["confirmnet.bank-rules"] = Field(default="confirmnet.bank-rules", alias="schema")
    version: Literal[1] = 1
    bank_member_no: MemberNumber
    published_at: datetime
    items: list[ItemKey] = Field(min_length=1, description="The items of the standard letter it confirms")
    formats: list[LetterFormat] = Field(min_length=1, description="The letter formats it accepts")
    fee: Fee
    department: Department = Field(description="The confirmation centre (函证中心) or department")
    contact: Contact
    notes: Note | None = None

    @property
    def charges(self) -> bool:
        return self.fee.per_letter is not None and self.fee.per_letter > Decimal(0)


class SignedBankRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: BankRules
    signature: str = Field(description="EIP-191 signature by the bank's member account, 0x hex")


def _message(rules: BankRules) -> bytes:
    return SIGNING_DOMAIN + canonical_bytes(rules)


def sign_rules(rules: BankRules, account: LocalAccount) -> SignedBankRules:
    signed = account.sign_message(encode_defunct(primitive=_message(rules)))
    return SignedBankRules(rules=rules, signature=to_hex(bytes(signed.signature)))


def rules_signer(signed: SignedBankRules) -> str:
    """The account that signed the rules; InvalidDocument if the signature is not one."""
    try:
        return str(
            Account.recover_message(
                encode_defunct(primitive=_message(signed.rules)), signature=from_hex(signed.signature)
            )
        )
    except (ValueError, BadSignature, KeyValidationError) as exc:
        raise InvalidDocument(f"the bank's rules carry no valid signature: {exc}") from exc
