"""The printed PDFs are PDF/A-2b (ISO 19005-2, level B): the letter and the reply in format 一,
format 二 and 验资, and the evidence summary.

veraPDF, the reference validator, is Java and not available here: each requirement the printing
has to meet is checked structurally instead, on the file as pypdf (and, for the embedded fonts,
fontTools) reads it, citing the clause. What is not checked: the font programs' validity and
their widths against the /Widths (reportlab copies them from the font), XMP beyond parsing it
as XML and reading the properties PDF/A names, the ICC profile beyond its header and tags.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pypdf
import pytest
from auditor.test_summary import sample_package
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from PIL import ImageCms
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    StreamObject,
    TextStringObject,
)

from auditor_client.pdf import write_summary
from node_gateway.protocol import as_salt, document_hash, to_hex
from node_gateway.protocol.documents import LetterFormat
from node_gateway.protocol.printing import ChainRecord, letter_pdf, reply_pdf
from node_gateway.protocol.printing.pdfa import SRGB_PROFILE
from node_gateway.protocol.samples import sample_letter, sample_reply

from .pdf_checks import embedded, pdf_fonts

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "documents"
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STANDARD_14 = {
    "Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique", "Helvetica", "Helvetica-Bold",
    "Helvetica-Oblique", "Helvetica-BoldOblique", "Times-Roman", "Times-Bold", "Times-Italic",
    "Times-BoldItalic", "Symbol", "ZapfDingbats",
}  # fmt: skip


def _letter_and_reply(letter_format: LetterFormat, number: str) -> tuple[bytes, bytes]:
    letter = sample_letter(letter_id="0x" + "5a" * 32, letter_format=letter_format, confirmation_no=number)
    letter_hash = document_hash(letter, as_salt(b"\x01" * 32))
    reply = sample_reply(letter, letter_hash=letter_hash, with_exception=letter_format is LetterFormat.ONE)
    reply_hash = document_hash(reply, as_salt(b"\x02" * 32))
    return (
        letter_pdf(letter, ChainRecord(31337, REGISTRY, to_hex(letter_hash))),
        reply_pdf(reply, letter, ChainRecord(31337, REGISTRY, to_hex(reply_hash))),
    )


def _summary(folder: Path) -> bytes:
    """The evidence summary of tests/auditor/test_summary.py's package."""
    package = sample_package()
    package.save(folder / "package.json")
    write_summary(package, folder / "package.json", folder / "summary.pdf")
    return (folder / "summary.pdf").read_bytes()


FORMATS = {
    "format-one": (LetterFormat.ONE, "MJ-2025-000017"),
    "format-two": (LetterFormat.TWO, "MJ-2025-000018"),
    "capital": (LetterFormat.CAPITAL, "MJ-2025-000021"),
}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every kind of PDF confirmnet prints, by name."""
    pdfs: dict[str, bytes] = {}
    for name, (letter_format, number) in FORMATS.items():
        pdfs[f"{name} letter"], pdfs[f"{name} reply"] = _letter_and_reply(letter_format, number)
    pdfs["evidence summary"] = _summary(tmp_path_factory.mktemp("summary"))
    return pdfs


KINDS = [f"{name} {document}" for name in FORMATS for document in ("letter", "reply")] + ["evidence summary"]


def _objects(reader: pypdf.PdfReader) -> Iterator[tuple[int, Any]]:
    for number in sorted(reader.xref[0]):
        yield number, reader.get_object(number)


def _walk(value: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every dictionary and array reachable from ``value``, each indirect object once."""
    seen = set() if seen is None else seen
    if isinstance(value, IndirectObject):
        if value.idnum in seen:
            return
        seen.add(value.idnum)
        value = value.get_object()
    if isinstance(value, DictionaryObject):
        yield value
        for item in value.values():
            yield from _walk(item, seen)
    elif isinstance(value, ArrayObject):
        yield value
        for item in value:
            yield from _walk(item, seen)


