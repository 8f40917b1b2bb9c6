"""HPKE envelopes: they open for the addressed member only, and not at all once anything changed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from node_gateway.protocol import (
    DEFAULT_SUITE,
    EncryptionKeyPair,
    EncryptionPublicKey,
    Envelope,
    EnvelopeError,
    EnvelopeMalformed,
    EnvelopeSuite,
    EnvelopeTampered,
    EnvelopeWrongRecipient,
    InvalidKey,
    UnsupportedSuite,
    canonical_bytes,
    decode_public_keys,
    encode_public_keys,
    open_envelope,
    parse_envelope,
    seal,
)
from node_gateway.protocol.envelopes import EnvelopeHeader, envelope_from
from node_gateway.protocol.samples import sample_letter

LETTER_ID = "0x" + "5a" * 32
FIRM, BANK, OTHER_BANK = 2, 3, 4
SUITES = list(EnvelopeSuite)


@cache
def _keys(suite: EnvelopeSuite, member: int) -> EncryptionKeyPair:
    """One key pair per member and suite, the same all session (ML-KEM key generation is not free)."""
    return EncryptionKeyPair.generate(suite)


def _seal(suite: EnvelopeSuite, plaintext: bytes = b"letter bytes", **header: Any) -> Envelope:
    fields: dict[str, Any] = {"letter_id": LETTER_ID, "step": "letter", "sender": FIRM, "recipient": BANK}
    fields.update(header)
    return seal(plaintext, _keys(suite, fields["recipient"]).public_key, **fields)


@pytest.mark.parametrize("suite", SUITES)
def test_round_trip(suite: EnvelopeSuite) -> None:
    plaintext = canonical_bytes(sample_letter(letter_id=LETTER_ID))
    envelope = _seal(suite, plaintext)
    assert envelope.suite is suite
    assert plaintext not in envelope.ciphertext
    assert open_envelope(envelope, _keys(suite, BANK), BANK) == plaintext


@pytest.mark.parametrize("suite", SUITES)
def test_round_trip_through_json(suite: EnvelopeSuite) -> None:
    envelope = _seal(suite)
    text = envelope.model_dump_json()
    data = json.loads(text)
    assert base64.b64decode(data["enc"], validate=True) == envelope.enc
    assert data["ciphertext"] == base64.b64encode(envelope.ciphertext).decode()
    assert open_envelope(parse_envelope(text), _keys(suite, BANK), BANK) == b"letter bytes"


def test_default_suite_is_x25519() -> None:
    assert DEFAULT_SUITE is EnvelopeSuite.X25519
    assert EncryptionKeyPair.generate().suite is EnvelopeSuite.X25519


def test_sealing_twice_gives_different_envelopes() -> None:
    assert _seal(DEFAULT_SUITE).enc != _seal(DEFAULT_SUITE).enc


def test_recipient_holding_several_keys_uses_the_matching_one() -> None:
    keyring = [_keys(suite, BANK) for suite in SUITES]
    for suite in SUITES:
        assert open_envelope(_seal(suite), keyring, BANK) == b"letter bytes"


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(
    ("field", "value"),
    [("letter_id", "0x" + "5b" * 32), ("step", "reply"), ("sender", OTHER_BANK), ("recipient", OTHER_BANK)],
)
def test_tampered_header_does_not_open(suite: EnvelopeSuite, field: str, value: Any) -> None:
    tampered = _seal(suite).model_copy(update={field: value})
    # The addressed bank's gateway opens it as its own (expected_recipient is who the gateway is).
    recipient = tampered.recipient
    with pytest.raises(EnvelopeTampered):
        open_envelope(tampered, _keys(suite, BANK), recipient)


def test_tampered_suite_does_not_open() -> None:
    envelope = _seal(EnvelopeSuite.X25519)
    tampered = envelope.model_copy(update={"suite": EnvelopeSuite.MLKEM768_X25519})
    with pytest.raises(UnsupportedSuite):
        open_envelope(tampered, _keys(EnvelopeSuite.X25519, BANK), BANK)
    with pytest.raises(EnvelopeTampered):
        open_envelope(tampered, [_keys(suite, BANK) for suite in SUITES], BANK)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("part", ["enc", "ciphertext"])
@pytest.mark.parametrize("where", [0, -1])
def test_tampered_enc_or_ciphertext_does_not_open(suite: EnvelopeSuite, part: str, where: int) -> None:
    envelope = _seal(suite)
    data: bytes = getattr(envelope, part)
    tampered = envelope.model_copy(update={part: _flip(data, where % len(data))})
    with pytest.raises(EnvelopeTampered):
        open_envelope(tampered, _keys(suite, BANK), BANK)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("part", ["enc", "ciphertext"])
def test_truncated_or_empty_parts_do_not_open(suite: EnvelopeSuite, part: str) -> None:
    envelope = _seal(suite)
    for replacement in (getattr(envelope, part)[:-1], b""):
        with pytest.raises(EnvelopeTampered):
            open_envelope(envelope.model_copy(update={part: replacement}), _keys(suite, BANK), BANK)


def test_low_order_x25519_enc_does_not_open() -> None:
    envelope = _seal(EnvelopeSuite.X25519).model_copy(update={"enc": bytes(32)})
    with pytest.raises(EnvelopeTampered):
        open_envelope(envelope, _keys(EnvelopeSuite.X25519, BANK), BANK)


@pytest.mark.parametrize("suite", SUITES)
def test_another_members_key_does_not_open(suite: EnvelopeSuite) -> None:
    with pytest.raises(EnvelopeTampered, match="not sealed to this key"):
        open_envelope(_seal(suite), _keys(suite, OTHER_BANK), BANK)


def test_envelope_for_another_member_is_refused_before_decrypting() -> None:
    with pytest.raises(EnvelopeWrongRecipient) as caught:
        open_envelope(_seal(DEFAULT_SUITE), _keys(DEFAULT_SUITE, OTHER_BANK), OTHER_BANK)
    assert caught.value.code == "envelope_wrong_recipient"


def test_header_is_validated_when_sealing() -> None:
    with pytest.raises(ValidationError, match="from one member to another"):
        _seal(DEFAULT_SUITE, sender=BANK)
    with pytest.raises(ValidationError, match="step"):
        _seal(DEFAULT_SUITE, step="close")
    with pytest.raises(ValidationError, match="letter_id"):
        _seal(DEFAULT_SUITE, letter_id="0x1234")


def test_info_binds_every_header_field() -> None:
    header = _seal(DEFAULT_SUITE).header
    info = json.loads(header.info())
    assert info == {"protocol": "confirmnet/envelope", **header.model_dump(mode="json")}
    assert set(info) == {"protocol", *EnvelopeHeader.model_fields}


def test_parse_envelope_errors() -> None:
    data = json.loads(_seal(DEFAULT_SUITE).model_dump_json())
    with pytest.raises(UnsupportedSuite):
        parse_envelope(json.dumps(data | {"suite": "rsa-oaep"}))
    with pytest.raises(EnvelopeMalformed) as caught:
        parse_envelope(json.dumps(data | {"version": 2}))
    assert isinstance(caught.value, EnvelopeError)
    with pytest.raises(EnvelopeMalformed):
        parse_envelope(json.dumps(data | {"enc": "not base64!"}))
    with pytest.raises(EnvelopeMalformed):
        parse_envelope(json.dumps(data | {"extra": 1}))
    with pytest.raises(EnvelopeMalformed):
        parse_envelope(b"{")


@pytest.mark.parametrize(
    "change",
    [{}, {"suite": "rsa-oaep"}, {"version": 2}, {"enc": "not base64!"}, {"extra": 1}, {"sender": "1"}],
)
def test_an_envelope_already_read_is_judged_as_its_json(change: dict[str, Any]) -> None:
    """``envelope_from`` (a batch's item, read with the body) gives what ``parse_envelope`` of the
    same JSON gives: the same envelope, or the same error."""
    data = json.loads(_seal(DEFAULT_SUITE).model_dump_json()) | change
    readers: list[Callable[[], Envelope]] = [
        lambda: parse_envelope(json.dumps(data)),
        lambda: envelope_from(data),
    ]
    outcomes: list[Envelope | type[EnvelopeError]] = []
    for read in readers:
        try:
            outcomes.append(read())
        except EnvelopeError as exc:
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]
    with pytest.raises(EnvelopeMalformed):
        envelope_from(["not", "an", "envelope"])


# --- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_key_pair_survives_its_private_bytes(suite: EnvelopeSuite) -> None:
    keys = _keys(suite, BANK)
    again = EncryptionKeyPair(suite, keys.private_bytes())
    assert again.public_key == keys.public_key
    assert open_envelope(_seal(suite), again, BANK) == b"letter bytes"
    assert keys.private_bytes().hex() not in repr(keys)


def test_key_lengths_are_checked() -> None:
    with pytest.raises(InvalidKey, match="32 bytes"):
        EncryptionKeyPair(EnvelopeSuite.X25519, bytes(31))
    with pytest.raises(InvalidKey, match="96 bytes"):
        EncryptionKeyPair(EnvelopeSuite.MLKEM768_X25519, bytes(32))
    with pytest.raises(InvalidKey, match="1216 bytes"):
        EncryptionPublicKey(EnvelopeSuite.MLKEM768_X25519, bytes(32))


def test_public_key_blob_round_trip_keeps_order() -> None:
    keys = [
        _keys(EnvelopeSuite.MLKEM768_X25519, BANK).public_key,
        _keys(EnvelopeSuite.X25519, BANK).public_key,
    ]
    decoded = decode_public_keys(encode_public_keys(keys))
    assert list(decoded.values()) == keys
    assert decode_public_keys(b"") == {}
    assert decode_public_keys(encode_public_keys([])) == {}


def test_public_key_blob_skips_unknown_suites() -> None:
    known = _keys(EnvelopeSuite.X25519, BANK).public_key
    blob = encode_public_keys([known]) + bytes([200, 0, 3]) + b"new"
    assert decode_public_keys(blob) == {EnvelopeSuite.X25519: known}


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x02", "format 2"),
        (b"\x01\x01", "truncated in an entry header"),
        (b"\x01\x01\x00\x20" + bytes(31), "truncated in a key"),
        (b"\x01\x01\x00\x10" + bytes(16), "32 bytes"),
        (b"\x01" + 2 * (b"\x01\x00\x20" + bytes(32)), "two public keys"),
    ],
)
def test_bad_public_key_blobs_are_refused(blob: bytes, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        decode_public_keys(blob)


def test_encoding_two_keys_of_one_suite_is_refused() -> None:
    key = _keys(EnvelopeSuite.X25519, BANK).public_key
    with pytest.raises(InvalidKey, match="two public keys"):
        encode_public_keys([key, key])


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(max_size=4096), step=st.sampled_from(["letter", "reply"]))
def test_random_plaintexts_round_trip_x25519(plaintext: bytes, step: str) -> None:
    envelope = _seal(EnvelopeSuite.X25519, plaintext, step=step)
    assert open_envelope(
        parse_envelope(envelope.model_dump_json()), _keys(EnvelopeSuite.X25519, BANK), BANK
    ) == (plaintext)


@settings(max_examples=15, deadline=None)
@given(plaintext=st.binary(max_size=4096))
def test_random_plaintexts_round_trip_hybrid(plaintext: bytes) -> None:
    suite = EnvelopeSuite.MLKEM768_X25519
    assert open_envelope(_seal(suite, plaintext), _keys(suite, BANK), BANK) == plaintext


@settings(max_examples=30, deadline=None)
@given(plaintext=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_single_bit_flip_is_detected(plaintext: bytes, data: st.DataObject) -> None:
    envelope = _seal(EnvelopeSuite.X25519, plaintext)
    sealed = envelope.enc + envelope.ciphertext
    index = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    flipped = sealed[:index] + bytes([sealed[index] ^ (1 << bit)]) + sealed[index + 1 :]
    tampered = envelope.model_copy(update={"enc": flipped[:32], "ciphertext": flipped[32:]})
    with pytest.raises(EnvelopeTampered):
        open_envelope(tampered, _keys(EnvelopeSuite.X25519, BANK), BANK)
