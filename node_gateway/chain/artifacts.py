"""The committed contract artifacts, loaded without any compiler.

They ship inside the package (``node_gateway/chain/build/``, package data), so an installed
``confirmnet`` reads the contracts without a checkout; ``make contracts``
(``tools/compile_contracts.py``) rebuilds them from ``contracts/*.sol``, byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

BUILD_DIR = Path(__file__).resolve().parent / "build"
CONTRACTS = ("MemberRegistry", "ConfirmationRegistry")  # the network's own
# OpenZeppelin's stateless ERC-7913 verifiers, deployed with the network: an auditee signer that is
# a key (not an account) names one of them (node_gateway.chain.signers).
VERIFIERS = ("ERC7913P256Verifier", "ERC7913WebAuthnVerifier", "ERC7913RSAVerifier")
TEST_CONTRACTS = ("TestMultisig",)  # an ERC-1271 k-of-n account, for the tests and the demo
BUILT = CONTRACTS + VERIFIERS + TEST_CONTRACTS  # every artifact in BUILD_DIR


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    # Where the runtime code holds each immutable: solc's AST id -> byte ranges (zero in
    # ``deployed_bytecode``), and each AST id's ``Contract.variable``; None in an artifact built
    # before they were recorded.
    immutable_references: dict[str, list[dict[str, int]]] | None = field(default=None, repr=False)
    immutable_names: dict[str, str] | None = field(default=None, repr=False)


@cache
def load_artifact(name: str) -> Artifact:
    document = json.loads((BUILD_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return Artifact(
        name=document["contractName"],
        abi=document["abi"],
        bytecode=document["bytecode"],
        deployed_bytecode=document["deployedBytecode"],
        immutable_references=document.get("immutableReferences"),
        immutable_names=document.get("immutableNames"),
    )
