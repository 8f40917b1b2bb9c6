"""The letter (询证函) and the reply (回函), laid out as the standard letter of 财会〔2020〕12号.

The letter: the 函证编号, the addressee, the request in the template's words, the parties, the
基准日, items 1–14 and the cash-pooling annex each as a table (an unused item says 不适用), the
sign-offs and dates. The reply quotes the 函证编号, states its one 结论 (信息证明无误, or 信息不符
with every difference in words: the item, the account, the currency, the letter's and the bank's
values), answers item by item and names its 经办 and 复核 (or the automated control and who
answers for it). Both end with what a verifier needs to find the document on chain, printed and
as a QR code (``verification_payload``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable  # type: ignore[import-untyped]

from node_gateway.protocol.documents import (
    CONCLUSION_TITLES,
    ConfirmationLetter,
    ConfirmationReply,
    ItemKey,
    ItemStatus,
    LetterFormat,
    Officer,
    Person,
)
from node_gateway.protocol.printing.columns import (
    CLOSING_WORDS,
    DIFFERENCE_LABELS,
    ITEM_STATUS_LABELS,
    column_label,
    entry_currency,
    entry_reference,
    item_heading,
    item_rows,
    item_table,
    show_value,
    stated_value,
)
from node_gateway.protocol.printing.page import (
    CONTENT_WIDTH,
    FONT,
    RULE,
    SHADE,
    QrCode,
    build_pdf,
    escape,
    grid,
    styles,
)

# --- what a verifier needs -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainRecord:
    """Where a printed document is recorded: the network, and the document's salted hash there."""

    chain_id: int
    confirmation_registry: str  # the ConfirmationRegistry's address
    document_hash: str  # the salted keccak256 the chain holds (letterHash or replyHash)


def verification_payload(kind: str, letter_id: str, record: ChainRecord) -> str:
    """What the QR code of a ``kind`` ("letter" or "reply") document carries: a URI naming the
    chain, the registry, the letter and the document's hash on chain, nothing of the document."""
    query = urlencode(
        {
            "chain_id": record.chain_id,
            "registry": record.confirmation_registry,
            "letter_id": letter_id,
            "hash": record.document_hash,
        }
    )
    return f"confirmnet:{kind}?{query}"


# --- shared pieces of both documents ------------------------------------------------------------


def document_number(document: ConfirmationLetter | ConfirmationReply) -> str:
    """The 函证编号 a letter carries or a reply quotes; the letter id where there is none (a
    draft the firm's gateway has not numbered yet)."""
    return document.confirmation_no or document.letter_id


def _bank_name(letter: ConfirmationLetter) -> str:
    return letter.bank.name + (letter.bank.branch or "")


def _facts_table(rows: list[tuple[str, str]], s: dict[str, ParagraphStyle]) -> Table:
    cells = [[Paragraph(escape(k), s["small"]), Paragraph(escape(v), s["small"])] for k, v in rows]
    table = grid(cells, [38 * mm, CONTENT_WIDTH - 38 * mm], header_rows=0)
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), SHADE)]))
    return table


