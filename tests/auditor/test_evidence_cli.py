"""Evidence files, the PDF summary and ``confirmnet verify`` on a real anvil."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from protocol.pdf_checks import embedded, pdf_fonts, pdf_text
from typer.testing import CliRunner

from auditor_client.evidence import EvidenceError, build_package, load_package
from auditor_client.pdf import write_summary
from auditor_client.verifier import verify_package
from confirmnet.cli import app
from node_gateway.api.models import ChainStep, Evidence, EvidenceChain, Identity
from node_gateway.chain.network import connect

from .conftest import Letters

runner = CliRunner()


def test_a_package_survives_saving_and_splitting(recorded: Letters, tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    recorded.package.save(path)
    assert "上海江南精密机械股份有限公司" in path.read_text(encoding="utf-8")  # readable, not escaped
    assert load_package(path) == recorded.package
    singles = recorded.package.split()
    assert [s.letters[0].letter_id for s in singles] == [x.letter_id for x in recorded.package.letters]
    assert all(s.scope == "letter" for s in singles)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a JSON file"),
        ('{"format": "something else"}', "not a confirmnet evidence package"),
        ('{"format": "confirmnet.evidence", "version": 9}', "version 9; this tool reads versions 1 and 2"),
        ('{"format": "confirmnet.evidence", "version": 1, "letters": []}', "problem"),
    ],
)
def test_what_is_no_package_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(EvidenceError, match=message):
        load_package(path)


def test_a_package_is_built_from_the_gateway_s_evidence(recorded: Letters) -> None:
    entry = recorded.package.letters[0]
    network = recorded.package.network
    evidence = Evidence(
        letter_id=entry.letter_id,
        firm=entry.firm,
        bank=entry.bank,
        status=entry.status,
        auditee_ref=entry.auditee_ref,
        letter_hash=entry.letter_hash,
        letter=entry.letter_document(),
        letter_salt=entry.letter_salt,
        reply_hash=entry.reply_hash,
        reply=entry.reply_document(),
        reply_salt=entry.reply_salt,
        letter_canonical=entry.letter,
        reply_canonical=entry.reply,
        auditee_salt=entry.auditee_salt,
        authorisation=entry.authorisation.model_dump() if entry.authorisation else None,
        chain=EvidenceChain(**network.model_dump()),
        steps=[ChainStep(**step.model_dump()) for step in entry.steps],
    )
    identity = Identity(
        role="audit_firm",
        display_name="明鉴",
        registration_code="X",
        account="0x" + "00" * 20,
        member_id=entry.firm,
        endpoint="",
        encryption_keys="0x",
        chain_id=network.chain_id,
        confirmation_registry=network.confirmation_registry,
        member_registry=network.member_registry,
    )
    package = build_package([evidence], identity=identity, gateway="http://firm")
    assert package.scope == "letter"
    built = package.letters[0]
    assert built.auditee_salt == entry.auditee_salt  # the bank's, with its reply, as the firm kept it
    assert built.due_at == entry.due_at  # read from the LetterRequested step
    assert (built.letter, built.reply) == (entry.letter, entry.reply)  # the bytes as hashed
    assert verify_package(package, connect(recorded.network_file.rpc_url), anchor=recorded.network_file).ok
    # A gateway older than the canonical texts: its objects are canonicalised, to the same bytes.
    older = evidence.model_copy(update={"letter_canonical": None, "reply_canonical": None})
    rebuilt = build_package([older], identity=identity, gateway="http://firm").letters[0]
    assert (rebuilt.letter, rebuilt.reply) == (entry.letter, entry.reply)


def test_verify_cli_passes_a_sound_package_and_fails_a_tampered_one(
    recorded: Letters, tmp_path: Path
) -> None:
    path, report, pdf = tmp_path / "package.json", tmp_path / "report.json", tmp_path / "summary.pdf"
    recorded.package.save(path)
    rpc, network = recorded.network_file.rpc_url, tmp_path / "network.json"
    recorded.network_file.save(network)
    result = runner.invoke(
        app,
        [
            "verify",
            str(path),
            "--rpc",
            rpc,
            "--network",
            str(network),
            "--report",
            str(report),
            "--pdf",
            str(pdf),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output
    assert json.loads(report.read_text())["valid"] is True
    assert pdf.read_bytes().startswith(b"%PDF")
    document = json.loads(path.read_text())
    document["letters"][2]["reply_salt"] = "0x" + "00" * 32
    path.write_text(json.dumps(document, ensure_ascii=False))
    result = runner.invoke(app, ["verify", "evidence", str(path), "--rpc", rpc, "--network", str(network)])
    assert result.exit_code == 1
    assert "reply.hash" in result.output
    assert "INVALID" in result.output


def test_verify_cli_on_what_cannot_be_verified(recorded: Letters, tmp_path: Path) -> None:
    network = tmp_path / "network.json"
    recorded.network_file.save(network)
    missing = runner.invoke(
        app,
        [
            "verify",
            str(tmp_path / "none.json"),
            "--rpc",
            recorded.network_file.rpc_url,
            "--network",
            str(network),
        ],
    )
    assert missing.exit_code == 2
    path = tmp_path / "package.json"
    recorded.package.save(path)
    unreachable = runner.invoke(
        app, ["verify", str(path), "--rpc", "http://127.0.0.1:9", "--network", str(network)]
    )
    assert unreachable.exit_code == 2
    assert "cannot verify" in unreachable.output


def test_verify_contracts_cli(recorded: Letters, tmp_path: Path) -> None:
    network = tmp_path / "network.json"
    recorded.network_file.save(network)
    result = runner.invoke(
        app, ["verify", "contracts", "--rpc", recorded.network_file.rpc_url, "--network", str(network)]
    )
    assert result.exit_code == 0, result.output
    assert "committed build" in result.output
    recorded.network_file.model_copy(
        update={"member_registry": recorded.network_file.confirmation_registry}
    ).save(network)
    result = runner.invoke(
        app, ["verify", "contracts", "--rpc", recorded.network_file.rpc_url, "--network", str(network)]
    )
    assert result.exit_code == 1


def test_the_pdf_summary_lists_every_letter(recorded: Letters, tmp_path: Path) -> None:
    path, pdf = tmp_path / "package.json", tmp_path / "summary.pdf"
    recorded.package.save(path)
    report = verify_package(
        recorded.package, connect(recorded.network_file.rpc_url), anchor=recorded.network_file
    )
    write_summary(recorded.package, path, pdf, report=report)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    fonts = list(pdf_fonts(data))
    assert fonts
    assert [name for name, font in fonts if not embedded(font)] == []
    text = pdf_text(data).replace("\n", "")
    # What was confirmed and how it stands, for the partner; the hashes in the appendix.
    assert "链上核验：全部通过" in text
    for words in (
        "概要",
        "函证与回函",
        "银行回函所述差异",
        "如何核验",
        "附录 哈希与地址",
        "confirmnet verify",
    ):
        assert words in text, words
    for entry in recorded.package.letters:
        assert entry.letter_hash in text
    assert hashlib.sha256(path.read_bytes()).hexdigest() in text
