"""A PDF summary of an evidence package for the audit working papers (审计工作底稿), written for the
engagement partner: what was confirmed, with which bank, by whom and when, the differences the
banks stated, whether the package was checked against the chain and how to check it again. The
hashes and addresses that make it checkable follow in an appendix.

The page setup, the font (embedded) and the wording of conclusions, sign-offs and differences are
the printed letters' and replies' (``node_gateway.protocol.printing``), so the summary says what
the documents filed beside it say.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle  # type: ignore[import-untyped]

from auditor_client.evidence import EvidenceLetter, EvidencePackage
from auditor_client.verifier import Report
from node_gateway.protocol import CHINA_TIME, InvalidDocument, parse_letter, parse_reply
from node_gateway.protocol.documents import ConfirmationLetter, ConfirmationReply
from node_gateway.protocol.printing import (
    difference_rows,
    difference_table,
    document_number,
    reply_conclusion,
    sign_offs,
)
from node_gateway.protocol.printing.page import SHADE, build_pdf, escape, grid, styles

PAGE = landscape(A4)
WIDTH = PAGE[0] - 30 * mm

_STATUS_ZH = {
    "REQUESTED": "待被审计单位授权",
    "AUTHORISED": "已授权，待银行受理",
    "ACCEPTED": "银行已受理，待回函",
    "REJECTED": "银行退回（不合规）",
    "REPLIED": "已回函",
    "CLOSED": "已回函并验收",
    "WITHDRAWN": "已撤回",
    "REFUSED": "被审计单位拒绝授权",
    "PENDING": "未上链",
}


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "—"
    return datetime.fromtimestamp(timestamp, CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def _step_time(entry: EvidenceLetter, name: str) -> int | None:
    return next((s.block_timestamp for s in entry.steps if s.name == name), None)


def _documents(entry: EvidenceLetter) -> tuple[ConfirmationLetter | None, ConfirmationReply | None]:
    """The entry's documents, or None for one that is no valid document (the verifier says why)."""
    try:
        letter = parse_letter(entry.letter)
    except InvalidDocument:
        letter = None
    try:
        reply = parse_reply(entry.reply) if entry.reply is not None else None
    except InvalidDocument:
        reply = None
    return letter, reply


def _result(entry: EvidenceLetter, reply: ConfirmationReply | None) -> str:
    if entry.reply is None:
        return "未回函"
    if reply is None:
        return "回函无效"
    if reply.no_relationship:
        return "银行称与被审计单位无业务关系"
    return reply_conclusion(reply)


_FLAGS = ("信息不符", "无业务关系", "未通过", "回函无效", "询证函无效", "拒绝授权", "退回")


def _flagged(text: str) -> str:
    """``text`` in red when it is something the partner must look into."""
    return f"<font color='#c70d0d'>{text}</font>" if any(flag in text for flag in _FLAGS) else text


def _verdicts(package: EvidencePackage, report: Report | None) -> dict[str, str]:
    if report is None:
        return {}
    checks = report.subjects()
    return {
        e.letter_id: "通过" if all(c.verdict != "fail" for c in checks.get(e.letter_id, [])) else "未通过"
        for e in package.letters
    }


def _overview(package: EvidencePackage, report: Report | None, s: dict[str, Any]) -> list[Any]:
    results = Counter[str]()
    statuses = Counter(e.status.upper() for e in package.letters)
    for entry in package.letters:
        _, reply = _documents(entry)
        results[_result(entry, reply)] += 1
    lines = [
        f"本证据文件包含 {len(package.letters)} 份银行询证函："
        + "，".join(f"{_STATUS_ZH.get(k, k)} {v} 份" for k, v in sorted(statuses.items()))
        + "。",
        "回函结论：" + ("，".join(f"{k} {v} 份" for k, v in sorted(results.items())) or "—") + "。",
    ]
    if report is None:
        verdict = "本摘要未附链上核验结果：请按第 4 部分所述运行 confirmnet verify 核验。"
    elif report.ok:
        verdict = (
            f"链上核验：全部通过（{report.documents} 份文件，{len(report.checks)} 项检查），"
            f"信任锚为{escape(report.anchor.describe()) if report.anchor else '—'}。"
        )
    else:
        verdict = f"链上核验：<font color='#c70d0d'>{len(report.failures)} 项未通过</font>，见第 5 部分；相关函证不能作为审计证据使用，需查明原因。"
    return [
        Paragraph("1 概要", s["h2"]),
        *[Paragraph(line, s["base"]) for line in lines],
        Paragraph(verdict, s["base"]),
    ]


