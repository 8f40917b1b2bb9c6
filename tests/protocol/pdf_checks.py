"""Reading PDFs in tests: their text, and whether each font they use is embedded."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pypdf


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def pdf_fonts(pdf: bytes) -> Iterator[tuple[str, Any]]:
    """Every font the pages use, also inside form XObjects."""

    def walk(resources_: Any) -> Iterator[tuple[str, Any]]:
        for name, font in (resources_.get("/Font") or {}).items():
            yield str(name), font.get_object()
        for xobject in (resources_.get("/XObject") or {}).values():
            inner = xobject.get_object().get("/Resources")
            if inner is not None:
                yield from walk(inner.get_object())

    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        yield from walk(page["/Resources"].get_object())


def embedded(font: Any) -> bool:
    if font["/Subtype"] == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:  # a standard-14 font: the viewer substitutes one of its own
        return False
    return any(key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3"))
