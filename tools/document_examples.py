"""Prints the example letter and reply of ``docs/documents/``: the sample documents
(``node_gateway.protocol.samples``) as the gateway prints them, and each page as a PNG.

Run as ``python -m tools.document_examples`` (the ``dev`` extra: pypdfium2 renders the pages).
The letter is 明鉴's year-end letter to 东海银行 for 江南精密, numbered MJ-2025-000017; the reply
states one difference (the first deposit's balance). The capital-verification letter (银行询证函(验资))
is 明鉴's letter for 江南精密's capital increase, numbered MJ-2025-000021. The salts, the letter ids
and the chain are the examples' own, fixed so the files only change when the documents or their
printing do.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]

from node_gateway.protocol import as_salt, document_hash, to_hex
from node_gateway.protocol.documents import LetterFormat
from node_gateway.protocol.printing import ChainRecord, letter_pdf, reply_pdf
from node_gateway.protocol.samples import sample_letter, sample_reply

ROOT = Path(__file__).resolve().parents[1]  # the checkout
OUT = ROOT / "docs" / "documents"
LETTER_ID = "0x3f1c5a0e9b7d2c4e6a8f1b3d5c7e9a2b4d6f8a1c3e5b7d9f2a4c6e8b1d3f5a7c"
CAPITAL_LETTER_ID = "0x7a2e4c6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c"
CHAIN_ID = 31337
REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"  # where anvil's first deployment puts it
SCALE = 1.5  # 108 dpi: A4 as 893 × 1263 pixels


def _pngs(pdf: bytes, stem: str) -> list[Path]:
    document = pypdfium2.PdfDocument(pdf)
    paths = []
    for index in range(len(document)):
        path = OUT / f"{stem}-{index + 1}.png"
        document[index].render(scale=SCALE).to_pil().save(path, optimize=True)
        paths.append(path)
    return paths


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    letter = sample_letter(letter_id=LETTER_ID, confirmation_no="MJ-2025-000017")
    letter_hash = document_hash(letter, as_salt(bytes(range(32))))
    reply = sample_reply(letter, letter_hash=letter_hash, with_exception=True)
    reply_hash = document_hash(reply, as_salt(bytes(range(32, 64))))
    capital = sample_letter(
        letter_id=CAPITAL_LETTER_ID, letter_format=LetterFormat.CAPITAL, confirmation_no="MJ-2025-000021"
    )
    capital_hash = document_hash(capital, as_salt(bytes(range(64, 96))))
    printed = {
        "letter": letter_pdf(letter, ChainRecord(CHAIN_ID, REGISTRY, to_hex(letter_hash))),
        "reply": reply_pdf(reply, letter, ChainRecord(CHAIN_ID, REGISTRY, to_hex(reply_hash))),
        "capital-letter": letter_pdf(capital, ChainRecord(CHAIN_ID, REGISTRY, to_hex(capital_hash))),
    }
    for stem, pdf in printed.items():
        (OUT / f"{stem}.pdf").write_bytes(pdf)
        pages = _pngs(pdf, stem)
        print(f"{OUT / f'{stem}.pdf'}: {len(pdf)} bytes, {len(pages)} pages")


if __name__ == "__main__":
    main()
