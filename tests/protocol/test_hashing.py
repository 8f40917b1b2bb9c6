"""Canonical bytes and salted hashes: stable where they must be, different wherever anything differs."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from node_gateway.protocol import (
    ConfirmationLetter,
    DocumentHashMismatch,
    Salt,
    as_hash32,
    as_salt,
    auditee_reference,
    canonical_bytes,
    document_hash,
    new_salt,
    organisation_id,
    parse_letter,
    to_hex,
    verify_document_hash,
)
from node_gateway.protocol.documents import (
    AccountType,
    DepositType,
    GuaranteeKind,
    GuaranteeMethod,
    LetterFormat,
    LetterItems,
    ProductType,
)
from node_gateway.protocol.hashing import (
    LETTER_DOMAIN,
    REPLY_DOMAIN,
    canonical_json,
    from_hex,
    hashed_document,
    salted_hash,
)
from node_gateway.protocol.samples import AUDITEE_CODE, sample_letter, sample_reply

from .strategies import letters

SALT = as_salt(bytes(range(32)))
OTHER_SALT = as_salt(bytes(range(1, 33)))
LETTER_ID = "0x" + "11" * 32


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


def _minimal_letter() -> ConfirmationLetter:
    items: dict[str, Any] = {key: {"not_applicable": True} for key in LetterItems.model_fields}
    items["deposits"] = {
        "entries": [
            {
                "account_no": "31050161373600001234",
                "account_name": "上海江南精密机械股份有限公司",
                "currency": "CNY",
                "account_type": "basic",
                "deposit_type": "demand",
                "balance": "12345678.90",
            }
        ]
    }
    return ConfirmationLetter.model_validate(
        {
            "letter_id": LETTER_ID,
            "confirmation_no": "MJ-2025-000001",
            "format": "one",
            "reference_date": "2024-12-31",
            "issued_on": "2025-01-06",
            "audit_period": {"start": "2024-01-01", "end": "2024-12-31"},
            "audit_firm": {"member_no": 2, "name": "明鉴会计师事务所(特殊普通合伙)"},
            "firm_contact": {"name": "赵敏", "phone": "+862163508800"},
            "bank": {"member_no": 3, "name": "东海银行股份有限公司"},
            "auditee": {"name": "上海江南精密机械股份有限公司", "registration_code": AUDITEE_CODE},
            "items": items,
        }
    )


def test_canonical_bytes_ignore_key_order_and_whitespace() -> None:
    letter = sample_letter(letter_id=LETTER_ID)
    data = letter.model_dump(mode="json")
    rng = random.Random(7)
    for indent in (None, 0, 2, "\t"):
        text = json.dumps(_shuffled(data, rng), indent=indent, ensure_ascii=bool(indent))
        assert canonical_bytes(parse_letter(text)) == canonical_bytes(letter)


def test_canonical_bytes_are_rfc8785() -> None:
    canonical = canonical_bytes(_minimal_letter())
    text = canonical.decode()
    assert '"balance":"12345678.90"' in text  # decimals as strings, never floats
    assert '"reference_date":"2024-12-31"' in text
    assert "上海江南" in text  # UTF-8, not \\u escapes
    assert " " not in text.replace("(特殊普通合伙)", "")  # no insignificant whitespace
    assert text.startswith('{"audit_firm":')  # keys sorted
    assert json.loads(text) == _minimal_letter().model_dump(mode="json")


def test_known_answers() -> None:
    # Pinned: changing any of these changes every hash on chain, so it must be on purpose.
    assert to_hex(organisation_id(AUDITEE_CODE)) == (
        "0x4f3cff419ffef14565aa14f97b83be38df3ded60c774b125a5918cb55e5ceaec"
    )
    assert to_hex(auditee_reference(AUDITEE_CODE, SALT)) == (
        "0xc3d8df5ab209a1d1d8d63548f65f230c80bf6ab905237b9be40e1986e7bf0444"
    )
    assert to_hex(document_hash(_minimal_letter(), SALT)) == (
        "0x53819ea9b9909926163b0f7507153eecf53cc718c8572606c1fa877064025213"
    )


def test_hashed_document_gives_the_bytes_it_hashed() -> None:
    letter = sample_letter()
    reply = sample_reply(letter, letter_hash=document_hash(letter, SALT))
    for document in (letter, reply):
        canonical, digest = hashed_document(document, SALT)
        assert canonical == canonical_bytes(document)
        assert digest == document_hash(document, SALT)
    assert hashed_document(letter, SALT)[1] == salted_hash(LETTER_DOMAIN, SALT, canonical_bytes(letter))


def test_hash_changes_with_the_salt() -> None:
    letter = sample_letter()
    assert document_hash(letter, SALT) != document_hash(letter, OTHER_SALT)
    assert document_hash(letter, SALT) == document_hash(letter, as_salt(bytes(SALT)))


def test_hash_is_separated_by_domain() -> None:
    data = canonical_bytes(sample_letter())
    assert salted_hash(LETTER_DOMAIN, SALT, data) != salted_hash(REPLY_DOMAIN, SALT, data)
    letter = sample_letter()
    reply = sample_reply(letter, letter_hash=document_hash(letter, SALT))
    assert document_hash(reply, SALT) == salted_hash(REPLY_DOMAIN, SALT, canonical_bytes(reply))
    assert document_hash(letter, SALT) == salted_hash(LETTER_DOMAIN, SALT, canonical_bytes(letter))


def test_salt_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        as_salt(b"\x00" * 31)
    with pytest.raises(ValueError, match="32 bytes"):
        document_hash(sample_letter(), Salt(b"short"))
    assert len(new_salt()) == 32
    assert new_salt() != new_salt()


def test_verify_document_hash() -> None:
    letter = sample_letter()
    expected = document_hash(letter, SALT)
    verify_document_hash(letter, SALT, expected)
    with pytest.raises(DocumentHashMismatch, match=letter.letter_id) as caught:
        verify_document_hash(letter, OTHER_SALT, expected)
    assert caught.value.code == "document_hash_mismatch"


def test_hash32_helpers() -> None:
    value = bytes(range(32))
    assert as_hash32(to_hex(value)) == value
    assert as_hash32(value) == value
    with pytest.raises(ValueError, match="32 bytes"):
        as_hash32("0x1234")


# --- every field counts ------------------------------------------------------------------------

_ENUM_VALUES = [
    [member.value for member in enum]
    for enum in (AccountType, DepositType, GuaranteeKind, GuaranteeMethod, LetterFormat, ProductType)
]


def _candidates(value: Any) -> list[Any]:
    """Valid-looking replacements for one JSON leaf, most specific first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1]
    if not isinstance(value, str):
        return []
    found: list[Any] = []
    for values in _ENUM_VALUES:
        if value in values:
            found += [v for v in values if v != value]
    try:
        day = date.fromisoformat(value)
        found += [(day + timedelta(days=1)).isoformat(), (day - timedelta(days=1)).isoformat()]
    except ValueError:
        pass
    try:
        number = Decimal(value)
        found += [str(number + 1), str(number - Decimal("0.01"))]
    except InvalidOperation:
        pass
    if value.startswith("0x"):
        found.append(value[:-1] + ("0" if value[-1] != "0" else "1"))
    if len(value) == 3 and value.isupper():
        found.append("XAU" if value != "XAU" else "XAG")
    found += [value + "7", value[:-1] or "X"]
    return found


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    return [(path, value)]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def test_hash_changes_with_every_field() -> None:
    letter = sample_letter(letter_id=LETTER_ID)
    data = letter.model_dump(mode="json")
    original = document_hash(letter, SALT)
    untouched = []
    for path, value in _leaves(data):
        if value is None or path in {("schema",), ("version",)}:
            continue
        for candidate in _candidates(value):
            try:
                changed = ConfirmationLetter.model_validate(_replace(data, path, candidate))
            except ValidationError:
                continue
            assert document_hash(changed, SALT) != original, path
            break
        else:
            untouched.append(path)
    # These flags cannot flip alone (entries need not_applicable false, a note needs restricted).
    assert {path[-1] for path in untouched} <= {"not_applicable", "restricted"}


