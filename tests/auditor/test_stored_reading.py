"""A stored document's one reading: a text in canonical form is read by compiled code, any other
text the careful way, and every text is judged exactly as the careful reading alone judges it
(property-tested against it and against the ``rfc8785`` package). No chain: the record is built."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor_client import stored
from auditor_client.stored import ReadDocument, check_stored, read_stored
from node_gateway.chain.contracts import Letter, LetterStatus
from node_gateway.protocol import as_salt, to_hex
from node_gateway.protocol.hashing import LETTER_DOMAIN, canonical_bytes, salted_hash
from node_gateway.protocol.samples import sample_letter

SAFE = 2**53 - 1
LETTER_ID = bytes(range(32))
SALT = as_salt(bytes(range(1, 33)))


def _carefully(text: str, monkeypatch: pytest.MonkeyPatch) -> ReadDocument:
    """What the careful reading alone makes of ``text`` (the reading before the compiled one)."""
    with monkeypatch.context() as patched:
        patched.setattr(stored, "_read_canonical", lambda data: None)
        return read_stored(kind="letter", text=text)


def _same(text: str, monkeypatch: pytest.MonkeyPatch) -> ReadDocument:
    """``text`` read as the verifier reads it, asserted identical to the careful reading, down to
    the order of every object's keys."""
    read, careful = read_stored(kind="letter", text=text), _carefully(text, monkeypatch)
    assert read == careful
    assert json.dumps(read.document) == json.dumps(careful.document)
    return read