def _letters_table(package: EvidencePackage, verdicts: dict[str, str], s: dict[str, Any]) -> Table:
    header = [
        "函证编号",
        "被审计单位",
        "银行",
        "基准日",
        "状态",
        "发函",
        "回函",
        "结论",
        "经办 / 复核",
        "核验",
    ]
    rows: list[list[Any]] = [[Paragraph(h, s["head"]) for h in header]]
    for entry in package.letters:
        letter, reply = _documents(entry)
        preparer, reviewer = sign_offs(reply) if reply is not None else ("—", "—")
        cells = [
            document_number(letter) if letter else entry.letter_id,
            letter.auditee.name if letter else "询证函无效",
            (letter.bank.name + (letter.bank.branch or "")) if letter else str(entry.bank),
            letter.reference_date.isoformat() if letter else "—",
            _STATUS_ZH.get(entry.status.upper(), entry.status),
            _when(_step_time(entry, "LetterRequested")),
            _when(_step_time(entry, "LetterReplied")),
            _result(entry, reply),
            f"{preparer} / {reviewer}",
            verdicts.get(entry.letter_id, "未核验"),
        ]
        rows.append([Paragraph(_flagged(escape(c)), s["cell"]) for c in cells])
    shares = [30, 40, 34, 18, 22, 22, 22, 22, 42, 12]
    return grid(rows, [WIDTH * x / sum(shares) for x in shares])


def _differences(package: EvidencePackage, s: dict[str, Any]) -> list[Any]:
    story: list[Any] = [Paragraph("3 银行回函所述差异", s["h2"])]
    found = False
    for entry in package.letters:
        letter, reply = _documents(entry)
        if letter is None or reply is None:
            continue
        rows = difference_rows(reply, letter)
        if reply.no_relationship:
            story.append(
                Paragraph(f"{escape(document_number(letter))}：银行称与被审计单位无业务关系。", s["base"])
            )
            found = True
        if rows:
            story += [
                Paragraph(
                    f"{escape(document_number(letter))}（{escape(letter.auditee.name)}，{escape(letter.bank.name)}）：",
                    s["base"],
                ),
                difference_table(rows, s, WIDTH),
                Spacer(1, 2 * mm),
            ]
            found = True
    if not found:
        story.append(Paragraph("各银行回函均未列示差异。", s["base"]))
    return story


def _how_to_check(path: Path, digest: str, s: dict[str, Any]) -> list[Any]:
    steps = [
        f"确认所核验的正是本证据文件：{escape(path.name)} 的 SHA-256 应为附录所列值。",
        "以本所（或监管机构）自己持有的网络文件作为信任锚，不使用证据文件自称的网络："
        f"confirmnet verify {escape(path.name)} --rpc 节点地址 --network network.json --report verdicts.json 。"
        "退出码 0 表示全部检查通过；任何一项未通过都会列明原因。",
        "核验内容：每份询证函与回函以其盐值计算的哈希与链上记录一致；发函、授权、受理、回函各步骤由相应成员在当时有效的"
        "身份下签名上链；被审计单位的授权签字人在银行预留，其授权所依据的链上被审计单位标识，以银行随回函提供的盐值"
        "还原为询证函所列的被审计单位；合约代码与发布版本逐字节一致。",
        "询证函与回函的 PDF 由网关按文件确定性生成，其二维码载有链 ID、合约地址、函证 ID 与文件哈希，可据此在链上查到对应记录。",
    ]
    return [
        Paragraph("4 如何核验", s["h2"]),
        *[Paragraph(f"（{i}）{t}", s["base"]) for i, t in enumerate(steps, 1)],
    ]


