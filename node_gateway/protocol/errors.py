"""Protocol exceptions: one root, a branch per thing that can be wrong with what a peer sent.

    ProtocolError                    protocol_error
    ├── InvalidDocument              invalid_document          a letter or reply that fails its schema
    ├── DocumentHashMismatch         document_hash_mismatch    a document and salt that do not give the hash
    ├── StepNotOnChain               step_not_on_chain         words about a chain step the chain does not show
    ├── InvalidKey                   invalid_key               a malformed public-key blob or private key
    ├── SheetError                   sheet_unreadable          a file that is no sheet of letters (``workbook``)
    └── EnvelopeError                envelope_error
        ├── EnvelopeMalformed        envelope_malformed        not an envelope of this protocol version
        ├── EnvelopeTampered         envelope_tampered         does not authenticate: altered, or not ours
        ├── EnvelopeWrongRecipient   envelope_wrong_recipient  addressed to another member
        └── UnsupportedSuite         unsupported_suite         a suite we do not know or hold no key for

``ProtocolError`` is a branch of node_gateway's one root (``node_gateway.errors.NodeGatewayError``).
Each class carries a stable machine ``code``: the gateway returns it in its error bodies (its HTTP
status is in ``node_gateway.api.errors.HTTP_STATUS``), so a code never changes once released (the
class name may).
"""

from __future__ import annotations

from typing import Any, ClassVar

from node_gateway.errors import NodeGatewayError


class ProtocolError(NodeGatewayError):
    """Root of everything wrong with a document, a key or an envelope."""

    code: ClassVar[str] = "protocol_error"


class InvalidDocument(ProtocolError):
    """A letter or reply does not satisfy its schema; ``errors`` lists what pydantic found."""

    code: ClassVar[str] = "invalid_document"

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []

    @property
    def details(self) -> list[dict[str, Any]]:
        return self.errors


class DocumentHashMismatch(ProtocolError):
    """A document with its salt does not hash to the value recorded on chain."""

    code: ClassVar[str] = "document_hash_mismatch"


class StepNotOnChain(ProtocolError):
    """A document speaks of a chain step (a follow-up, a withdrawal) that the chain, read past the
    block it names, does not show: it is refused for good, not retried."""

    code: ClassVar[str] = "step_not_on_chain"


class InvalidKey(ProtocolError):
    """A public-key blob or private key bytes that cannot be decoded."""

    code: ClassVar[str] = "invalid_key"


class EnvelopeError(ProtocolError):
    """An envelope that cannot be opened."""

    code: ClassVar[str] = "envelope_error"


class EnvelopeMalformed(EnvelopeError):
    """Not a well-formed envelope: bad JSON, a missing field, a wrong version."""

    code: ClassVar[str] = "envelope_malformed"


class EnvelopeTampered(EnvelopeError):
    """Decryption failed: the envelope (header, enc or ciphertext) was altered, or not sealed to this key.

    HPKE cannot tell the two apart, and a peer should not learn which it was.
    """

    code: ClassVar[str] = "envelope_tampered"


class EnvelopeWrongRecipient(EnvelopeError):
    """The envelope is addressed to another member."""

    code: ClassVar[str] = "envelope_wrong_recipient"


class UnsupportedSuite(EnvelopeError):
    """The HPKE suite is unknown, or the recipient holds no key for it."""

    code: ClassVar[str] = "unsupported_suite"