def _fast(text: str) -> bool:
    """Whether the compiled reading takes ``text`` (a text with a lone surrogate has no UTF-8)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return stored._read_canonical(data) is not None


# Values documents hold, and what they must not: fractions, integers beyond 53 bits, any character
# (control characters, those escaped as pairs, lone surrogates), keys beyond ASCII.
_key = st.text(max_size=6)
_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec=None), max_size=12)
)
_json = st.recursive(
    _leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_key, inner, max_size=4)
)
_documents = st.dictionaries(_key, _json, max_size=6)


def _spellings(document: dict[str, Any]) -> list[str]:
    """The texts of one object: RFC 8785 (where it has one), and others a program might write."""
    texts = [
        json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        json.dumps(document, sort_keys=True, separators=(",", ":")),  # escaped beyond ASCII
        json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1),
    ]
    with contextlib.suppress(rfc8785.CanonicalizationError, ValueError):
        texts.append(rfc8785.dumps(document).decode("utf-8"))
    return texts


def _member(key: str, value: Any) -> str:
    return (
        json.dumps(key, ensure_ascii=False)
        + ":"
        + json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    )


def _repeating(document: dict[str, Any], index: int, value: Any) -> str:
    """The object's compact text with sorted keys, the key at ``index`` written twice in place
    (the second time with ``value``): what a sorting encoder would write but for the repetition."""
    members = sorted(document.items())
    written = [_member(k, v) for k, v in members]
    written.insert(index + 1, _member(members[index][0], value))
    return "{" + ",".join(written) + "}"


@settings(max_examples=400, deadline=None)
@given(_documents)
def test_every_text_reads_as_the_careful_reading_reads_it(document: dict[str, Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for text in _spellings(document):
            _same(text, monkeypatch)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_key, _json, min_size=1, max_size=6), st.data())
def test_a_repeated_key_is_refused_where_a_sorting_encoder_would_put_it(
    document: dict[str, Any], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(document) - 1))
    value = data.draw(_json)
    text = _repeating(document, index, value)
    assert not _fast(text)
    with pytest.MonkeyPatch.context() as monkeypatch:
        read = _same(text, monkeypatch)
    assert read.document == {}
    assert read.failure is not None


# What the gateways' documents hold: ASCII keys; strings of any character but lone surrogates;
# integers every parser reads exactly; booleans and nulls.
_plain_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
)
_plain_key = st.text(st.characters(max_codepoint=127), max_size=6)
_plain = st.recursive(
    _plain_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_plain_key, inner, max_size=4)
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_plain_key, _plain, max_size=6))
def test_the_rfc_8785_text_of_what_documents_hold_takes_the_compiled_reading(
    document: dict[str, Any],
) -> None:
    text = rfc8785.dumps(document).decode("utf-8")
    assert _fast(text)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _same(text, monkeypatch) == ReadDocument(text.encode("utf-8"), document)


def test_a_gateway_s_letter_takes_the_compiled_reading() -> None:
    assert _fast(canonical_bytes(sample_letter(letter_id=to_hex(LETTER_ID))).decode("utf-8"))


@pytest.mark.parametrize(
    ("text", "fast", "refused"),
    [
        ('{"a":1,"b":9007199254740991}', True, None),
        ('{"a":1,"b":-9007199254740991}', True, None),
        ('{"a":1,"b":9007199254740992}', False, "beyond what every parser reads exactly"),
        ('{"a":1,"b":-9007199254740992}', False, "beyond what every parser reads exactly"),
        ('{"a":1,"b":99999999999999999999999}', False, "beyond what every parser reads exactly"),
        ('{"a":1,"b":1.0}', False, "documents hold amounts as text"),
        ('{"a":1,"b":1e5}', False, "documents hold amounts as text"),
        ('{"a":1,"b":-0}', False, None),  # not canonical ("0"): read carefully, accepted
        ('{"a":1,"b":NaN}', False, "documents hold amounts as text"),
        ('{"a":1,"a":1}', False, "a key is repeated"),
        ('{"a":{"x":1,"x":1},"b":2}', False, "a key is repeated"),
        ('{"a":"\\u0007\\n\\"\\\\/"}', True, None),  # escapes RFC 8785 writes
        ('{"a":"\\u00e9"}', False, None),  # an escape it does not: read carefully, accepted
        ('{"a":"\\ud83d\\ude00"}', False, None),  # a pair of surrogates: one character
        ('{"a":"\\ud800"}', False, "no JSON object"),  # a lone surrogate: no character
        ('{"\U0001f600":2,"\ue000":1}', False, None),  # RFC 8785's order, by UTF-16 units
        ('{"\ue000":1,"\U0001f600":2}', True, None),  # orjson's, by code points: one reading too
        ('[{"a":1}]', False, "not a JSON object"),
        ('{"a":1} ', False, None),
        ("", False, "no JSON object"),
    ],
)
def test_numbers_escapes_and_repeated_keys_are_judged_as_before(
    text: str, fast: bool, refused: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _fast(text) is fast
    read = _same(text, monkeypatch)
    if refused is None:
        assert read.failure is None
    else:
        assert read.failure is not None
        assert refused in read.failure


def _record(text: str) -> Letter:
    """The chain's record of a letter whose author recorded exactly ``text``."""
    letter_hash = salted_hash(LETTER_DOMAIN, SALT, text.encode("utf-8"))
    return Letter(LETTER_ID, LetterStatus.REQUESTED, 2, 3, 0, bytes(32), letter_hash, bytes(32))


def test_a_hashed_letter_with_a_repeated_key_in_sorted_place_proves_nothing() -> None:
    canonical = canonical_bytes(sample_letter(letter_id=to_hex(LETTER_ID))).decode("utf-8")
    letter = json.loads(canonical)
    real = '"auditee":' + json.dumps(letter["auditee"], ensure_ascii=False, separators=(",", ":"))
    fake = '"auditee":{"name":"假公司","registration_code":"91310000000000000X"}'
    for text in (
        canonical.replace(real, fake + "," + real, 1),
        canonical.replace(real, real + "," + fake, 1),
    ):
        assert text != canonical
        checked = check_stored(_record(text), kind="letter", text=text, salt=SALT)
        assert [(name, ok) for name, ok, _ in checked.checks] == [("document", False)]
        assert "reads differently in different programs (a key is repeated)" in checked.checks[0][2]
        assert (checked.document_hash, checked.document) == (None, {})
    checked = check_stored(_record(canonical), kind="letter", text=canonical, salt=SALT)
    assert checked.document_hash == to_hex(_record(canonical).letter_hash)
    assert checked.document == letter
