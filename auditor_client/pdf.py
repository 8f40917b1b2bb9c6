"""A PDF summary of an evidence package for the audit working papers (审计工作底稿).

One page header with the package's identity (its SHA-256, so the working paper points at exactly
one file), the network, and the verification verdict when given; then a table of the letters and
the exceptions the banks reported. Chinese text uses reportlab's built-in CID font STSong-Light,
so no font file is needed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from auditor_client.evidence import EvidenceLetter, EvidencePackage
from auditor_client.verifier import Report
from node_gateway.protocol import (
    CHINA_TIME,
    ITEM_TITLES,
    InvalidDocument,
    ItemStatus,
    parse_letter,
    parse_reply,
)

FONT = "STSong-Light"
_STATUS_ZH = {
    "REQUESTED": "待授权",
    "AUTHORISED": "已授权",
    "ACCEPTED": "银行已受理",
    "REJECTED": "银行退回",
    "REPLIED": "已回函",
    "CLOSED": "已回函并确认",
    "WITHDRAWN": "已撤回",
    "REFUSED": "被审计单位拒绝授权",
    "PENDING": "未上链",
}


def _styles() -> dict[str, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=11)
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=15, leading=20, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
    }


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def _step_time(entry: EvidenceLetter, name: str) -> int | None:
    return next((s.block_timestamp for s in entry.steps if s.name == name), None)


def _reply_result(entry: EvidenceLetter) -> tuple[str, list[str]]:
    """The reply in words: confirmed or with exceptions, and each exception."""
    if entry.reply is None:
        return "-", []
    try:
        reply = parse_reply(entry.reply)
    except InvalidDocument:
        return "无效回函 invalid reply", []
    lines = []
    for key, answer in reply.items.by_key():
        if answer.status is ItemStatus.EXCEPTION:
            for difference in answer.differences:
                detail = " / ".join(
                    x
                    for x in (
                        difference.field,
                        f"函证 {difference.auditor_value}" if difference.auditor_value else None,
                        f"银行 {difference.bank_value}" if difference.bank_value else None,
                        difference.note,
                    )
                    if x
                )
                lines.append(f"{ITEM_TITLES[key]}: {difference.reason.value} - {detail}")
    return ("信息不符 exceptions" if lines else "信息证明无误 confirmed"), lines


def _letter_row(entry: EvidenceLetter, verdicts: dict[str, bool], style: ParagraphStyle) -> list[Any]:
    try:
        letter = parse_letter(entry.letter)
        auditee = f"{letter.auditee.name}<br/>{letter.auditee.registration_code}"
        bank = letter.bank.name + (f" {letter.bank.branch}" if letter.bank.branch else "")
        reference = letter.reference_date.isoformat()
    except InvalidDocument:
        auditee, bank, reference = "无效询证函 invalid letter", str(entry.bank), "-"
    result, _ = _reply_result(entry)
    verdict = verdicts.get(entry.letter_id)
    shown = "-" if verdict is None else ("通过 PASS" if verdict else "未通过 FAIL")
    status = entry.status.upper()
    cells = [
        f"{entry.letter_id[:10]}..{entry.letter_id[-4:]}",
        auditee,
        bank,
        reference,
        f"{_STATUS_ZH.get(status, status)}<br/>{status.lower()}",
        _when(_step_time(entry, "LetterRequested")),
        _when(_step_time(entry, "LetterReplied")),
        result,
        shown,
    ]
    return [Paragraph(str(cell), style) for cell in cells]


def write_summary(
    package: EvidencePackage, package_path: Path, output: Path, *, report: Report | None = None
) -> None:
    """Writes the PDF summary of ``package`` (read from ``package_path``) to ``output``."""
    styles = _styles()
    digest = hashlib.sha256(package_path.read_bytes()).hexdigest()
    story: list[Any] = [
        Paragraph("银行函证电子证据摘要 | Bank confirmation evidence summary", styles["title"]),
        Paragraph(
            f"项目 Engagement: {package.engagement or '-'} | 导出 Exported {package.exported_at:%Y-%m-%d %H:%M} UTC "
            f"by {package.exported_by.name} (member {package.exported_by.member_no})",
            styles["base"],
        ),
        Paragraph(f"证据文件 Package: {package_path.name} | SHA-256 {digest}", styles["small"]),
        Paragraph(
            f"证据文件所称的链 Network as the package states it: chain {package.network.chain_id} | "
            f"MemberRegistry {package.network.member_registry} | "
            f"ConfirmationRegistry {package.network.confirmation_registry} | "
            f"deployed in block {package.network.deployment_block}",
            styles["small"],
        ),
    ]
    if report is not None and report.anchor is not None:
        story.append(Paragraph(f"核验信任锚 Verified from the {report.anchor.describe()}", styles["small"]))
    verdicts: dict[str, bool] = {}
    if report is not None:
        by_subject = report.subjects()
        verdicts = {
            entry.letter_id: all(c.verdict != "fail" for c in by_subject.get(entry.letter_id, []))
            for entry in package.letters
        }
        failed = len(report.failures)
        story.append(
            Paragraph(
                f"链上核验 Verified against the chain: {'全部通过 ALL PASS' if report.ok else f'{failed} 项未通过 FAILED'}"
                f" | {report.documents} documents, {len(report.checks)} checks in {report.seconds:.2f} s",
                styles["h2"],
            )
        )
    else:
        story.append(
            Paragraph("未附链上核验结果 Not verified in this summary (run confirmnet verify)", styles["h2"])
        )
    header = [
        "函证编号 Letter",
        "被审计单位 Auditee",
        "银行 Bank",
        "基准日 Ref. date",
        "状态 Status",
        "发函 Requested",
        "回函 Replied",
        "回函结果 Reply",
        "核验 Check",
    ]
    rows = [[Paragraph(h, styles["small"]) for h in header]]
    rows += [_letter_row(entry, verdicts, styles["small"]) for entry in package.letters]
    table = Table(
        rows,
        repeatRows=1,
        colWidths=[28 * mm, 52 * mm, 34 * mm, 20 * mm, 26 * mm, 25 * mm, 25 * mm, 30 * mm, 17 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.92, 0.96)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [Spacer(1, 4 * mm), Paragraph(f"函证 Letters ({len(package.letters)})", styles["h2"]), table]
    exceptions = [(entry, lines) for entry in package.letters for lines in [_reply_result(entry)[1]] if lines]
    if exceptions:
        story.append(Paragraph("回函差异 Exceptions reported by the banks", styles["h2"]))
        for entry, lines in exceptions:
            story.append(Paragraph(f"{entry.letter_id}", styles["small"]))
            story += [Paragraph(f"- {line}", styles["small"]) for line in lines]
    if report is not None and not report.ok:
        story.append(Paragraph("未通过的核验 Failed checks", styles["h2"]))
        story += [
            Paragraph(f"{c.subject[:12]} | {c.name}: {c.detail}", styles["small"])
            for c in report.failures[:200]
        ]
    document = SimpleDocTemplate(
        str(output),
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title="银行函证电子证据摘要",
        author=package.exported_by.name,
    )
    document.build(story)