def _xmp_value(root: ElementTree.Element, name: str) -> str | None:
    """An XMP property's text: a simple value, or the x-default (or only) item of an Alt/Seq."""
    element = root.find(f".//rdf:Description/{name}", NS)
    if element is None:
        return None
    items = element.findall("./rdf:Alt/rdf:li", NS) + element.findall("./rdf:Seq/rdf:li", NS)
    if not items:
        return element.text or ""
    default = [item for item in items if item.get(LANG, "x-default") == "x-default"]
    return default[0].text or ""


def _iso_date(pdf_date: str) -> str:
    """``D:YYYYMMDDHHmmSS+HH'mm'`` as XMP writes it."""
    match = re.fullmatch(r"D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)([+-])(\d\d)'(\d\d)'", pdf_date)
    assert match, pdf_date
    y, mo, d, h, mi, s, sign, oh, om = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}{sign}{oh}:{om}"


@pytest.mark.parametrize("kind", KINDS)
def test_the_file_structure_is_pdfa(printed: dict[str, bytes], kind: str) -> None:
    pdf = printed[kind]
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    # 6.1.2: the header, then a comment of at least four bytes above 127.
    header, binary = pdf.split(b"\n")[:2]
    assert re.fullmatch(rb"%PDF-1\.[0-7]", header), header
    assert binary.startswith(b"%")
    assert sum(byte > 127 for byte in binary[1:5]) == 4
    # 6.1.3: a file identifier, no encryption; the identifier is the file's own digest.
    assert "/Encrypt" not in reader.trailer
    identifier: Any = reader.trailer["/ID"]
    first, second = (item.original_bytes for item in identifier)
    assert first == second
    assert len(first) == 16
    placeholder = b"[<" + b"0" * 32 + b"><" + b"0" * 32 + b">]"
    id_hex = first.hex().encode()
    written = pdf.replace(b"[<" + id_hex + b"><" + id_hex + b">]", placeholder)
    assert hashlib.sha256(written).digest()[:16] == first
    streams = 0
    for number, value in _objects(reader):
        offset = reader.xref[0][number]
        # 6.1.9: "n 0 obj" and "endobj" each on a line of their own.
        assert re.match(rb"%d 0 obj\r?\n" % number, pdf[offset:]), number
        body_end = offset
        if isinstance(value, StreamObject):
            streams += 1
            # 6.1.7: no external data, no LZW or Crypt filter; /Length is the data's length,
            # "stream" is followed and "endstream" preceded by an end of line.
            assert not {"/F", "/FFilter", "/FDecodeParms"} & set(value), number
            filters = value.get("/Filter", [])
            assert not {"/LZWDecode", "/Crypt"} & set(filters if isinstance(filters, list) else [filters])
            start = pdf.index(b"stream", offset) + len(b"stream")
            length = re.search(rb"/Length (\d+)", pdf[offset:start])  # pypdf drops it once read
            assert length, number
            assert pdf[start : start + 1] == b"\n" or pdf[start : start + 2] == b"\r\n", number
            start += 1 if pdf[start : start + 1] == b"\n" else 2
            body_end = start + int(length.group(1))
            assert re.match(rb"\r?\nendstream", pdf[body_end:]), (number, pdf[body_end - 4 : body_end + 12])
        endobj = pdf.index(b"endobj", body_end)
        assert pdf[endobj - 1 : endobj] == b"\n", number
        assert pdf[endobj + 6 : endobj + 7] in (b"\r", b"\n"), number
    assert streams > 3
    # 6.1.3: nothing after %%EOF but an end of line.
    assert re.search(rb"%%EOF\r?\n?\Z", pdf)


