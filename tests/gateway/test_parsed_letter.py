"""A letter's document is opened and parsed once for the gateway's latest letters
(``letters.stored_letter``): the arrival and the round that checks the letter, in transactions of
their own, share one frozen parse; the vault's binding of a sealed document to its letter still
holds, and a refusal is not remembered, so the same bytes are refused again."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import cast

import pytest

from node_gateway.node import Node
from node_gateway.protocol.errors import InvalidDocument
from node_gateway.protocol.hashing import canonical_bytes, new_salt
from node_gateway.protocol.samples import sample_letter
from node_gateway.services import letters
from node_gateway.storage.models import LetterRow
from node_gateway.storage.vault import StoredDocument, Vault, VaultError


def _node() -> Node:
    """What ``stored_letter`` asks of a node: its vault, under a storage key of its own."""
    return cast(Node, SimpleNamespace(vault=Vault(secrets.token_bytes(32))))


def _row(vault: Vault, letter_id: str, canonical: bytes) -> LetterRow:
    sealed = vault.seal(letter_id, "letter", StoredDocument(canonical, new_salt()))
    return LetterRow(letter_id=letter_id, letter_sealed=sealed)


def test_a_letter_is_opened_and_parsed_once_across_transactions() -> None:
    node = _node()
    letter = sample_letter()
    row = _row(node.vault, letter.letter_id, canonical_bytes(letter))
    first = letters.stored_letter(node, row)
    assert first == letter
    again = LetterRow(letter_id=row.letter_id, letter_sealed=bytes(row.letter_sealed or b""))  # another read
    assert letters.stored_letter(node, again) is first
    with pytest.raises(AttributeError):
        first.entries.append(None)  # type: ignore[attr-defined]  # nothing in it can be changed
    # Another vault (another member's storage key) does not get this one's letter.
    other = _node()
    with pytest.raises(VaultError):
        letters.stored_letter(other, again)


def test_the_arrivals_parse_is_the_rounds() -> None:
    node = _node()
    letter = sample_letter()
    row = _row(node.vault, letter.letter_id, canonical_bytes(letter))
    letters.keep_opened_letter(node, row, letter)
    assert letters.stored_letter(node, row) is letter


def test_a_sealed_letter_moved_to_another_letters_row_does_not_open() -> None:
    node = _node()
    letter = sample_letter()
    row = _row(node.vault, letter.letter_id, canonical_bytes(letter))
    letters.stored_letter(node, row)  # remembered under its own letter
    moved = LetterRow(letter_id="0x" + "cd" * 32, letter_sealed=row.letter_sealed)
    with pytest.raises(VaultError):
        letters.stored_letter(node, moved)


def test_a_refused_letter_is_refused_again() -> None:
    node = _node()
    letter = sample_letter()
    row = _row(node.vault, letter.letter_id, canonical_bytes(letter)[:-1])
    for _ in range(2):
        with pytest.raises(InvalidDocument):
            letters.stored_letter(node, row)
