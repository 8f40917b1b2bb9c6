"""The verifier reads the documents while the node answers: each document read and hashed as stored
before the chain is read is judged exactly as when it is read with the chain's record, tampering
included; the letters' logs come in one batch however many topic chunks they take; and the Merkle
leaf the verifier hashes itself is the chain layer's."""

from __future__ import annotations

import json
import os
import random

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from auditor_client import verifier
from auditor_client.evidence import EvidencePackage
from auditor_client.stored import check_stored, read_stored
from auditor_client.verifier import verify_package
from node_gateway.chain.contracts import Letter, LetterStatus
from node_gateway.chain.network import connect
from node_gateway.protocol import from_hex
from node_gateway.protocol.wire import DocumentKind

from .conftest import Letters

pytestmark = pytest.mark.anvil


def _tampered_texts(text: str) -> list[str]:
    """A byte of the text changed (the auditee's name, or the reply's date), and the text read two
    ways (a second schema before the real one: a parser keeping the first key reads another)."""
    changed = text.replace("上海江南精密机械", "上海江北精密机械", 1).replace(
        '"replied_on":"20', '"replied_on":"19', 1
    )
    ambiguous = '{"schema":"confirmnet.notice",' + text[1:]
    assert changed != text
    assert ambiguous != text
    return [changed, ambiguous]


def test_a_document_read_before_the_chain_is_judged_as_one_read_with_it(recorded: Letters) -> None:
    entry = recorded.package.letters[0]
    record = recorded.network.confirmations.get_letter(from_hex(entry.letter_id))
    assert entry.reply is not None
    assert entry.reply_salt is not None
    documents: list[tuple[DocumentKind, str, str]] = [
        ("letter", entry.letter, entry.letter_salt),
        ("reply", entry.reply, entry.reply_salt),
    ]
    for kind, text, salt_text in documents:
        salt = from_hex(salt_text)
        for candidate, wrong_salt in [(text, salt[:-1]), (text, bytes(32))] + [
            (tampered, salt) for tampered in _tampered_texts(text)
        ]:
            read = read_stored(kind=kind, text=candidate)
            early = check_stored(record, kind=kind, text=candidate, salt=wrong_salt, read=read)
            late = check_stored(record, kind=kind, text=candidate, salt=wrong_salt)
            assert early == late
            assert early.document_hash is None
            assert not all(ok for _, ok, _ in early.checks)
        read = read_stored(kind=kind, text=text)
        assert read.failure is None
        assert read.document == json.loads(text)
        passed = check_stored(record, kind=kind, text=text, salt=salt, read=read)
        assert all(ok for _, ok, _ in passed.checks)
        assert passed.document_hash is not None


def test_tampering_is_named_when_documents_are_read_while_the_node_answers(recorded: Letters) -> None:
    package = json.loads(recorded.package.model_dump_json())
    changed, _ = _tampered_texts(package["letters"][1]["letter"])
    package["letters"][1]["letter"] = changed
    package["letters"][2]["reply"] = _tampered_texts(package["letters"][2]["reply"])[1]
    report = verify_package(
        EvidencePackage.model_validate(package),
        connect(recorded.network_file.rpc_url),
        anchor=recorded.network_file,
    )
    failed = {(c.subject, c.name): c.detail for c in report.failures}
    first, second = package["letters"][1]["letter_id"], package["letters"][2]["letter_id"]
    assert failed[(first, "letter.hash")].endswith("(the letter document or its salt was altered)")
    assert "reads differently in different programs" in failed[(second, "reply.document")]
    assert {subject for subject, _ in failed} == {first, second}


def test_the_letters_logs_come_in_one_batch_across_topic_chunks(
    recorded: Letters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verifier, "TOPIC_CHUNK", 2)  # six letters: three chunks of letter ids
    asked: list[int] = []
    many = verifier._Node.many

    def counting(node: verifier._Node, requests: list[tuple[str, list[object]]]) -> list[object]:
        asked.append(sum(method == "eth_getLogs" for method, _ in requests))
        return many(node, requests)

    monkeypatch.setattr(verifier._Node, "many", counting)
    report = verify_package(
        recorded.package, connect(recorded.network_file.rpc_url), anchor=recorded.network_file
    )
    assert report.ok, [(c.name, c.detail) for c in report.failures]
    steps = [c for c in report.checks if c.name.startswith("step ")]
    assert len(steps) == sum(len(entry.steps) for entry in recorded.package.letters)
    assert sorted(n for n in asked if n) == [1, 3]  # the members' logs, then every letter chunk at once


def test_the_verifier_s_leaf_is_the_abi_encoding_hashed_twice_by_eth_hash() -> None:
    """The leaf as the contract makes it: keccak256(keccak256(abi.encode(id, hash, bank)))."""
    rng = random.Random(15)
    for bank in [0, 1, 3, 2**32 - 1, *(rng.randrange(2**32) for _ in range(20))]:
        letter_id, letter_hash = os.urandom(32), os.urandom(32)
        record = Letter(letter_id, LetterStatus.CLOSED, 2, bank, 0, bytes(32), letter_hash, bytes(32))
        encoded = encode(["bytes32", "bytes32", "uint32"], [letter_id, letter_hash, bank])
        assert verifier._leaf_hash(record) == keccak(keccak(encoded))


def test_letters_beyond_those_read_ahead_are_read_as_they_are_checked(
    recorded: Letters, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = json.loads(recorded.package.model_dump_json())
    for index in (1, 4):  # one read ahead, one beyond what may be
        package["letters"][index]["letter"] = _tampered_texts(package["letters"][index]["letter"])[0]
    tampered = EvidencePackage.model_validate(package)
    w3 = connect(recorded.network_file.rpc_url)
    every = verify_package(tampered, w3, anchor=recorded.network_file)
    monkeypatch.setattr(verifier, "PREREAD_LETTERS", 2)
    two = verify_package(tampered, w3, anchor=recorded.network_file)
    assert [tuple(c) for c in two.checks] == [tuple(c) for c in every.checks]
    failed = {(c.subject, c.name) for c in two.failures}
    assert failed == {(package["letters"][i]["letter_id"], "letter.hash") for i in (1, 4)}