@pytest.mark.parametrize("kind", KINDS)
def test_the_xmp_metadata_says_pdfa_2b_and_matches_the_info_dictionary(
    printed: dict[str, bytes], kind: str
) -> None:
    reader = pypdf.PdfReader(io.BytesIO(printed[kind]))
    catalog: Any = reader.trailer["/Root"]
    stream = catalog.raw_get("/Metadata")
    assert isinstance(stream, IndirectObject)  # 6.6.2.1: a metadata stream in the catalog
    metadata: Any = stream.get_object()
    assert (metadata["/Type"], metadata["/Subtype"]) == ("/Metadata", "/XML")
    assert "/Filter" not in metadata  # readable by any tool, as PDF/A-1 required
    packet = metadata.get_data()
    # 6.6.2.1: a well-formed packet, without the bytes or encoding attributes.
    assert packet.startswith('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'.encode())
    assert re.search(rb'<\?xpacket end="[rw]"\?>\Z', packet)
    declaration = packet.split(b"?>")[0]
    assert b"bytes=" not in declaration
    assert b"encoding=" not in declaration
    root = ElementTree.fromstring(packet)
    assert _xmp_value(root, "pdfaid:part") == "2"
    assert _xmp_value(root, "pdfaid:conformance") == "B"
    # 6.6.3: each Info entry that has an XMP analogue holds the same value.
    info: Any = reader.trailer["/Info"].get_object()
    analogues = {
        "/Title": "dc:title",
        "/Author": "dc:creator",
        "/Subject": "dc:description",
        "/Keywords": "pdf:Keywords",
        "/Creator": "xmp:CreatorTool",
        "/Producer": "pdf:Producer",
    }
    for key, name in analogues.items():
        if key in info:
            assert _xmp_value(root, name) == str(info[key]), (key, name)
    for key, name in {"/CreationDate": "xmp:CreateDate", "/ModDate": "xmp:ModifyDate"}.items():
        assert _xmp_value(root, name) == _iso_date(str(info[key])), key
    assert str(info["/Title"])
    assert str(info["/Producer"]).startswith("confirmnet")


@pytest.mark.parametrize("kind", KINDS)
def test_the_output_intent_is_the_embedded_srgb_profile(printed: dict[str, bytes], kind: str) -> None:
    reader = pypdf.PdfReader(io.BytesIO(printed[kind]))
    catalog: Any = reader.trailer["/Root"]
    intents = catalog["/OutputIntents"]
    assert len(intents) == 1  # 6.2.3: at most one distinct destination profile
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/OutputConditionIdentifier"]
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    data = profile.get_data()
    assert data == SRGB_PROFILE
    # The ICC header: size, a display ("mntr") RGB profile to the XYZ PCS, a version PDF/A-2 knows.
    assert int.from_bytes(data[:4], "big") == len(data)
    assert (data[12:16], data[16:20], data[20:24], data[36:40]) == (b"mntr", b"RGB ", b"XYZ ", b"acsp")
    assert data[8] in (2, 4)
    opened = ImageCms.ImageCmsProfile(io.BytesIO(data))
    assert ImageCms.getProfileDescription(opened).strip() == "sRGB built-in"


def test_the_srgb_profile_is_littlecms_srgb_with_a_fixed_date() -> None:
    """Where the bytes come from: LittleCMS's sRGB as Pillow builds it, but for the header's time
    of creation (the clock's, so fixed) and version (4.2, which PDF/A-2 refers to)."""
    built = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert len(built) == len(SRGB_PROFILE)
    assert built[128:] == SRGB_PROFILE[128:]  # the tags: the colorimetry itself
    unfixed = [(24, 36), (8, 12)]  # the date, the version
    for index in range(128):
        if not any(start <= index < end for start, end in unfixed):
            assert built[index] == SRGB_PROFILE[index], index


