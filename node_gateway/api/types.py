"""The user API's bounded values, shared by route parameters and request models.

Every number is bounded by what holds it: the chain (member ids ``uint32``, times ``uint64``,
reason codes ``uint16``, nonces ``uint256``) and the database (signed 64-bit integers), whichever
is narrower, so an out-of-range value is a 422 at the edge and never an overflow further in.
Identifiers have their one spelling: letter ids ``0x`` and 64 hex digits (lower-cased), account
addresses ``0x`` and 40 (checksummed; a mixed-case address must carry a valid checksum),
registration codes as ``normalise_registration_code`` takes them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from web3 import Web3

from node_gateway.protocol.documents import normalise_registration_code

UINT16_MAX = 2**16 - 1
UINT32_MAX = 2**32 - 1
INT32_MAX = 2**31 - 1  # the database's INTEGER
INT64_MAX = 2**63 - 1  # the database's BIGINT (the chain's uint64 times are wider)
UINT256_MAX = 2**256 - 1

MemberId = Annotated[int, Field(ge=1, le=UINT32_MAX, description="A member's number (uint32 on chain)")]
UnixTime = Annotated[
    int, Field(ge=0, le=INT64_MAX, description="Unix seconds (uint64 on chain, 64-bit signed stored)")
]
ReasonCode = Annotated[int, Field(ge=0, le=UINT16_MAX, description="A reason code (uint16 on chain)")]
Nonce = Annotated[int, Field(ge=0, le=UINT256_MAX, description="An authorisation's nonce (uint256)")]
Offset = Annotated[int, Field(ge=0, le=INT64_MAX)]
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]


def _lower(value: str) -> str:
    return value.lower()


def _checksummed(value: str) -> str:
    if not Web3.is_address(value):
        raise ValueError("not an account address (a mixed-case address must carry its checksum)")
    return str(Web3.to_checksum_address(value))


LetterId = Annotated[
    str,
    Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="A letter id: 0x and 64 hex digits"),
    AfterValidator(_lower),
]
Address = Annotated[
    str,
    Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="An account address: 0x and 40 hex digits"),
    AfterValidator(_checksummed),
]
RegistrationCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A registration code (统一社会信用代码): 8 to 32 letters and digits; "
        "full-width forms, lower case, spaces and hyphens are accepted too and normalised",
        # The canonical spelling, for clients and generated requests; the validator takes the rest.
        json_schema_extra={"pattern": "^[0-9A-Z]{8,32}$", "examples": ["91310000MA1FL0TE5Q"]},
    ),
    AfterValidator(normalise_registration_code),
]