def test_hash_tells_not_applicable_from_blank() -> None:
    letter = sample_letter(letter_id=LETTER_ID, letter_format=LetterFormat.TWO)
    data = letter.model_dump(mode="json")
    marked = ConfirmationLetter.model_validate(_replace(data, ("items", "loans", "not_applicable"), True))
    assert letter.items.loans.blank
    assert document_hash(marked, SALT) != document_hash(letter, SALT)


# --- auditee reference and organisation id -----------------------------------------------------


def test_auditee_reference_is_deterministic_given_the_salt() -> None:
    firm_side = auditee_reference(AUDITEE_CODE, SALT)
    bank_side = auditee_reference(AUDITEE_CODE.lower(), as_salt(bytes(SALT)))
    assert firm_side == bank_side
    assert len(firm_side) == 32


def test_auditee_reference_is_not_the_organisation_id() -> None:
    assert auditee_reference(AUDITEE_CODE, SALT) != organisation_id(AUDITEE_CODE)


@settings(max_examples=50)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_different_salts_give_unlinkable_references(first: bytes, second: bytes) -> None:
    if first != second:
        assert auditee_reference(AUDITEE_CODE, as_salt(first)) != auditee_reference(
            AUDITEE_CODE, as_salt(second)
        )


def test_organisation_id_is_normalised_and_unsalted() -> None:
    assert organisation_id(AUDITEE_CODE) == organisation_id(f" {AUDITEE_CODE.lower()} ")
    assert organisation_id(AUDITEE_CODE) != organisation_id("91310000132209448X")