def _appendix(
    package: EvidencePackage, path: Path, digest: str, report: Report | None, s: dict[str, Any]
) -> list[Any]:
    network = package.network
    facts = [
        ("证据文件", f"{path.name}  SHA-256 {digest}"),
        (
            "导出",
            f"{package.exported_at:%Y-%m-%d %H:%M} UTC，{package.exported_by.name}（成员编号 {package.exported_by.member_no}），{package.exported_by.gateway}",
        ),
        ("证据文件所称的链", f"chain id {network.chain_id}，部署于区块 {network.deployment_block}"),
        ("MemberRegistry", network.member_registry),
        ("ConfirmationRegistry", network.confirmation_registry),
        ("核验信任锚", report.anchor.describe() if report is not None and report.anchor else "未核验"),
    ]
    table = grid(
        [[Paragraph(escape(k), s["small"]), Paragraph(escape(v), s["mono"])] for k, v in facts],
        [40 * mm, WIDTH - 40 * mm],
        header_rows=0,
    )
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), SHADE)]))
    header = ["函证 ID", "询证函哈希", "回函哈希", "被审计单位标识（链上）"]
    rows: list[list[Any]] = [[Paragraph(h, s["head"]) for h in header]]
    rows += [
        [
            Paragraph(escape(x or "—"), s["mono"])
            for x in (e.letter_id, e.letter_hash, e.reply_hash, e.auditee_ref)
        ]
        for e in package.letters
    ]
    steps_header = ["函证 ID", "步骤", "区块", "时间（北京时间）", "交易哈希"]
    step_rows: list[list[Any]] = [[Paragraph(h, s["head"]) for h in steps_header]]
    step_rows += [
        [
            Paragraph(escape(x), s["mono"])
            for x in (
                e.letter_id[:18] + "…",
                step.name,
                str(step.block_number),
                _when(step.block_timestamp),
                step.transaction_hash,
            )
        ]
        for e in package.letters
        for step in e.steps
    ]
    printed = _printout_rows(package, s)
    return [
        PageBreak(),
        Paragraph("附录 哈希与地址", s["h2"]),
        table,
        Spacer(1, 3 * mm),
        grid(rows, [WIDTH / 4] * 4),
        Spacer(1, 3 * mm),
        *(
            [grid(printed, [WIDTH * x for x in (0.3, 0.35, 0.35)]), Spacer(1, 3 * mm)]
            if len(printed) > 1
            else []
        ),
        grid(step_rows, [WIDTH * x for x in (0.17, 0.15, 0.08, 0.14, 0.46)]),
    ]


def _printout_rows(package: EvidencePackage, s: dict[str, Any]) -> list[list[Any]]:
    """The SHA-256 of each PDF the package carries, so a filed printout can be matched to it."""
    header = ["函证 ID", "询证函 PDF 的 SHA-256", "回函 PDF 的 SHA-256"]
    rows: list[list[Any]] = [[Paragraph(h, s["head"]) for h in header]]
    for entry in package.letters:
        if entry.printouts is None:
            continue
        reply = entry.printouts.reply()
        digests = (
            hashlib.sha256(entry.printouts.letter()).hexdigest(),
            hashlib.sha256(reply).hexdigest() if reply is not None else "—",
        )
        rows.append([Paragraph(escape(x), s["mono"]) for x in (entry.letter_id, *digests)])
    return rows


def write_summary(
    package: EvidencePackage, package_path: Path, output: Path, *, report: Report | None = None
) -> None:
    """Writes the PDF summary of ``package`` (read from ``package_path``) to ``output``."""
    s = styles()
    digest = hashlib.sha256(package_path.read_bytes()).hexdigest()
    verdicts = _verdicts(package, report)
    story: list[Any] = [
        Paragraph("银行函证证据摘要", s["title"]),
        Paragraph(
            f"{escape(package.engagement or '')} 导出于 {package.exported_at.astimezone(CHINA_TIME):%Y年%m月%d日 %H:%M}（北京时间）",
            s["subtitle"],
        ),
        *_overview(package, report, s),
        Paragraph("2 函证与回函", s["h2"]),
        _letters_table(package, verdicts, s),
        *_differences(package, s),
        *_how_to_check(package_path, digest, s),
    ]
    if report is not None and not report.ok:
        story.append(Paragraph("5 未通过的核验", s["h2"]))
        story += [
            Paragraph(escape(f"{c.subject[:18]} {c.name}: {c.detail}"), s["small"])
            for c in report.failures[:200]
        ]
    story += _appendix(package, package_path, digest, report, s)
    output.write_bytes(
        build_pdf(
            story,
            title="银行函证证据摘要",
            author=package.exported_by.name,
            created=package.exported_at.astimezone(CHINA_TIME).date(),
            footer=f"银行函证证据摘要 · {package.engagement or package_path.name}",
            pagesize=PAGE,
        )
    )
