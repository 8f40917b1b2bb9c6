"""A letter's bytes are parsed once for the gateway's latest letters (``letters.parsed_letter``):
the arrival and the round that checks the letter share one frozen parse; a refusal is not
remembered, so the same bytes are refused again."""

from __future__ import annotations

import pytest

from node_gateway.protocol.documents import parse_letter
from node_gateway.protocol.errors import InvalidDocument
from node_gateway.protocol.hashing import canonical_bytes
from node_gateway.protocol.samples import sample_letter
from node_gateway.services.letters import parsed_letter


def test_the_same_bytes_give_the_same_parse() -> None:
    letter = sample_letter()
    first = parsed_letter(canonical_bytes(letter))
    assert first == letter == parse_letter(canonical_bytes(letter))
    assert parsed_letter(bytes(canonical_bytes(letter))) is first  # equal bytes, another object
    assert parsed_letter(canonical_bytes(sample_letter())) is not first
    with pytest.raises(AttributeError):
        first.entries.append(None)  # type: ignore[attr-defined]  # nothing in it can be changed


def test_a_refused_letter_is_refused_again() -> None:
    broken = canonical_bytes(sample_letter())[:-1]
    for _ in range(2):
        with pytest.raises(InvalidDocument):
            parsed_letter(broken)
