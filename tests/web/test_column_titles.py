"""The item columns' headings come from the standard letter's titles, item by item.

One field can head differently in two items: a loan's ``borrower_name`` is 借款人名称 (item 2),
an entrusted loan's 资金借入方 (item 4). The printed letter, the firm's composer and letter page,
and the bank's case page all show each item's own word (they read ``documents.FIELD_TITLES``).
"""

from __future__ import annotations

import re

from gateway.api_apps import Gateway
from protocol.pdf_checks import pdf_text

from node_gateway.chain.contracts import LetterStatus
from node_gateway.protocol import document_hash, to_hex
from node_gateway.protocol.documents import (
    FIELD_TITLES,
    AuditFirm,
    Bank,
    ConfirmationLetter,
    EntrustedLoanGiven,
    ItemKey,
    LetterItems,
)
from node_gateway.protocol.hashing import new_salt
from node_gateway.protocol.printing import ChainRecord, letter_pdf
from node_gateway.protocol.printing.columns import item_heading
from node_gateway.protocol.samples import sample_letter
from node_gateway.web.i18n import FIELD_WORDS
from node_gateway.web.pages import LANG_COOKIE
from web import test_bank_pages, test_firm_pages
from web.test_bank_pages import BankPages, bank, sign_in
from web.test_firm_pages import FirmPages, firm

__all__ = ["bank", "firm"]  # the pages' fixtures, used here

LOAN, ENTRUSTED = "借款人名称", "资金借入方"


def _letter(gw: Gateway | None = None) -> ConfirmationLetter:
    """The sample letter with an entrusted loan in item 4 beside its bank loan in item 2."""
    letter = (
        sample_letter()
        if gw is None
        else sample_letter(
            audit_firm=AuditFirm(member_no=gw.deployment.firm.member_id, name="明鉴会计师事务所"),
            bank=Bank(member_no=gw.deployment.bank.member_id, name="东海银行"),
        )
    )
    (loan,) = letter.items.loans.entries  # lent on through the bank: the same terms, another borrower
    given = EntrustedLoanGiven.model_validate(
        loan.model_dump(include=set(EntrustedLoanGiven.model_fields))
        | {"account_name": letter.auditee.name, "borrower_name": "苏州江南精工有限公司"}
    )
    items = letter.items.model_dump() | {"entrusted_loans_given": {"entries": [given]}}
    return letter.model_copy(update={"items": LetterItems.model_validate(items)})


def _between(text: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + "(.*?)" + re.escape(end), text, re.S)
    assert found, (start, end)
    return found.group(1)


def _items_2_and_4(html: str) -> tuple[str, str]:
    """The parts of a page about item 2 and item 4, each up to the item the page shows next."""

    def part(key: ItemKey) -> str:
        start = f'data-testid="item-{key.value}"'
        assert start in html, key
        return html.split(start, 1)[1].split('data-testid="item-', 1)[0]

    return part(ItemKey.LOANS), part(ItemKey.ENTRUSTED_LOANS_GIVEN)


def _each_item_its_word(loans: str, entrusted: str) -> None:
    assert LOAN in loans
    assert ENTRUSTED not in loans
    assert ENTRUSTED in entrusted
    assert LOAN not in entrusted


def test_the_printed_letter_heads_each_item_s_borrower_in_its_words() -> None:
    letter = _letter()
    record = ChainRecord(31337, "0x" + "00" * 20, to_hex(document_hash(letter, new_salt())))
    text = re.sub(r"\s", "", pdf_text(letter_pdf(letter, record)))  # a heading may wrap in its cell

    def heading(key: ItemKey) -> str:
        return re.sub(r"\s", "", item_heading(key))

    loans = _between(text, heading(ItemKey.LOANS), heading(ItemKey.CLOSED_ACCOUNTS))
    entrusted = _between(text, heading(ItemKey.ENTRUSTED_LOANS_GIVEN), heading(ItemKey.ENTRUSTED_LOANS_TAKEN))
    _each_item_its_word(loans, entrusted)
    assert "苏州江南精工有限公司" in entrusted


def test_the_firm_s_composer_and_letter_page_head_each_item_s_borrower_in_its_words(firm: FirmPages) -> None:
    http = sign_in(firm.gateway, "wang")
    composer = http.get("/web/firm/compose")
    assert composer.status_code == 200
    _each_item_its_word(*_items_2_and_4(composer.text))

    letter = _letter(firm.gateway)
    test_firm_pages._store(firm.gateway, letter, LetterStatus.ACCEPTED, 2**31)
    page = http.get(f"/web/firm/letters/{letter.letter_id}")
    assert page.status_code == 200
    _each_item_its_word(*_items_2_and_4(page.text))
    http.cookies.set(LANG_COOKIE, "en")  # English from the pages' catalogue, by field
    loans, entrusted = _items_2_and_4(http.get(f"/web/firm/letters/{letter.letter_id}").text)
    assert "borrower" in loans
    assert "borrower" in entrusted
    assert ENTRUSTED not in entrusted


def test_the_bank_s_case_page_heads_each_item_s_borrower_in_its_words(bank: BankPages) -> None:
    letter = _letter(bank.gateway)
    test_bank_pages._store(bank.gateway, letter, LetterStatus.ACCEPTED)
    page = sign_in(bank.gateway, "li").get(f"/web/bank/letters/{letter.letter_id}")
    assert page.status_code == 200
    _each_item_its_word(*_items_2_and_4(page.text))
    assert "苏州江南精工有限公司" in page.text


def test_every_field_has_its_english_words() -> None:
    fields = {field for titles in FIELD_TITLES.values() for field in titles}
    assert fields <= set(FIELD_WORDS), fields - set(FIELD_WORDS)
