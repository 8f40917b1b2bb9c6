"""The letter and the reply as PDFs, for the two parties of a letter (the API serves them).

Each is printed from the document this gateway holds, with the hash the chain records for it: the
firm's copy of a reply is checked against the chain again first, as ``GET …/reply`` does, so a PDF
never shows a reply the chain does not vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from node_gateway.errors import NotFound
from node_gateway.node import Node
from node_gateway.protocol.hashing import as_salt, document_hash, to_hex
from node_gateway.protocol.printing import ChainRecord, document_number, letter_pdf, reply_pdf
from node_gateway.services.letters import letter_row, stored_letter, stored_reply, verified_reply
from node_gateway.storage.models import LetterRow


@dataclass(frozen=True)
class Printout:
    filename: str
    pdf: bytes


def _party_letter(node: Node, session: Session, letter_id: str) -> LetterRow:
    row = letter_row(session, letter_id)
    if node.member_id() not in (row.firm, row.bank):
        raise NotFound(f"no letter {letter_id} here")
    return row


def _record(node: Node, document_hash: str) -> ChainRecord:
    network = node.network_file
    return ChainRecord(network.chain_id, network.confirmation_registry, document_hash)


def letter_printout(node: Node, session: Session, letter_id: str) -> Printout:
    """The letter's PDF (询证函), with the letter hash the firm recorded at request."""
    row = _party_letter(node, session, letter_id)
    letter = stored_letter(node, row)
    return Printout(
        f"{document_number(letter)}-letter.pdf", letter_pdf(letter, _record(node, row.letter_hash))
    )


def reply_printout(node: Node, session: Session, letter_id: str) -> Printout:
    """The reply's PDF (回函) with the letter it answers: the firm's verified against the chain
    now, the bank's as it sent it (with the hash it records, on chain or queued)."""
    row = _party_letter(node, session, letter_id)
    if row.firm == node.member_id():
        reply, _, reply_hash = verified_reply(node, session, letter_id)
    else:
        reply, stored = stored_reply(node, row)
        reply_hash = to_hex(document_hash(reply, as_salt(stored.salt)))
    letter = stored_letter(node, row)
    return Printout(
        f"{document_number(letter)}-reply.pdf", reply_pdf(reply, letter, _record(node, reply_hash))
    )
