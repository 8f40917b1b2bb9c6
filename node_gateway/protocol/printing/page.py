"""The page setup every confirmnet PDF shares: the embedded CJK font, the styles, ruled tables,
QR codes, page numbers and the fixed dates that make the output deterministic.

Fonts: WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0 or GPLv3 with the font exception) from the
pinned PyPI package ``paperang-p2-fonts-cjk``, whose file is byte for byte Debian's
``fonts-wqy-microhei`` 0.2.0-beta-3.1. It has TrueType outlines, which reportlab embeds (as
subsets, ``FontFile2``); every text on the page is set in it (tables and drawings included, which
would otherwise fall back to reportlab's Helvetica, never embedded), so the PDF shows the same on
any machine; with what ``pdfa`` adds, the PDF is PDF/A-2b.

Deterministic: reportlab's invariant mode, the PDF's dates given by the caller (the document's
date at midnight, China time), fixed producer and creator, the file identifier a digest of the
file: the same story gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from importlib import resources
from io import BytesIO
from typing import Any

import segno
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER, TA_RIGHT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    SimpleDocTemplate,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable  # type: ignore[import-untyped]

from node_gateway.protocol.printing.pdfa import make_archival, with_file_id

FONT_PACKAGE = "paperang_p2_fonts_cjk"
FONT_FILE = "fonts/wqy-microhei.ttc"
FONT = "WenQuanYiMicroHei"
MONO_FONT = "WenQuanYiMicroHeiMono"  # the collection's second face: hashes and addresses line up
CREATOR = "confirmnet"
PRODUCER = "confirmnet (reportlab)"

RULE = colors.Color(0.55, 0.55, 0.55)
SHADE = colors.Color(0.93, 0.93, 0.93)
ALERT_SHADE = colors.Color(1, 0.92, 0.92)


CONTENT_WIDTH = A4[0] - 30 * mm
"""The width between the margins of a portrait A4 page (``build_pdf``'s default)."""


def register_fonts() -> None:
    """Registers the embedded CJK fonts with reportlab (once per process)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    path = resources.files(FONT_PACKAGE).joinpath(FONT_FILE)
    with resources.as_file(path) as file:
        pdfmetrics.registerFont(TTFont(FONT, str(file), subfontIndex=0))
        pdfmetrics.registerFont(TTFont(MONO_FONT, str(file), subfontIndex=1))


def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles of every confirmnet PDF, all in the embedded font."""
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=14, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=9, leading=12, alignment=TA_CENTER, textColor=RULE
        ),
        "number": ParagraphStyle("number", parent=base, alignment=TA_RIGHT),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11, leading=15, spaceBefore=7, spaceAfter=3),
        "body": ParagraphStyle("body", parent=base, firstLineIndent=19, spaceAfter=2),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "number_cell": ParagraphStyle(
            "number_cell", parent=base, fontSize=7.5, leading=9.5, alignment=TA_RIGHT
        ),
        "head": ParagraphStyle("head", parent=base, fontSize=7.5, leading=9.5, alignment=TA_CENTER),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO_FONT, fontSize=7.5, leading=10),
        "conclusion": ParagraphStyle("conclusion", parent=base, fontSize=12, leading=17),
    }


def _pdf_date(day: date) -> Callable[..., str]:
    stamp = f"D:{day:%Y%m%d}000000+08'00'"
    return lambda *_: stamp


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Prints "第 n 页 共 m 页" and the running footer once the number of pages is known."""

    footer = ""
    created: date = date(2000, 1, 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self.setDateFormatter(_pdf_date(self.created))
        make_archival(self._doc, self.created)

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(RULE)
            width = self._pagesize[0]
            footer = self.footer
            while footer and pdfmetrics.stringWidth(footer, FONT, 7.5) > width - 70 * mm:
                footer = footer[:-2] + "…"
            self.drawString(15 * mm, 9 * mm, footer)
            self.drawRightString(width - 15 * mm, 9 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            super().showPage()
        super().save()


def build_pdf(
    story: Sequence[Flowable],
    *,
    title: str,
    author: str,
    created: date,
    footer: str = "",
    pagesize: tuple[float, float] = A4,
) -> bytes:
    """The PDF of ``story``: the embedded font throughout, page numbers, and dates fixed to
    ``created`` so the same story gives the same bytes."""
    register_fonts()
    canvas_class = type("_Canvas", (_NumberedCanvas,), {"footer": footer, "created": created})
    out = BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=author,
        subject=footer or title,
        creator=CREATOR,
        producer=PRODUCER,
        invariant=1,
        initialFontName=FONT,
        initialFontSize=9.5,
        lang="zh-CN",
    )
    document.build(list(story), canvasmaker=canvas_class)
    return with_file_id(out.getvalue())


def grid(rows: list[list[Any]], widths: Sequence[float], *, header_rows: int = 1) -> Table:
    """A ruled table whose first ``header_rows`` rows are shaded and repeat on every page."""
    table = Table(rows, colWidths=list(widths), repeatRows=header_rows)
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),  # reportlab's default would be Helvetica, not embedded
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE))
    table.setStyle(TableStyle(commands))
    return table


def escape(text: object) -> str:
    """``text`` safe inside a reportlab Paragraph (which reads a little XML)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class QrCode(Flowable):  # type: ignore[misc]
    """``payload`` as a QR code, ``size`` square with a quiet zone of two modules.

    segno encodes it (error correction M, the mask chosen by the standard's penalty rules); reportlab's
    own encoder takes over a second a code in pure Python, a second per document. The dark modules
    are drawn as one path, one rectangle per run of a row.
    """

    QUIET = 2

    def __init__(self, payload: str, size: float = 30 * mm) -> None:
        super().__init__()
        self.payload = payload
        self.matrix = segno.make(payload, error="m", micro=False, boost_error=False).matrix
        self.width = self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        module = self.width / (len(self.matrix) + 2 * self.QUIET)
        path = self.canv.beginPath()
        for y, row in enumerate(self.matrix):
            top = self.height - (y + self.QUIET + 1) * module
            x = 0
            while x < len(row):
                if not row[x]:
                    x += 1
                    continue
                run = x
                while run < len(row) and row[run]:
                    run += 1
                path.rect((x + self.QUIET) * module, top, (run - x) * module, module)
                x = run
        self.canv.setFillColor(colors.black)
        self.canv.drawPath(path, stroke=0, fill=1)
