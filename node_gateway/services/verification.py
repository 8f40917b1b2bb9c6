"""Verify a letter or a reply, with its salt, against the chain: what a regulator (or anyone) does.

The checks live in the chain layer (``node_gateway.chain.verification``), where the offline
evidence verifier uses them too; the gateway's services take them from here.
"""

from __future__ import annotations

from node_gateway.chain.verification import (
    Check,
    DocumentKind,
    FailureCode,
    Recording,
    VerificationResult,
    verify_against_record,
    verify_document,
)

__all__ = [
    "Check",
    "DocumentKind",
    "FailureCode",
    "Recording",
    "VerificationResult",
    "verify_against_record",
    "verify_document",
]
