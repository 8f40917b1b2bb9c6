"""The committed contract artifacts (``contracts/build/``), loaded without any compiler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

BUILD_DIR = Path(__file__).resolve().parents[2] / "contracts" / "build"
CONTRACTS = ("MemberRegistry", "ConfirmationRegistry")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


@cache
def load_artifact(name: str) -> Artifact:
    document = json.loads((BUILD_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return Artifact(
        name=document["contractName"],
        abi=document["abi"],
        bytecode=document["bytecode"],
        deployed_bytecode=document["deployedBytecode"],
    )
