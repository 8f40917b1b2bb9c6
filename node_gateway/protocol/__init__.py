"""The off-chain protocol shared by gateways, bank adapters and auditor clients.

- ``documents``: the letter and the reply (versioned pydantic models), on-chain reason codes and
  the time zone of their dates;
- ``hashing``: canonical bytes (RFC 8785), the salted, domain-separated keccak256 hashes, and the
  one ``0x`` hex spelling (``to_hex`` / ``from_hex``);
- ``envelopes``: HPKE (RFC 9180) envelopes between members, and the published key blob;
- ``errors``: ``ProtocolError`` and its branches, each with a stable machine ``code``;
- ``lifecycle``: a letter's states, the actions between them and who takes each (import it
  explicitly);
- ``samples``: realistic documents for tests and the demo (import it explicitly).
"""

from node_gateway.protocol.documents import (
    CHINA_TIME,
    ITEM_TITLES,
    ConfirmationLetter,
    ConfirmationReply,
    Document,
    ItemKey,
    ItemStatus,
    LetterFormat,
    RefusalReason,
    RejectionReason,
    new_letter_id,
    normalise_registration_code,
    parse_letter,
    parse_reply,
)
from node_gateway.protocol.envelopes import (
    DEFAULT_SUITE,
    EncryptionKeyPair,
    EncryptionPublicKey,
    Envelope,
    EnvelopeSuite,
    Step,
    decode_public_keys,
    encode_public_keys,
    open_envelope,
    parse_envelope,
    seal,
)
from node_gateway.protocol.errors import (
    DocumentHashMismatch,
    EnvelopeError,
    EnvelopeMalformed,
    EnvelopeTampered,
    EnvelopeWrongRecipient,
    InvalidDocument,
    InvalidKey,
    ProtocolError,
    UnsupportedSuite,
)
from node_gateway.protocol.hashing import (
    Hash32,
    Salt,
    as_hash32,
    as_salt,
    auditee_reference,
    canonical_bytes,
    document_hash,
    from_hex,
    new_salt,
    organisation_id,
    to_hex,
    verify_document_hash,
)

__all__ = [
    "CHINA_TIME",
    "DEFAULT_SUITE",
    "ITEM_TITLES",
    "ConfirmationLetter",
    "ConfirmationReply",
    "Document",
    "DocumentHashMismatch",
    "EncryptionKeyPair",
    "EncryptionPublicKey",
    "Envelope",
    "EnvelopeError",
    "EnvelopeMalformed",
    "EnvelopeSuite",
    "EnvelopeTampered",
    "EnvelopeWrongRecipient",
    "Hash32",
    "InvalidDocument",
    "InvalidKey",
    "ItemKey",
    "ItemStatus",
    "LetterFormat",
    "ProtocolError",
    "RefusalReason",
    "RejectionReason",
    "Salt",
    "Step",
    "UnsupportedSuite",
    "as_hash32",
    "as_salt",
    "auditee_reference",
    "canonical_bytes",
    "decode_public_keys",
    "document_hash",
    "encode_public_keys",
    "from_hex",
    "new_letter_id",
    "new_salt",
    "normalise_registration_code",
    "open_envelope",
    "organisation_id",
    "parse_envelope",
    "parse_letter",
    "parse_reply",
    "seal",
    "to_hex",
    "verify_document_hash",
]
