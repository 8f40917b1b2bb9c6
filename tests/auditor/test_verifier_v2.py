"""Evidence format version 2 on a real anvil: each document is carried as the text of the bytes that
were hashed, the verifier hashes it as stored, and what it shows of a document is read from that
same text; a version-1 file is still read."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from eth_abi.exceptions import InsufficientDataBytes
from eth_utils.crypto import keccak
from web3.exceptions import BadFunctionCallOutput

from auditor_client import verifier
from auditor_client.evidence import EvidenceError, EvidencePackage, load_package
from auditor_client.stored import check_stored
from auditor_client.verifier import Report, verify_package
from node_gateway.chain.contracts import ConfirmationRegistry, MemberRegistry
from node_gateway.chain.network import connect
from node_gateway.protocol import as_salt, from_hex
from node_gateway.protocol.hashing import LETTER_DOMAIN, keccak256, salted_hash

from .conftest import Letters, as_version_1

pytestmark = pytest.mark.anvil


def _verify(recorded: Letters, package: dict[str, Any]) -> Report:
    return verify_package(
        EvidencePackage.model_validate(package),
        connect(recorded.network_file.rpc_url),
        anchor=recorded.network_file,
    )


def _failed(report: Report) -> dict[tuple[str, str], str]:
    return {(c.subject, c.name): c.detail for c in report.failures}


@pytest.mark.parametrize(
    ("kind", "before", "after"),
    [("letter", "上海江南精密机械", "上海江北精密机械"), ("reply", '"replied_on":"20', '"replied_on":"19')],
)
def test_a_changed_byte_of_a_stored_document_fails_its_hash(
    recorded: Letters, kind: str, before: str, after: str
) -> None:
    package = json.loads(recorded.package.model_dump_json())
    entry = package["letters"][0]
    assert before in entry[kind]
    entry[kind] = entry[kind].replace(before, after, 1)
    report = _verify(recorded, package)
    failed = _failed(report)
    assert (entry["letter_id"], f"{kind}.hash") in failed, failed
    assert failed[(entry["letter_id"], f"{kind}.hash")].endswith(
        f"(the {kind} document or its salt was altered)"
    )
    assert {subject for subject, _ in failed} == {entry["letter_id"]}


def test_a_document_spaced_otherwise_is_the_recorded_one_once_parsed(recorded: Letters) -> None:
    package = json.loads(recorded.package.model_dump_json())
    entry = package["letters"][0]
    entry["letter"] = json.dumps(json.loads(entry["letter"]), ensure_ascii=False, indent=2)
    report = _verify(recorded, package)
    assert report.ok, _failed(report)
    checks = {c.name: c.detail for c in report.checks if c.subject == entry["letter_id"]}
    assert checks["letter.document"].startswith("a valid letter")  # the full path's, not "as stored"


def _ambiguous(text: str) -> str:
    """The text with a second auditee before the real one: a parser keeping the last key reads the
    original letter, one keeping the first reads another auditee."""
    assert text.startswith('{"')
    assert '"auditee":' in text
    return '{"auditee":{"name":"假公司","registration_code":"91310000000000000X"},' + text[1:]


def test_a_hashed_text_that_reads_two_ways_proves_nothing(recorded: Letters) -> None:
    entry = recorded.package.letters[0]
    real = recorded.network.confirmations.get_letter(from_hex(entry.letter_id))
    salt = from_hex(entry.letter_salt)
    for text in (
        _ambiguous(entry.letter),
        entry.letter.replace('"version":1', '"version":1.0', 1),  # a fraction
        entry.letter.replace('"version":1', '"version":9007199254740993', 1),  # beyond 2**53
    ):
        assert text != entry.letter
        # As if its author had recorded exactly these bytes on chain.
        record = dataclasses.replace(
            real, letter_hash=salted_hash(LETTER_DOMAIN, as_salt(salt), text.encode("utf-8"))
        )
        stored = check_stored(record, kind="letter", text=text, salt=salt)
        assert [(name, ok) for name, ok, _ in stored.checks] == [("document", False)]
        assert "reads differently in different programs" in stored.checks[0][2]
        assert (stored.document_hash, stored.document) == (None, {})  # nothing of it is shown
    # In a package, against the real record: the same verdict, before any hash is compared.
    package = json.loads(recorded.package.model_dump_json())
    package["letters"][0]["letter"] = _ambiguous(entry.letter)
    failed = _failed(_verify(recorded, package))
    assert "reads differently" in failed[(entry.letter_id, "letter.document")]


def test_what_is_shown_of_a_document_is_read_from_its_hashed_text(recorded: Letters, tmp_path: Path) -> None:
    entry = recorded.package.letters[0]
    assert entry.letter_document() == json.loads(entry.letter)
    assert entry.reply is not None
    assert entry.reply_document() == json.loads(entry.reply)
    # A second, unhashed copy of a document beside the text has no place in a package.
    package = json.loads(recorded.package.model_dump_json())
    package["letters"][0]["letter_object"] = json.loads(entry.letter)
    path = tmp_path / "package.json"
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(EvidenceError, match="letter_object"):
        load_package(path)


def test_a_version_1_file_is_read_and_written_again_as_version_2(recorded: Letters, tmp_path: Path) -> None:
    old, new = tmp_path / "v1.json", tmp_path / "v2.json"
    old.write_text(json.dumps(as_version_1(recorded.package), ensure_ascii=False, indent=1), encoding="utf-8")
    package = load_package(old)
    assert package == recorded.package  # each document object read as its canonical text
    assert verify_package(package, connect(recorded.network_file.rpc_url), anchor=recorded.network_file).ok
    package.save(new)
    written = json.loads(new.read_text(encoding="utf-8"))
    assert written["version"] == 2
    assert written["letters"][0]["letter"] == recorded.package.letters[0].letter
    assert "\n" not in new.read_text(encoding="utf-8").rstrip("\n")  # compact
    assert new.stat().st_size < old.stat().st_size


def test_block_times_come_from_the_headers_where_logs_leave_them_out(
    recorded: Letters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not every node puts a block's time in its logs (anvil does); the verifier then reads the
    headers of the steps' blocks, and a step's time is checked as before."""
    logs, timestamps = verifier._Node.logs, verifier._Node.timestamps
    asked: list[set[int]] = []

    def logs_without_times(node: verifier._Node, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in log.items() if k != "blockTimestamp"} for log in logs(node, *args, **kwargs)
        ]

    def headers(node: verifier._Node, numbers: Iterable[int]) -> dict[int, int]:
        asked.append(set(numbers))
        return timestamps(node, numbers)

    monkeypatch.setattr(verifier._Node, "logs", logs_without_times)
    monkeypatch.setattr(verifier._Node, "timestamps", headers)
    report = _verify(recorded, json.loads(recorded.package.model_dump_json()))
    assert report.ok, _failed(report)
    assert asked == [{step.block_number for entry in recorded.package.letters for step in entry.steps}]
    package = json.loads(recorded.package.model_dump_json())
    package["letters"][0]["steps"][0]["block_timestamp"] += 1
    assert (package["letters"][0]["letter_id"], "step 1 LetterRequested") in _failed(
        _verify(recorded, package)
    )


