"""The letter and the reply as PDFs: the same documents give the same bytes, every font is
embedded, the QR code decodes to what a verifier needs and no more, and the pages say what the
documents say (the 函证编号, every item with 不适用 marked, the 结论 with each difference, 经办 and
复核)."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pypdf
import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp

from node_gateway.protocol import as_salt, document_hash, to_hex
from node_gateway.protocol.documents import (
    AccountType,
    AutomatedControl,
    Conclusion,
    ConfirmationLetter,
    ConfirmationReply,
    DepositAccount,
    DepositType,
    Difference,
    DifferenceReason,
    Entry,
    ItemKey,
    ItemReply,
    ItemStatus,
    LetterFormat,
    Person,
    ReplyItems,
)
from node_gateway.protocol.printing import (
    ChainRecord,
    document_number,
    letter_pdf,
    reply_conclusion,
    reply_pdf,
    verification_payload,
)
from node_gateway.protocol.printing.columns import entry_model, item_columns, item_heading
from node_gateway.protocol.printing.page import FONT_FILE, FONT_PACKAGE
from node_gateway.protocol.samples import sample_letter, sample_reply

from .pdf_checks import embedded, pdf_fonts, pdf_text

LETTER_ID = "0x" + "5a" * 32
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
LETTER_SALT = as_salt(b"\x01" * 32)
REPLY_SALT = as_salt(b"\x02" * 32)
# Debian's fonts-wqy-microhei 0.2.0-beta-3.1 ships the same file.
WQY_MICROHEI_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"


def _letter() -> ConfirmationLetter:
    return sample_letter(letter_id=LETTER_ID)


def _letter_record(letter: ConfirmationLetter) -> ChainRecord:
    return ChainRecord(31337, REGISTRY, to_hex(document_hash(letter, LETTER_SALT)))


def _reply(letter: ConfirmationLetter, *, with_exception: bool) -> ConfirmationReply:
    return sample_reply(letter, letter_hash=document_hash(letter, LETTER_SALT), with_exception=with_exception)


def _reply_record(reply: ConfirmationReply) -> ChainRecord:
    return ChainRecord(31337, REGISTRY, to_hex(document_hash(reply, REPLY_SALT)))


def _qr_codes(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for index in range(len(document)):
        image = document[index].render(scale=3).to_pil()
        found += [
            code.text
            for code in zxingcpp.read_barcodes(image)
            if code.format == zxingcpp.BarcodeFormat.QRCode
        ]
    return found


def test_the_font_is_debians_wenquanyi_micro_hei() -> None:
    data = resources.files(FONT_PACKAGE).joinpath(FONT_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == WQY_MICROHEI_SHA256


def test_the_same_documents_give_the_same_bytes_in_another_process() -> None:
    letter = _letter()
    first = letter_pdf(letter, _letter_record(letter))
    assert letter_pdf(letter, _letter_record(letter)) == first
    script = (
        "import sys\n"
        "from tests.protocol.test_printing import _letter, _letter_record\n"
        "from node_gateway.protocol.printing import letter_pdf\n"
        "letter = _letter()\n"
        "sys.stdout.buffer.write(letter_pdf(letter, _letter_record(letter)))\n"
    )
    again = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=120
    ).stdout
    assert again == first
    # ...and the PDF's dates are the letter's, not the clock's.
    info = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert info is not None
    assert str(info["/CreationDate"]).startswith(f"D:{letter.issued_on:%Y%m%d}")


@pytest.mark.parametrize("with_exception", [False, True])
def test_every_font_isembedded(with_exception: bool) -> None:
    letter = _letter()
    reply = _reply(letter, with_exception=with_exception)
    for pdf in (letter_pdf(letter, _letter_record(letter)), reply_pdf(reply, letter, _reply_record(reply))):
        fonts = list(pdf_fonts(pdf))
        assert fonts
        assert [name for name, font in fonts if not embedded(font)] == []


def test_the_qr_codes_carry_the_chain_reference_and_nothing_of_the_letter() -> None:
    letter = _letter()
    reply = _reply(letter, with_exception=True)
    letter_record, reply_record = _letter_record(letter), _reply_record(reply)
    assert _qr_codes(letter_pdf(letter, letter_record)) == [
        verification_payload("letter", LETTER_ID, letter_record)
    ]
    assert _qr_codes(reply_pdf(reply, letter, reply_record)) == [
        verification_payload("reply", LETTER_ID, reply_record)
    ]
    payload = urlsplit(verification_payload("reply", LETTER_ID, reply_record))
    assert (payload.scheme, payload.path) == ("confirmnet", "reply")
    assert parse_qs(payload.query) == {
        "chain_id": ["31337"],
        "registry": [REGISTRY],
        "letter_id": [LETTER_ID],
        "hash": [reply_record.document_hash],
    }


def test_the_letter_shows_every_item_with_not_applicable_marked() -> None:
    letter = _letter()
    text = pdf_text(letter_pdf(letter, _letter_record(letter)))
    assert "银行询证函" in text
    assert document_number(letter) in text.replace("\n", "")
    for name in (letter.auditee.name, letter.audit_firm.name, letter.bank.name):
        assert name in text
    assert f"{letter.reference_date:%Y年%m月%d日}" in text
    for key, item in letter.items.by_key():
        assert item_heading(key) in text, key
        for entry in item.entries:
            number = getattr(entry, "account_no", None)
            if number:
                assert number in text.replace("\n", ""), (key, number)
    not_applicable = sum(item.not_applicable for _, item in letter.items.by_key())
    assert not_applicable > 0
    assert text.count("不适用") == not_applicable
    assert "12,345,678.90" in text  # amounts as an accountant writes them


def test_every_column_has_a_chinese_heading() -> None:
    """A field added to an entry shows as a column at once; this holds it to a proper heading."""
    for key in ItemKey:
        for column in item_columns(key):
            assert any("\u4e00" <= c <= "\u9fff" for c in column.heading), (key, column)


def test_a_reply_with_a_difference_says_so_and_names_it() -> None:
    letter = _letter()
    reply = _reply(letter, with_exception=True)
    text = pdf_text(reply_pdf(reply, letter, _reply_record(reply)))
    assert reply_conclusion(reply) == "信息不符"
    assert "结论：信息不符" in text
    first = letter.items.deposits.entries[0]
    stated = first.balance or Decimal(0)
    for expected in (first.account_no, first.currency, f"{stated:,.2f}", f"{stated - 100:,.2f}", "余额"):
        assert expected in text, expected
    for words in (reply.preparer.name, reply.reviewer.name, "经办人", "复核人"):
        assert words in text
    assert document_number(reply) in text.replace("\n", "")


def test_a_clean_reply_is_confirmed_item_by_item() -> None:
    letter = _letter()
    reply = _reply(letter, with_exception=False)
    text = pdf_text(reply_pdf(reply, letter, _reply_record(reply)))
    assert "结论：信息证明无误" in text
    assert "所函证项目与本行记载信息相符" in text
    answers = [answer.status for _, answer in reply.items.by_key()]
    assert text.count("回函：相符") == answers.count(ItemStatus.CONFIRMED)
    assert text.count("回函：不适用") == answers.count(ItemStatus.NOT_APPLICABLE)


def test_every_field_of_an_entry_is_a_column() -> None:
    """New fields of the schema show up in the tables without a change to the printing."""
    for key in ItemKey:
        shown = [name for column in item_columns(key) for name in column.fields]
        assert sorted(shown) == sorted(entry_model(key).model_fields), key
        assert shown[-1] == "note"


def test_a_format_two_letter_leaves_its_blank_items_to_the_bank() -> None:
    letter = sample_letter(
        letter_id=LETTER_ID, letter_format=LetterFormat.TWO, confirmation_no="MJ-2025-000018"
    )
    text = pdf_text(letter_pdf(letter, _letter_record(letter)))
    assert "格式二" in text
    assert "请贵行根据本公司与贵行之间的业务往来记录" in text.replace("\n", "")
    blank = sum(item.blank for _, item in letter.items.by_key())
    assert blank > 0
    assert text.count("由贵行根据记录填列") == blank
    assert letter.fee_account is not None
    assert letter.fee_account.account_no in text


def test_a_bank_without_relationship_and_an_automated_reply_say_so() -> None:
    letter = _letter()
    reply = _reply(letter, with_exception=False)
    answers: dict[str, ItemReply[Entry]] = {}
    for key, item in letter.items.by_key():
        if item.not_applicable:
            answers[key.value] = ItemReply(status=ItemStatus.NOT_APPLICABLE)
            continue
        unknown = tuple(
            Difference(reason=DifferenceReason.UNKNOWN_TO_BANK, entry=index)
            for index in range(len(item.entries))
        )
        answers[key.value] = ItemReply(status=ItemStatus.EXCEPTION, differences=unknown)
    control = AutomatedControl(
        control_id=reply.reviewer.officer_id,
        name="直通式回函控制 STP-01",
        accountable=Person(name="孙立", title="运营管理部总经理"),
    )
    unrelated = reply.model_copy(
        update={
            "items": ReplyItems.model_validate(answers),
            "conclusion": Conclusion.EXCEPTIONS,
            "no_relationship": True,
            "automated_control": control,
        }
    )
    unrelated = ConfirmationReply.model_validate(unrelated.model_dump())  # still a valid reply
    text = pdf_text(reply_pdf(unrelated, letter, _reply_record(unrelated))).replace("\n", "")
    assert "本行与被审计单位无业务关系" in text
    assert "结论：信息不符" in text
    assert text.count("本行无此记录") == sum(len(item.entries) for _, item in letter.items.by_key())
    for words in ("直通式回函控制 STP-01", "自动化控制", "孙立（运营管理部总经理）"):
        assert words in text, words


@pytest.mark.parametrize("name", ["letter.pdf", "reply.pdf"])
def test_the_committed_examples_embed_their_fonts(name: str) -> None:
    pdf = (Path(__file__).resolve().parents[2] / "docs" / "documents" / name).read_bytes()
    fonts = list(pdf_fonts(pdf))
    assert fonts
    assert [font_name for font_name, font in fonts if not embedded(font)] == []
    assert len(_qr_codes(pdf)) == 1


def test_an_account_the_letter_left_out_is_listed_where_the_bank_fills_in() -> None:
    letter = _letter()
    reply = _reply(letter, with_exception=False)
    unlisted = DepositAccount(
        account_no="31050161373600099999",
        account_name=letter.auditee.name,
        currency="HKD",
        account_type=AccountType.GENERAL,
        deposit_type=DepositType.DEMAND,
        balance=Decimal("88.80"),
    )
    difference = Difference(
        reason=DifferenceReason.NOT_LISTED_BY_AUDITOR, bank_entry=0, note="询证函未列示的账户"
    )
    deposits: ItemReply[DepositAccount] = ItemReply(
        status=ItemStatus.EXCEPTION, differences=(difference,), entries=(unlisted,)
    )
    items = reply.items.model_copy(update={"deposits": deposits})
    changed = ConfirmationReply.model_validate(
        reply.model_copy(update={"items": items, "conclusion": Conclusion.EXCEPTIONS}).model_dump()
    )
    text = pdf_text(reply_pdf(changed, letter, _reply_record(changed))).replace("\n", "")
    assert "本行填列" in text
    assert text.count("31050161373600099999") == 2  # in the list of differences and in the bank's table
    assert "本行有记录，询证函未列示" in text
    assert "HKD" in text
