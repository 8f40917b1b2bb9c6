"""PDF/A-2b (ISO 19005-2, level B) for the PDFs ``page.build_pdf`` makes with reportlab.

Besides the embedded fonts (``page``), an archivable PDF needs:

- XMP metadata in the catalog saying ``pdfaid:part`` 2, ``pdfaid:conformance`` B, and mirroring
  the Info dictionary (title, author, subject, keywords, creator, producer, the dates);
- an output intent (``GTS_PDFA1``) with an embedded ICC profile for the DeviceRGB/DeviceGray
  the pages paint in: sRGB;
- a file identifier (``/ID``), here derived from the file's own bytes, so it stays deterministic;
- every stream's data followed by an end-of-line before ``endstream``: reportlab writes none, so
  importing this module wraps reportlab's ``PDFStream.format`` to add it (harmless to any PDF:
  ISO 32000-1 recommends it).

The sRGB profile is LittleCMS's built-in one (``cmsCreate_sRGBProfile``, as Pillow's
``ImageCms.createProfile("sRGB")`` makes it, "No copyright, use freely"), kept here as bytes:
LittleCMS stamps the time of creation into the header, so it is stored once with a fixed date
(2026-01-01) and version 4.2 (ICC.1:2004-10, the version PDF 1.7 and PDF/A-2 refer to; nothing in
the profile is newer).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfdoc import (  # type: ignore[import-untyped]
    XMP,
    PDFArray,
    PDFCatalog,
    PDFDictionary,
    PDFName,
    PDFStream,
    PDFString,
)

SRGB_PROFILE = base64.b64decode(
    "AAACTGxjbXMEIAAAbW50clJHQiBYWVogB+oAAQABAAAAAAAAYWNzcEFQUEwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPbW"
    "AAEAAAAA0y1sY21zAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALZGVzYwAAAQgAAAA2"
    "Y3BydAAAAUAAAABMd3RwdAAAAYwAAAAUY2hhZAAAAaAAAAAsclhZWgAAAcwAAAAUYlhZWgAAAeAAAAAUZ1hZWgAAAfQAAAAU"
    "clRSQwAAAggAAAAgZ1RSQwAAAggAAAAgYlRSQwAAAggAAAAgY2hybQAAAigAAAAkbWx1YwAAAAAAAAABAAAADGVuVVMAAAAa"
    "AAAAHABzAFIARwBCACAAYgB1AGkAbAB0AC0AaQBuAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAADAAAAAcAE4AbwAgAGMAbwBw"
    "AHkAcgBpAGcAaAB0ACwAIAB1AHMAZQAgAGYAcgBlAGUAbAB5WFlaIAAAAAAAAPbWAAEAAAAA0y1zZjMyAAAAAAABDEIAAAXe"
    "///zJQAAB5MAAP2Q///7of///aIAAAPcAADAblhZWiAAAAAAAABvoAAAOPUAAAOQWFlaIAAAAAAAACSfAAAPhAAAtsNYWVog"
    "AAAAAAAAYpcAALeHAAAY2XBhcmEAAAAAAAMAAAACZmYAAPKnAAANWQAAE9AAAApbY2hybQAAAAAAAwAAAACj1wAAVHsAAEzN"
    "AACZmgAAJmYAAA9c"
)
OUTPUT_CONDITION = "sRGB IEC61966-2.1"

# The trailer's /ID while the file is written; replaced by a digest of the file (``with_file_id``).
_ID_PLACEHOLDER = b"[<" + b"0" * 32 + b"><" + b"0" * 32 + b">]"


class _ArchivalCatalog(PDFCatalog):  # type: ignore[misc]
    """reportlab's catalog writes only the keys it knows; this one also writes OutputIntents."""

    __NoDefault__: ClassVar[list[str]] = [*PDFCatalog.__NoDefault__, "OutputIntents"]
    __Refs__: ClassVar[list[str]] = PDFCatalog.__Refs__


def make_archival(document: Any, created: date) -> None:
    """Adds to reportlab's ``document`` (a canvas's ``_doc``) the XMP metadata, the sRGB output
    intent and the placeholder file identifier. Call before the PDF is written."""
    document.Catalog.__class__ = _ArchivalCatalog
    document.Catalog.Metadata = XMP(creator=lambda doc: _xmp_packet(doc.info, created))
    profile = PDFStream(PDFDictionary({"N": 3, "Alternate": PDFName("DeviceRGB")}), SRGB_PROFILE)
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString(OUTPUT_CONDITION),
            "Info": PDFString(OUTPUT_CONDITION),
            "DestOutputProfile": profile,
        }
    )
    document.Catalog.OutputIntents = PDFArray([intent])
    document._ID = _ID_PLACEHOLDER


def with_file_id(pdf: bytes) -> bytes:
    """``pdf`` with its placeholder /ID replaced by the first 16 bytes of the SHA-256 of the file
    as written (placeholder included): the same content, the same identifier. The trailer
    follows the cross-reference table, so no offset moves."""
    trailer = pdf.rindex(b"trailer")
    if pdf.count(_ID_PLACEHOLDER, trailer) != 1:
        raise ValueError("the PDF's trailer has no placeholder /ID to replace")
    file_id = hashlib.sha256(pdf).hexdigest()[:32].encode()
    return pdf[:trailer] + pdf[trailer:].replace(_ID_PLACEHOLDER, b"[<" + file_id + b"><" + file_id + b">]")


def _xmp_date(day: date) -> str:
    return f"{day:%Y-%m-%d}T00:00:00+08:00"  # the Info dates' instant: midnight, China time


def _xmp_packet(info: Any, created: date) -> bytes:
    """The XMP packet: PDF/A-2b identification and Info's entries in their XMP properties."""

    def text(value: object) -> str:
        return escape(str(value))

    stamp = _xmp_date(created)
    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{text(info.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{text(info.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{text(info.subject)}</rdf:li></rdf:Alt></dc:description>
   <pdf:Keywords>{text(info.keywords)}</pdf:Keywords>
   <pdf:Producer>{text(info.producer)}</pdf:Producer>
   <xmp:CreatorTool>{text(info.creator)}</xmp:CreatorTool>
   <xmp:CreateDate>{stamp}</xmp:CreateDate>
   <xmp:ModifyDate>{stamp}</xmp:ModifyDate>
   <xmp:MetadataDate>{stamp}</xmp:MetadataDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return packet.encode("utf-8")


def _format_stream_with_eol(stream: Any, document: Any) -> bytes:
    """reportlab's stream output with an end-of-line between the data and ``endstream``, which
    PDF asks for (ISO 32000-1 7.3.8.1: not counted in /Length) and PDF/A requires (6.1.7.1)."""
    formatted: bytes = _format_stream(stream, document)
    data, ending = formatted[: -len(b"endstream\n")], formatted[-len(b"endstream\n") :]
    if ending != b"endstream\n":
        raise ValueError("reportlab wrote a stream that does not end in endstream")
    return data + b"\n" + ending


_format_stream = PDFStream.format
PDFStream.format = _format_stream_with_eol
