"""The 验资 letter and its reply as PDFs: the letter's own title, its contributions as one table
headed in the 附3 columns, none of the standard items, and fonts embedded."""

from __future__ import annotations

from pathlib import Path

from node_gateway.protocol import as_salt, document_hash, to_hex
from node_gateway.protocol.documents import FIELD_TITLES, ITEM_TITLES, ItemKey, LetterFormat
from node_gateway.protocol.printing import ChainRecord, letter_pdf, reply_pdf
from node_gateway.protocol.samples import sample_letter, sample_reply

from .pdf_checks import embedded, pdf_fonts, pdf_text

SALT = as_salt(b"\x03" * 32)
LETTER = sample_letter(
    letter_id="0x" + "6b" * 32, letter_format=LetterFormat.CAPITAL, confirmation_no="MJ-2025-000021"
)


def _record(document_hash_: bytes) -> ChainRecord:
    return ChainRecord(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3", to_hex(document_hash_))


def test_the_capital_letter_prints_with_its_own_title_and_its_contributions() -> None:
    pdf = letter_pdf(LETTER, _record(document_hash(LETTER, SALT)))
    text = pdf_text(pdf)
    flat = text.replace("\n", "")
    assert "银行询证函(验资)" in text
    assert "银行函证工作操作指引 附3" in text
    assert "注册资本实收情况进行审验" in flat
    assert "财会〔2020〕12号" not in text
    for title in FIELD_TITLES[ItemKey.CAPITAL_CONTRIBUTIONS].values():
        assert title in text, title
    for contribution in LETTER.items.capital_contributions.entries:
        assert contribution.payer_name in flat
        assert f"{contribution.amount:,.2f}" in text
    assert "30,000,000.00" in text
    # The 验资 letter is its one table: no standard item, nothing marked 不适用.
    assert ITEM_TITLES[ItemKey.DEPOSITS] not in text
    assert "不适用" not in text
    fonts = list(pdf_fonts(pdf))
    assert fonts
    assert [name for name, font in fonts if not embedded(font)] == []


def test_the_reply_to_a_capital_letter_names_the_capital_letter() -> None:
    letter_hash = document_hash(LETTER, SALT)
    reply = sample_reply(LETTER, letter_hash=letter_hash)
    text = pdf_text(reply_pdf(reply, LETTER, _record(document_hash(reply, SALT))))
    assert "银行询证函(验资)回函" in text
    assert "结论：信息证明无误" in text
    assert text.count("回函：相符") == 1
    assert "回函：不适用" not in text


def test_the_committed_capital_example_is_this_letter_printed_with_its_fonts() -> None:
    pdf = (Path(__file__).resolve().parents[2] / "docs" / "documents" / "capital-letter.pdf").read_bytes()
    assert "银行询证函(验资)" in pdf_text(pdf)
    fonts = list(pdf_fonts(pdf))
    assert fonts
    assert [name for name, font in fonts if not embedded(font)] == []
