"""The letter (询证函) and the reply (回函) as the PDFs people file, and the page setup that the
auditor side's evidence summary shares.

- ``letters``: ``letter_pdf`` and ``reply_pdf`` in the layout of 财会〔2020〕12号, each with the QR
  code of what a verifier needs to find it on chain (``ChainRecord``, ``verification_payload``);
- ``columns``: an item's table from the entry models, the headings and values in the template's
  words;
- ``page``: the embedded CJK font, styles, ruled tables, QR codes (segno), page numbers, fixed dates;
- ``pdfa``: what makes the output PDF/A-2b (XMP metadata, the sRGB output intent, the file id).

The same documents give the same bytes. Needs reportlab and the font package (the ``gateway`` and
``auditor`` extras), so ``node_gateway.protocol`` does not import it: import it explicitly.
"""

from node_gateway.protocol.printing.letters import (
    ChainRecord,
    difference_rows,
    difference_table,
    document_number,
    letter_pdf,
    reply_conclusion,
    reply_pdf,
    sign_offs,
    verification_payload,
)

__all__ = [
    "ChainRecord",
    "difference_rows",
    "difference_table",
    "document_number",
    "letter_pdf",
    "reply_conclusion",
    "reply_pdf",
    "sign_offs",
    "verification_payload",
]