# --- properties over random letters ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(letters(), st.randoms(use_true_random=False))
def test_canonical_form_is_stable_for_random_letters(letter: ConfirmationLetter, rng: random.Random) -> None:
    text = json.dumps(_shuffled(letter.model_dump(mode="json"), rng), indent=rng.choice([None, 1, 4]))
    reparsed = parse_letter(text)
    assert canonical_bytes(reparsed) == canonical_bytes(letter)
    assert document_hash(reparsed, SALT) == document_hash(letter, SALT)


@settings(max_examples=40, deadline=None)
@given(letters(), letters())
def test_different_letters_have_different_hashes(
    first: ConfirmationLetter, second: ConfirmationLetter
) -> None:
    if first != second:
        assert canonical_bytes(first) != canonical_bytes(second)
        assert document_hash(first, SALT) != document_hash(second, SALT)


_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
_json_values = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_canonical_json_is_exactly_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_canonical_json_handles_what_the_fast_path_cannot() -> None:
    # Non-ASCII keys sort by UTF-16 code units; floats take their shortest form.
    for value in ({"\ue000": 1, "\U0001f600": 2}, {"x": 0.1}, {"控制": "\x01\n"}):
        assert canonical_json(value) == rfc8785.dumps(value)
    for unrepresentable in ({"n": 2**60}, {"lone surrogate": "\ud800"}):
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(unrepresentable)


@given(st.binary(max_size=64))
def test_hex_spelling_round_trips(value: bytes) -> None:
    spelled = to_hex(value)
    assert spelled == "0x" + value.hex()
    assert from_hex(spelled) == value
    assert from_hex(spelled.removeprefix("0x").upper()) == value


def test_from_hex_refuses_what_is_no_hex() -> None:
    with pytest.raises(ValueError, match="non-hexadecimal"):
        from_hex("0xzz")
