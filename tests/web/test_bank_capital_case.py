"""The bank's case page for a 验资 letter: its format and its one item (the investors'
contributions) in words, none of the standard items, and a draft from the core answering it."""

from __future__ import annotations

from node_gateway.chain.contracts import LetterStatus
from node_gateway.protocol.documents import AuditFirm, Bank, LetterFormat
from node_gateway.protocol.samples import sample_letter
from web.test_bank_pages import BankPages, _post, _store, bank, sign_in

__all__ = ["bank"]


def test_the_case_page_shows_a_capital_letter_s_contributions(bank: BankPages) -> None:
    deployed = bank.gateway.deployment
    letter = sample_letter(
        letter_format=LetterFormat.CAPITAL,
        audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
    )
    _store(bank.gateway, letter, LetterStatus.ACCEPTED)
    case = f"/web/bank/letters/{letter.letter_id}"
    preparer = sign_in(bank.gateway, "li")
    page = preparer.get(case)
    assert page.status_code == 200, page.text
    assert "银行询证函(验资)" in page.text
    assert "验资 投资者缴款" in page.text
    assert "1 银行存款" not in page.text  # a 验资 letter carries no standard item
    for contribution in letter.items.capital_contributions.entries:
        assert contribution.payer_name in page.text

    drafted = _post(preparer, case, f"{case}/draft")
    assert "已编制第 1 稿" in drafted
