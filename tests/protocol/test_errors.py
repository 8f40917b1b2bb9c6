"""The exception tree: one root, stable machine codes, and the docstring that draws it."""

from __future__ import annotations

import node_gateway.protocol.errors as errors_module
from node_gateway.protocol import errors
from node_gateway.protocol.workbook import SheetError

CODES = {
    errors.ProtocolError: "protocol_error",
    errors.InvalidDocument: "invalid_document",
    errors.DocumentHashMismatch: "document_hash_mismatch",
    errors.StepNotOnChain: "step_not_on_chain",
    errors.InvalidKey: "invalid_key",
    SheetError: "sheet_unreadable",
    errors.EnvelopeError: "envelope_error",
    errors.EnvelopeMalformed: "envelope_malformed",
    errors.EnvelopeTampered: "envelope_tampered",
    errors.EnvelopeWrongRecipient: "envelope_wrong_recipient",
    errors.UnsupportedSuite: "unsupported_suite",
}


def _all_error_classes() -> set[type[errors.ProtocolError]]:
    found: set[type[errors.ProtocolError]] = set()
    pending: list[type[errors.ProtocolError]] = [errors.ProtocolError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_codes_are_stable_and_unique() -> None:
    assert {cls: cls.code for cls in _all_error_classes()} == CODES


def test_envelope_errors_share_a_branch() -> None:
    for cls in (errors.EnvelopeMalformed, errors.EnvelopeTampered, errors.EnvelopeWrongRecipient):
        assert issubclass(cls, errors.EnvelopeError)
    assert issubclass(errors.UnsupportedSuite, errors.EnvelopeError)


def test_docstring_draws_every_class_with_its_code() -> None:
    doc = errors_module.__doc__ or ""
    for cls, code in CODES.items():
        assert f"{cls.__name__} " in doc
        assert code in doc


def test_invalid_document_carries_errors() -> None:
    error = errors.InvalidDocument("bad", [{"loc": ["letter_id"], "msg": "x", "type": "y"}])
    assert error.errors[0]["loc"] == ["letter_id"]
    assert str(error) == "bad"
    assert errors.InvalidDocument("bad").errors == []
