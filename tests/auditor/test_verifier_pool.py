"""The verifier's fast path and its process pool, on a real anvil: documents checked as stored
(their bytes hashed as they are) pass exactly the checks the full path makes, anything else is
judged by the full path, and any number of worker processes gives one process's report, failures
included."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor_client.evidence import EvidencePackage
from auditor_client.stored import check_stored
from auditor_client.verifier import Report, verify_package
from confirmnet.cli import app
from node_gateway.chain.contracts import Letter
from node_gateway.chain.network import connect
from node_gateway.chain.verification import verify_against_record
from node_gateway.protocol import from_hex
from node_gateway.protocol.wire import DocumentKind

from .conftest import Letters, as_version_1

pytestmark = pytest.mark.anvil


def _documents(recorded: Letters) -> list[tuple[Letter, DocumentKind, str, bytes]]:
    found: list[tuple[Letter, DocumentKind, str, bytes]] = []
    for entry in recorded.package.letters:
        record = recorded.network.confirmations.get_letter(from_hex(entry.letter_id))
        found.append((record, "letter", entry.letter, from_hex(entry.letter_salt)))
        if entry.reply is not None and entry.reply_salt is not None:
            found.append((record, "reply", entry.reply, from_hex(entry.reply_salt)))
    return found


def test_documents_as_stored_pass_the_checks_of_the_full_path(recorded: Letters) -> None:
    documents = _documents(recorded)
    assert {kind for _, kind, _, _ in documents} == {"letter", "reply"}
    for record, kind, text, salt in documents:
        stored = check_stored(record, kind=kind, text=text, salt=salt)
        full = verify_against_record(record, kind=kind, document_json=text, salt=salt)
        assert full.valid
        checks = stored.checks
        assert [(name, ok) for name, ok, _ in checks] == [(c.name, c.ok) for c in full.checks]
        assert stored.document_hash == full.document_hash
        # Every detail but the schema's is worded as the full path's.
        assert [d for n, _, d in checks if n != "document"] == [
            c.detail for c in full.checks if c.name != "document"
        ]
        assert checks[0][2].startswith(f"the {kind} the chain's hash was recorded from")  # as stored
        assert stored.document == json.loads(text)  # what is shown is what was hashed


def _member_no_as_text(document: dict[str, Any]) -> None:
    if "audit_firm" in document:
        document["audit_firm"]["member_no"] = str(document["audit_firm"]["member_no"])
    else:
        document["bank_member_no"] = str(document["bank_member_no"])


# What is done to the stored document, and whether the full path (which parses it into its model
# and hashes the model's canonical form) still finds it the recorded one.
ALTERED: dict[str, tuple[Callable[[dict[str, Any]], None], bool]] = {
    "an added field": (lambda d: d.update(note="补充"), False),
    "the letter id": (lambda d: d.update(letter_id="0x" + "ab" * 32), False),
    "the schema": (lambda d: d.update(schema="confirmnet.notice"), False),
    "a member number as text": (_member_no_as_text, True),  # the model reads "2" as 2
}


@pytest.mark.parametrize("what", list(ALTERED))
def test_a_document_not_as_recorded_is_left_to_the_full_path(recorded: Letters, what: str) -> None:
    for record, kind, text, salt in _documents(recorded)[:2]:
        altered = json.loads(text)
        change, recorded_once_parsed = ALTERED[what]
        change(altered)
        stored = check_stored(record, kind=kind, text=_canonical_text(altered), salt=salt)
        full = verify_against_record(record, kind=kind, document_json=altered, salt=salt)
        assert stored.checks == [(c.name, c.ok, c.detail) for c in full.checks]
        assert full.valid is recorded_once_parsed
        assert (stored.document_hash is not None) is recorded_once_parsed
        assert stored.document == altered
    record, kind, text, salt = _documents(recorded)[0]
    for wrong in (salt[:-1] + b"\x00", salt[:-1]):
        stored = check_stored(record, kind=kind, text=text, salt=wrong)
        assert stored.document_hash is None
        assert not all(ok for _, ok, _ in stored.checks)


def _canonical_text(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _verdicts(report: Report) -> list[tuple[str, str, str, str]]:
    return [(c.subject, c.name, c.verdict, c.detail) for c in report.checks]


def _tampered_many(recorded: Letters) -> EvidencePackage:
    """The six letters forty times over, one copy's letter and another's reply salt altered."""
    package = json.loads(recorded.package.model_dump_json())
    package["letters"] = [json.loads(json.dumps(entry)) for entry in package["letters"] * 40]
    letter = json.loads(package["letters"][77]["letter"])
    letter["audit_firm"]["name"] += "分所"
    package["letters"][77]["letter"] = _canonical_text(letter)
    package["letters"][150]["reply_salt"] = "0x" + "00" * 32
    return EvidencePackage.model_validate(package)


def test_a_pool_of_workers_gives_one_process_s_report(recorded: Letters) -> None:
    package = _tampered_many(recorded)
    w3 = connect(recorded.network_file.rpc_url)
    one = verify_package(package, w3, anchor=recorded.network_file)
    counted: list[int] = []
    pooled = verify_package(package, w3, anchor=recorded.network_file, workers=2, progress=counted.append)
    assert {c.name for c in one.failures} == {"letter.hash", "reply.hash"}
    assert _verdicts(pooled) == _verdicts(one)
    assert (pooled.letters, pooled.documents) == (one.letters, one.documents) == (240, 160 + 240)
    assert sum(counted) == 240
    assert len(counted) > 2  # in chunks, as they come back


def test_verify_cli_with_workers_writes_the_same_verdicts(recorded: Letters, tmp_path: Path) -> None:
    path, network = tmp_path / "package.json", tmp_path / "network.json"
    _tampered_many(recorded).save(path)
    recorded.network_file.save(network)
    reports = []
    for workers in ("1", "2"):
        report = tmp_path / f"report-{workers}.json"
        result = CliRunner().invoke(
            app,
            [
                "verify",
                str(path),
                "--rpc",
                recorded.network_file.rpc_url,
                "--network",
                str(network),
                "--report",
                str(report),
                "--workers",
                workers,
            ],
        )
        assert result.exit_code == 1, result.output
        reports.append(json.loads(report.read_text())["checks"])
    assert reports[0] == reports[1]
    assert any(c["verdict"] == "fail" and c["name"] == "letter.hash" for c in reports[0])


def test_a_document_stored_otherwise_than_hashed_is_judged_by_the_full_path(recorded: Letters) -> None:
    # The firm's member number as text in a version-1 package: not the bytes that were hashed,
    # but the same letter once parsed, as the full path finds (the verdicts of before the fast path).
    package = as_version_1(recorded.package)
    _member_no_as_text(package["letters"][0]["letter"])
    report = verify_package(
        EvidencePackage.model_validate(package),
        connect(recorded.network_file.rpc_url),
        anchor=recorded.network_file,
    )
    assert report.ok, [(c.name, c.detail) for c in report.failures]
    document = next(c for c in report.checks if c.name == "letter.document")
    assert document.detail.startswith("a valid letter")  # parsed: the full path's wording