def _verification_block(
    kind: str, letter_id: str, record: ChainRecord, s: dict[str, ParagraphStyle]
) -> Flowable:
    what = "询证函" if kind == "letter" else "回函"
    lines = [
        Paragraph("链上核验信息", s["h2"]),
        Paragraph(
            f"本{what}的数据不上链；链上仅记录其加盐哈希。扫描右侧二维码或按下列信息，在函证网络的链上查询该函证的"
            f"记录，并用证据包中的文件与盐值（confirmnet verify）核对本{what}的哈希。",
            s["small"],
        ),
        Paragraph(f"链 ID：{record.chain_id}", s["mono"]),
        Paragraph(f"合约：ConfirmationRegistry {escape(record.confirmation_registry)}", s["mono"]),
        Paragraph(f"函证 ID：{escape(letter_id)}", s["mono"]),
        Paragraph(f"{what}哈希：{escape(record.document_hash)}", s["mono"]),
    ]
    code = QrCode(verification_payload(kind, letter_id, record))
    table = Table([[lines, code]], colWidths=[CONTENT_WIDTH - 34 * mm, 34 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table


def _closing(parts: list[Flowable], verification: Flowable) -> Flowable:
    """The sign-offs and the verification block, kept on one page."""
    return KeepTogether([Spacer(1, 5 * mm), *parts, Spacer(1, 4 * mm), verification])


def _signature_table(rows: list[list[str]], s: dict[str, ParagraphStyle]) -> Table:
    cells = [[Paragraph(escape(c), s["small"]) for c in row] for row in rows]
    width = CONTENT_WIDTH / len(rows[0])
    table = Table(cells, colWidths=[width] * len(rows[0]))
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def sign_offs(reply: ConfirmationReply) -> tuple[str, str]:
    """Who prepared (经办) and who reviewed (复核) the reply, by name and title; a reply approved
    by the bank's automated control names the control and the person accountable for it."""
    control = reply.automated_control
    if control is not None:
        reviewer = f"{control.name}（自动化控制，直通式回函；负责人：{_person(control.accountable)}）"
    else:
        reviewer = _person(reply.reviewer)
    return _person(reply.preparer), reviewer


def _person(officer: Officer | Person) -> str:
    return f"{officer.name}（{officer.title}）" if officer.title else officer.name


# --- the letter -----------------------------------------------------------------------------------


LETTER_TITLES: dict[LetterFormat, str] = {
    LetterFormat.ONE: "银行询证函",
    LetterFormat.TWO: "银行询证函",
    LetterFormat.CAPITAL: "银行询证函(验资)",
}
"""The letter's title by its format: the 验资 letter has its own (银行函证工作操作指引 附3)."""

_FORMAT_NAMES: dict[LetterFormat, tuple[str, str, str]] = {
    LetterFormat.ONE: ("格式一", "由被审计单位列示信息，银行核对", "财会〔2020〕12号 格式一"),
    LetterFormat.TWO: ("格式二", "由银行填列信息", "财会〔2020〕12号 格式二"),
    LetterFormat.CAPITAL: ("验资", "由被审计单位列示出资者缴款信息，银行核对", "银行函证工作操作指引 附3"),
}
"""Each format's name, what it asks of the bank, and where it is laid down."""


_TO_CHECK = (
    "（1）如与贵行记录相符，请在回函“结论”部分确认；（2）如有不符，请在回函“结论”部分列明不符项目及具体内容。"
)
_ASKED: dict[LetterFormat, str] = {
    LetterFormat.ONE: f"下列第1—14项及附表信息出自本公司的记录：{_TO_CHECK}",
    LetterFormat.TWO: "请贵行根据本公司与贵行之间的业务往来记录，填列下列第1—14项及附表信息，并在回函“结论”部分确认。",
    LetterFormat.CAPITAL: f"下列出资者缴款信息出自本公司的记录：{_TO_CHECK}",
}
"""What the letter asks of the bank, by its format."""


def _letter_request(letter: ConfirmationLetter) -> list[str]:
    firm = letter.audit_firm.name
    period = letter.audit_period
    if letter.format is LetterFormat.CAPITAL:
        purpose = (
            f"本公司聘请的{firm}正在对本公司截至{letter.reference_date:%Y年%m月%d日}的注册资本实收情况进行审验，"
            "按照国家有关法规的规定和中国注册会计师执业准则的要求，应当询证本公司出资者（股东）向贵行缴存的出资额。"
        )
    else:
        scope = f"{period.start:%Y年%m月%d日}至{period.end:%Y年%m月%d日}期间"
        purpose = (
            f"本公司聘请的{firm}正在对本公司{scope}的财务报表进行审计，按照中国注册会计师审计准则的要求，"
            "应当询证本公司与贵行相关的信息。"
        )
    lines = [purpose, _ASKED[letter.format]]
    lines.append(
        f"本公司谨授权贵行将回函通过银行函证区块链网络直接发送至{firm}（成员编号 {letter.audit_firm.member_no}），"
        "由其函证经办人接收。"
    )
    if (fee := letter.fee_account) is not None:
        lines.append(
            f"本公司谨授权贵行可从本公司{escape(fee.account_name)}账户（账号 {fee.account_no}）"
            "支取办理本询证函回函服务的费用。"
        )
    listed = (
        "本公司出资者向贵行缴存的出资额"
        if letter.format is LetterFormat.CAPITAL
        else "本公司与贵行相关的信息"
    )
    lines.append(f"截至{letter.reference_date:%Y年%m月%d日}，{listed}列示如下：")
    return lines


def _letter_items(letter: ConfirmationLetter, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = []
    for key, item in letter.items.by_key():
        block: list[Flowable] = [Paragraph(escape(item_heading(key)), s["h2"])]
        if key is ItemKey.CLOSED_ACCOUNTS:
            period = letter.closed_accounts_period
            block.append(
                Paragraph(f"自{period.start:%Y年%m月%d日}起至{period.end:%Y年%m月%d日}止", s["small"])
            )
        if item.not_applicable:
            block.append(item_table(key, [], s, spanning="不适用"))
        elif not item.entries:
            block.append(item_table(key, [], s, spanning="由贵行根据记录填列"))
        else:
            block.append(item_table(key, item_rows(key, item.entries), s))
            if key in CLOSING_WORDS and letter.format is LetterFormat.ONE:
                block.append(Paragraph(CLOSING_WORDS[key], s["small"]))
        story.append(KeepTogether(block[:3]))
        story += block[3:]
    return story


def letter_pdf(letter: ConfirmationLetter, record: ChainRecord) -> bytes:
    """The letter as the PDF the firm, the auditee and the bank file."""
    s = styles()
    number = document_number(letter)
    title = LETTER_TITLES[letter.format]
    format_name, format_asks, format_source = _FORMAT_NAMES[letter.format]
    contact = letter.auditee.contact
    firm_contact = show_value(letter.firm_contact)
    facts = [
        ("函证编号", number),
        ("被审计单位", f"{letter.auditee.name}（统一社会信用代码 {letter.auditee.registration_code}）"),
        ("被审计单位联系人", show_value(contact) if contact else "—"),
        ("会计师事务所", f"{letter.audit_firm.name}（成员编号 {letter.audit_firm.member_no}）"),
        ("函证经办人", firm_contact),
        (
            "审验期间" if letter.format is LetterFormat.CAPITAL else "审计期间",
            f"{letter.audit_period.start:%Y年%m月%d日}至{letter.audit_period.end:%Y年%m月%d日}",
        ),
        ("被询证银行", f"{_bank_name(letter)}（成员编号 {letter.bank.member_no}）"),
        ("基准日", f"{letter.reference_date:%Y年%m月%d日}"),
        ("发函日期", f"{letter.issued_on:%Y年%m月%d日}"),
        ("函证格式", f"{format_name}（{format_asks}）"),
    ]
    story: list[Flowable] = [
        Paragraph(f"编号：{escape(number)}", s["number"]),
        Paragraph(escape(title), s["title"]),
        Paragraph(format_source, s["subtitle"]),
        Spacer(1, 3 * mm),
        Paragraph(f"{escape(_bank_name(letter))}：", s["base"]),
        *[Paragraph(line, s["body"]) for line in _letter_request(letter)],
        Spacer(1, 2 * mm),
        _facts_table(facts, s),
        *_letter_items(letter, s),
        _closing(
            [
                Paragraph(
                    "本函由被审计单位在贵行预留的授权签字人以电子签名授权后发出，授权记录于链上；电子签名与签章具有同等效力。"
                    "银行的结论见本函的回函（函证编号同上）。",
                    s["small"],
                ),
                Spacer(1, 3 * mm),
                _signature_table(
                    [
                        [f"被审计单位：{letter.auditee.name}", f"会计师事务所：{letter.audit_firm.name}"],
                        [
                            f"日期：{letter.issued_on:%Y年%m月%d日}",
                            f"函证经办人：{firm_contact}",
                        ],
                    ],
                    s,
                ),
            ],
            _verification_block("letter", letter.letter_id, record, s),
        ),
    ]
    return build_pdf(
        story,
        title=f"{title} {number}",
        author=letter.audit_firm.name,
        created=letter.issued_on,
        footer=f"{title} · 编号 {number} · {letter.auditee.name}",
    )


# --- the reply ------------------------------------------------------------------------------------


def reply_conclusion(reply: ConfirmationReply) -> str:
    """The reply's 结论 in words, as the reply states it."""
    return CONCLUSION_TITLES[reply.conclusion]


def difference_rows(reply: ConfirmationReply, letter: ConfirmationLetter) -> list[list[str]]:
    """Each difference as a row: item, account (or other number), currency, the letter's value,
    the bank's value, what differs — in words."""
    letter_items = dict(letter.items.by_key())
    rows = []
    for key, answer in reply.items.by_key():
        entries = letter_items[key].entries
        for difference in answer.differences:
            entry = (
                entries[difference.entry]
                if difference.entry is not None and difference.entry < len(entries)
                else None
            )
            bank_entry = difference.bank_entry
            if entry is None and bank_entry is not None and bank_entry < len(answer.entries):
                entry = answer.entries[bank_entry]
            reference = difference.reference or (entry_reference(entry) if entry else None)
            currency = difference.currency or (entry_currency(entry) if entry else None)
            what = DIFFERENCE_LABELS.get(difference.reason.value, difference.reason.value)
            if difference.field:
                what += f"：{column_label(key, difference.field)}"
            if difference.note:
                what += f"（{difference.note}）"
            rows.append(
                [
                    item_heading(key),
                    reference or "—",
                    currency or "—",
                    stated_value(key, difference.field, difference.auditor_value),
                    stated_value(key, difference.field, difference.bank_value),
                    what,
                ]
            )
    return rows


def difference_table(
    rows: list[list[str]], s: dict[str, ParagraphStyle], width: float = CONTENT_WIDTH
) -> Table:
    """``difference_rows`` as a table ``width`` wide."""
    header = ["项目", "账号/号码", "币种", "函证所列", "本行记录", "不符内容"]
    shares = [34, 34, 11, 27, 27, CONTENT_WIDTH / mm - 133]
    widths = [width * share / sum(shares) for share in shares]
    cells: list[list[Any]] = [[Paragraph(h, s["head"]) for h in header]]
    cells += [[Paragraph(escape(c), s["cell"]) for c in row] for row in rows]
    return grid(cells, widths)


def _reply_items(
    reply: ConfirmationReply, letter: ConfirmationLetter, s: dict[str, ParagraphStyle]
) -> list[Flowable]:
    letter_items = dict(letter.items.by_key())
    story: list[Flowable] = []
    for key, answer in reply.items.by_key():
        item = letter_items[key]
        status = ITEM_STATUS_LABELS[answer.status]
        heading = Paragraph(
            f"{escape(item_heading(key))}  <font size=9>回函："
            + (f"<font color='#c70d0d'>{status}</font>" if answer.status is ItemStatus.EXCEPTION else status)
            + "</font>",
            s["h2"],
        )
        block: list[Flowable] = [heading]
        if item.entries:
            differing = {d.entry for d in answer.differences if d.entry is not None}
            block.append(item_table(key, item_rows(key, item.entries, differing), s))
        if answer.entries:
            block.append(Paragraph("本行填列：", s["small"]))
            block.append(item_table(key, item_rows(key, answer.entries), s))
        if not item.entries and not answer.entries:
            none = "不适用" if answer.status is ItemStatus.NOT_APPLICABLE else "本行无此项业务记录"
            block.append(item_table(key, [], s, spanning=none))
        story.append(KeepTogether(block[:2]))
        story += block[2:]
    return story


def reply_pdf(reply: ConfirmationReply, letter: ConfirmationLetter, record: ChainRecord) -> bytes:
    """The reply as the PDF the bank and the firm file: the letter's items with the bank's answers."""
    s = styles()
    number = document_number(reply)
    conclusion = reply_conclusion(reply)
    differences = difference_rows(reply, letter)
    no_relationship = reply.no_relationship
    story: list[Flowable] = [
        Paragraph(f"函证编号：{escape(number)}", s["number"]),
        Paragraph(f"{escape(LETTER_TITLES[letter.format])}回函", s["title"]),
        Paragraph("财会〔2020〕12号 以下由被询证银行填列", s["subtitle"]),
        Spacer(1, 3 * mm),
        Paragraph(f"{escape(letter.audit_firm.name)}：", s["base"]),
        Paragraph(
            f"贵所于{letter.issued_on:%Y年%m月%d日}发出的编号为 {escape(number)} 的"
            f"{escape(LETTER_TITLES[letter.format])}（被审计单位："
            f"{escape(letter.auditee.name)}，基准日：{letter.reference_date:%Y年%m月%d日}）本行已收悉。"
            "本行回复如下：",
            s["body"],
        ),
        Spacer(1, 2 * mm),
    ]
    if no_relationship:
        story.append(
            Paragraph("本行与被审计单位无业务关系，本行未记载被审计单位的任何账户或业务。", s["conclusion"])
        )
    if differences:
        story += [
            Paragraph(f"结论：<font color='#c70d0d'>{escape(conclusion)}</font>", s["conclusion"]),
            Paragraph("经本行核对，存在以下不符之处：", s["base"]),
        ]
        story.append(difference_table(differences, s))
    else:
        story += [
            Paragraph(f"结论：{escape(conclusion)}", s["conclusion"]),
            Paragraph("经本行核对，所函证项目与本行记载信息相符。特此函复。", s["base"]),
        ]
    if reply.remarks:
        story.append(Paragraph(f"说明：{escape(reply.remarks)}", s["small"]))
    story += _reply_items(reply, letter, s)
    preparer, reviewer = sign_offs(reply)
    closing = [
        Paragraph(
            "本回函经本行以其在函证网络登记的账户电子签名后记录于链上，电子签名与加盖银行公章具有同等效力。",
            s["small"],
        ),
        Spacer(1, 3 * mm),
        _signature_table(
            [
                [f"被询证银行：{_bank_name(letter)}", f"回函日期：{reply.replied_on:%Y年%m月%d日}"],
                [f"经办人：{preparer}", f"复核人：{reviewer}"],
            ],
            s,
        ),
        Paragraph(f"所回复询证函的哈希：{escape(reply.letter_hash)}", s["mono"]),
    ]
    story.append(_closing(closing, _verification_block("reply", reply.letter_id, record, s)))
    return build_pdf(
        story,
        title=f"银行询证函回函 {number}",
        author=_bank_name(letter),
        created=reply.replied_on,
        footer=f"银行询证函回函 · 编号 {number} · {_bank_name(letter)}",
    )
