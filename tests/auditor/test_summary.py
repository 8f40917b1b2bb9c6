"""The partner's summary of a package whose letters carry their printouts, without a chain: what
it says of each letter (conclusion, sign-offs, differences) and the printouts' SHA-256s."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from protocol.pdf_checks import embedded, pdf_fonts, pdf_text

from auditor_client.evidence import (
    EvidenceLetter,
    EvidenceNetwork,
    EvidencePackage,
    EvidencePrintouts,
    EvidenceStep,
    Exporter,
)
from auditor_client.pdf import write_summary
from node_gateway.protocol import as_salt, canonical_bytes, document_hash, to_hex
from node_gateway.protocol.printing import ChainRecord, letter_pdf, reply_pdf
from node_gateway.protocol.samples import sample_letter, sample_reply

NETWORK = EvidenceNetwork(
    chain_id=31337,
    member_registry="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    confirmation_registry="0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    deployment_block=2,
)


def _entry(index: int, *, with_exception: bool) -> EvidenceLetter:
    letter = sample_letter(letter_id="0x" + f"{index:02x}" * 32, confirmation_no=f"MJ-2025-{index:06d}")
    letter_hash = document_hash(letter, as_salt(bytes([index]) * 32))
    reply = sample_reply(letter, letter_hash=letter_hash, with_exception=with_exception)
    reply_hash = document_hash(reply, as_salt(bytes([index + 1]) * 32))

    def record(value: bytes) -> ChainRecord:
        return ChainRecord(NETWORK.chain_id, NETWORK.confirmation_registry, to_hex(value))

    printouts = EvidencePrintouts.of(
        letter_pdf(letter, record(letter_hash)), reply_pdf(reply, letter, record(reply_hash))
    )
    return EvidenceLetter(
        letter_id=letter.letter_id,
        status="CLOSED",
        firm=letter.audit_firm.member_no,
        bank=letter.bank.member_no,
        auditee_ref="0x" + "cc" * 32,
        due_at=None,
        letter=canonical_bytes(letter).decode("utf-8"),
        letter_salt=to_hex(bytes([index]) * 32),
        letter_hash=to_hex(letter_hash),
        reply=canonical_bytes(reply).decode("utf-8"),
        reply_salt=to_hex(bytes([index + 1]) * 32),
        reply_hash=to_hex(reply_hash),
        steps=[
            EvidenceStep(
                name="LetterRequested",
                block_number=10 + index,
                block_timestamp=1_736_146_800 + index,
                transaction_hash="0x" + "aa" * 32,
            )
        ],
        printouts=printouts,
    )


def sample_package() -> EvidencePackage:
    """An engagement's package of two letters with their replies (one with a difference) and
    printouts (also tests/protocol/test_pdfa.py's)."""
    return EvidencePackage(
        scope="engagement",
        engagement="江南精密 2024 年报审计",
        exported_at=datetime(2025, 1, 20, 3, 15, tzinfo=UTC),
        exported_by=Exporter(member_no=2, name="明鉴会计师事务所", gateway="https://gateway.firm.example"),
        network=NETWORK,
        letters=[_entry(17, with_exception=True), _entry(18, with_exception=False)],
    )


def test_the_summary_names_each_letters_conclusion_people_and_printouts(tmp_path: Path) -> None:
    package = sample_package()
    path, pdf = tmp_path / "package.json", tmp_path / "summary.pdf"
    package.save(path)
    write_summary(package, path, pdf)
    data = pdf.read_bytes()
    assert [name for name, font in pdf_fonts(data) if not embedded(font)] == []
    text = pdf_text(data).replace("\n", "")
    for words in ("MJ-2025-000017", "MJ-2025-000018", "信息不符", "信息证明无误", "陈晓明", "刘建国"):
        assert words in text, words
    assert "12,345,578.90" in text  # the bank's value in the list of differences
    assert "本摘要未附链上核验结果" in text
    for entry in package.letters:
        assert entry.printouts is not None
        reply = entry.printouts.reply()
        assert reply is not None
        for printed in (entry.printouts.letter(), reply):
            assert hashlib.sha256(printed).hexdigest() in text
