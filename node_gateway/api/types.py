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

from pydantic import Field

# The values the user API shares with its clients are the wire's (node_gateway.protocol.wire).
from node_gateway.protocol.wire import (
    INT32_MAX,
    INT64_MAX,
    UINT16_MAX,
    UINT32_MAX,
    UINT256_MAX,
    Address,
    LetterId,
    MemberId,
    Nonce,
    ReasonCode,
    RegistrationCode,
    Signer,
    UnixTime,
)

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "UINT16_MAX",
    "UINT32_MAX",
    "UINT256_MAX",
    "Address",
    "LetterId",
    "MemberId",
    "Nonce",
    "Offset",
    "ReasonCode",
    "RegistrationCode",
    "Signer",
    "UnixTime",
    "Version",
]

Offset = Annotated[int, Field(ge=0, le=INT64_MAX)]
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
