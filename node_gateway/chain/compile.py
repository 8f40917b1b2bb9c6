"""Rebuilds ``contracts/build/`` from the Solidity sources, byte for byte.

Run as ``python -m node_gateway.chain.compile`` (``make contracts``). It drives the pinned npm
``solc`` through py-solc-x and ``tools/solcjs``, hands the compiler every source by content (so
nothing depends on where the checkout lives), and writes one artifact per contract plus
``build-info.json`` with the compiler, its settings and a hash of every source.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import solcx

from node_gateway.chain.artifacts import BUILD_DIR, CONTRACTS

ROOT = BUILD_DIR.parent.parent
SOURCES_DIR = ROOT / "contracts"
NODE_MODULES = ROOT / "node_modules"
SOLC_WRAPPER = ROOT / "tools" / "solcjs"

SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 1000},
    "metadata": {"bytecodeHash": "none", "appendCBOR": False},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}

_IMPORT = re.compile(r'^import\s+(?:\{[^}]*\}\s+from\s+)?"([^"]+)";', re.MULTILINE)


def _resolve(importer: str, target: str) -> str:
    if target.startswith("."):
        return (Path(importer).parent / target).as_posix().replace("/./", "/")
    return target


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _read_source(unit: str) -> str:
    base = NODE_MODULES if unit.startswith("@") else SOURCES_DIR
    return (base / unit).read_text(encoding="utf-8")


def collect_sources() -> dict[str, str]:
    """Every source unit the contracts need, keyed by its import path."""
    pending = [f"{name}.sol" for name in CONTRACTS]
    sources: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _read_source(unit)
        sources[unit] = text
        pending.extend(_normalise(_resolve(unit, target)) for target in _IMPORT.findall(text))
    return dict(sorted(sources.items()))


def build() -> None:
    sources = collect_sources()
    standard_input = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": SETTINGS,
    }
    output = solcx.compile_standard(standard_input, solc_binary=SOLC_WRAPPER)
    version = str(solcx.wrapper.get_solc_version(SOLC_WRAPPER, with_commit_hash=True))
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    for name in CONTRACTS:
        compiled = output["contracts"][f"{name}.sol"][name]
        artifact = {
            "contractName": name,
            "abi": compiled["abi"],
            "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
        }
        _write(BUILD_DIR / f"{name}.json", artifact)
    info = {
        "compiler": version,
        "settings": SETTINGS,
        "sources": {unit: hashlib.sha256(text.encode()).hexdigest() for unit, text in sources.items()},
    }
    _write(BUILD_DIR / "build-info.json", info)


def _write(path: Path, document: object) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build()