@pytest.mark.parametrize("kind", KINDS)
def test_the_pages_paint_in_rgb_with_embedded_fonts_and_their_glyphs(
    printed: dict[str, bytes], kind: str
) -> None:
    pdf = printed[kind]
    fonts = list(pdf_fonts(pdf))
    assert fonts
    # 6.2.11.4.1: every font embedded, so none of the standard 14 (never embedded by reportlab).
    assert [name for name, font in fonts if not embedded(font)] == []
    assert not [font["/BaseFont"] for _, font in fonts if str(font["/BaseFont"]).lstrip("/") in STANDARD_14]
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        page_resources: Any = page["/Resources"]
        resources: Any = page_resources.get_object()["/Font"].get_object()
        codes: dict[str, set[int]] = {}
        font_name = ""
        for operands, operator in pypdf.generic.ContentStream(page.get_contents(), reader).operations:
            # 6.2.4.3: device colours only as the output intent's RGB (or gray), never CMYK.
            assert operator not in (b"k", b"K", b"cs", b"CS", b"sh", b"BI"), operator
            if operator == b"Tf":
                font_name = str(operands[0])
            elif operator in (b"Tj", b"'", b'"', b"TJ"):
                pieces = operands[-1] if operator == b"TJ" else operands[-1:]
                for piece in pieces:
                    if isinstance(piece, (ByteStringObject, TextStringObject)):
                        codes.setdefault(font_name, set()).update(piece.original_bytes)
        assert codes
        for name, used in codes.items():
            font = resources[name].get_object()
            assert font["/Subtype"] == "/TrueType", name
            descriptor = font["/FontDescriptor"].get_object()
            program = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
            tables = program["cmap"].tables
            # 6.2.11.6: a symbolic TrueType font has no /Encoding and one cmap subtable.
            assert int(descriptor["/Flags"]) & 4, name
            assert "/Encoding" not in font, name
            assert len(tables) == 1 or any((t.platformID, t.platEncID) == (3, 0) for t in tables), name
            # 6.2.11.8: no text shows .notdef, i.e. a code the font program does not map.
            mapped = {code for code, glyph in tables[0].cmap.items() if glyph != ".notdef"}
            assert used <= mapped, (name, sorted(used - mapped))


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_pdfa_forbids(printed: dict[str, bytes], kind: str) -> None:
    """No JavaScript or other actions (6.5), no transparency (groups, soft masks, constant alpha,
    blend modes), annotations printable and visible (6.3.2), no embedded files or forms."""
    reader = pypdf.PdfReader(io.BytesIO(printed[kind]))
    catalog: Any = reader.trailer["/Root"]
    for key in ("/AA", "/OpenAction", "/AcroForm", "/Names"):
        assert key not in catalog, key
    for value in _walk(reader.trailer.raw_get("/Root")):
        if not isinstance(value, DictionaryObject):
            continue
        assert not {"/JS", "/JavaScript", "/AA", "/EmbeddedFile", "/EmbeddedFiles"} & set(value), value
        assert value.get("/S") not in ("/JavaScript", "/Launch", "/Transparency")
        assert str(value.get("/SMask", "/None")) == "/None"
        assert value.get("/CA", 1) == 1
        assert value.get("/ca", 1) == 1
        assert value.get("/BM", "/Normal") in ("/Normal", "/Compatible")
        if value.get("/Type") == "/Annot":
            flags = int(value.get("/F", 0))
            assert flags & 4, value  # printed
            assert not flags & (1 | 2 | 32), value  # not invisible, hidden or noview
    for page in reader.pages:
        assert "/Group" not in page


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_document_prints_to_the_same_bytes(
    printed: dict[str, bytes], kind: str, tmp_path: Path
) -> None:
    if kind == "evidence summary":
        again = _summary(tmp_path)
    else:
        name, document = kind.rsplit(" ", 1)
        again = _letter_and_reply(*FORMATS[name])[0 if document == "letter" else 1]
    assert again == printed[kind]


@pytest.mark.parametrize("name", ["letter.pdf", "reply.pdf", "capital-letter.pdf"])
def test_the_committed_examples_are_pdfa(name: str) -> None:
    pdf = (EXAMPLES / name).read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    catalog: Any = reader.trailer["/Root"]
    root = ElementTree.fromstring(catalog["/Metadata"].get_data())
    assert (_xmp_value(root, "pdfaid:part"), _xmp_value(root, "pdfaid:conformance")) == ("2", "B")
    assert catalog["/OutputIntents"][0]["/DestOutputProfile"].get_data() == SRGB_PROFILE