def test_documents_are_hashed_as_eth_hash_does_from_any_thread() -> None:
    """The protocol's keccak256 (pycryptodome's C functions, a state per thread) gives eth-hash's
    digest for every length around the sponge's block of 136 bytes, in threads at once."""
    assert keccak256.direct, "pycryptodome's keccak functions are not the expected ones"
    results: list[bool] = []

    def hash_many() -> None:
        for size in (0, 1, 135, 136, 137, 272, 2_700, 10_000):
            data = os.urandom(size)
            results.append(keccak256(data) == keccak(data))

    threads = [threading.Thread(target=hash_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 32
    assert all(results)


def test_logs_read_from_the_wire_are_the_events_decode_log_gives(recorded: Letters) -> None:
    """The verifier's log reader (each word read by a reader chosen once per input) gives exactly
    decode_log's events for every log of both contracts, and refuses what decode_log refuses: a
    word beyond its type. A log of an unexpected shape is left to decode_log."""
    network = recorded.network_file
    w3 = connect(network.rpc_url)
    node = verifier._Node(w3)
    contracts = (
        ConfirmationRegistry(w3, network.confirmation_registry),
        MemberRegistry(w3, network.member_registry),
    )
    for contract in contracts:
        logs = node.logs(contract.address, 0)
        expected = [event for log in logs if (event := contract.decode_log(log)) is not None]
        assert contract.decode_wire_logs(logs) == expected
        assert len(expected) == len(logs) > 0
    registry = contracts[0]
    requested = next(
        log
        for log in node.logs(registry.address, 0)
        if getattr(registry.decode_log(log), "name", "") == "LetterRequested"
    )
    topics = requested["topics"]
    dirty_due = {**requested, "data": requested["data"][:66] + "f" * 64}  # dueAt: a uint64
    dirty_firm = {**requested, "topics": [*topics[:2], "0x" + "f" * 64, *topics[3:]]}  # firm: a uint32
    for dirty in (dirty_due, dirty_firm):
        with pytest.raises(BadFunctionCallOutput):
            registry.decode_log(dirty)
        with pytest.raises(BadFunctionCallOutput):
            registry.decode_wire_logs([dirty])
    short = {**requested, "data": requested["data"][:-64]}  # dueAt cut off
    with pytest.raises(InsufficientDataBytes):
        registry.decode_log(short)
    with pytest.raises(InsufficientDataBytes):
        registry.decode_wire_logs([short])
    other = {**requested, "address": network.member_registry}
    assert registry.decode_wire_logs([other]) == []


def test_reading_a_package_leaves_the_collector_on_and_what_it_built_old(
    recorded: Letters, tmp_path: Path
) -> None:
    """The cycle collector is paused while a package is read and on again after, what was read
    already in its oldest generation (no pass over it as young objects); a process that froze
    objects of its own keeps them frozen."""
    path = tmp_path / "evidence.json"
    recorded.package.save(path)
    assert gc.isenabled()
    package = load_package(path)
    assert gc.isenabled()
    assert any(o is package for o in gc.get_objects(generation=2))
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        load_package(path)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_registration_code_that_is_not_text_fails_the_reference_check() -> None:
    """A document that hashes right yet is no gateway's (its code a number): a failed check, not a
    crash of the verifier."""
    from types import SimpleNamespace

    event = SimpleNamespace(name="LetterAuthorised", args={"auditeeRef": b"\x01" * 32})
    entry = SimpleNamespace(auditee_salt="0x" + "ab" * 32)
    record = SimpleNamespace(reply_hash=b"\x02" * 32)
    report = Report()
    checks = verifier._Checks("letter 1", report)
    letter = {"auditee": {"registration_code": 91310115}}
    verifier._check_auditee(entry, letter, None, record, event, checks)  # type: ignore[arg-type]
    assert [(c.name, c.verdict) for c in report.checks] == [("auditee_ref", "fail")]
    assert "not text" in report.checks[0].detail
