"""Rebuilds the committed contract artifacts from the Solidity sources, byte for byte.

Build tooling, not part of the installed package: run as ``python tools/compile_contracts.py``
(``make contracts``) in a checkout with the ``dev`` extra (py-solc-x) and ``npm ci`` done. It drives
the pinned npm ``solc`` through py-solc-x and ``tools/solcjs``, hands the compiler every source by
content (so nothing depends on where the checkout lives), and writes into the package's
``node_gateway/chain/build/`` (``BUILD_DIR``, shipped as package data) one artifact per contract
plus ``build-info.json`` with the compiler, its settings and a hash of every source.

Each artifact also holds where the deployer writes the immutables into the runtime code:
``immutableReferences`` is solc's ``evm.deployedBytecode.immutableReferences`` (AST id → byte
ranges, which are zero in ``deployedBytecode``), and ``immutableNames`` names each of those AST ids
``Contract.variable`` (e.g. ``EIP712._cachedChainId``), read from the AST's immutable variable
declarations. ``confirmnet verify contracts`` checks each range against its variable's value.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import solcx

from node_gateway.chain.artifacts import BUILD_DIR, BUILT, VERIFIERS

ROOT = Path(__file__).resolve().parents[1]  # the checkout
SOURCES_DIR = ROOT / "contracts"
NODE_MODULES = ROOT / "node_modules"
SOLC_WRAPPER = ROOT / "tools" / "solcjs"

# Each built contract's source unit: ours under contracts/, OpenZeppelin's from node_modules.
OPENZEPPELIN_VERIFIERS = "@openzeppelin/contracts/utils/cryptography/verifiers"
SOURCE_UNITS = {
    "MemberRegistry": "MemberRegistry.sol",
    "ConfirmationRegistry": "ConfirmationRegistry.sol",
    **{name: f"{OPENZEPPELIN_VERIFIERS}/{name}.sol" for name in VERIFIERS},
    "TestMultisig": "test/TestMultisig.sol",
}

SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 1000},
    "metadata": {"bytecodeHash": "none", "appendCBOR": False},
    "outputSelection": {
        "*": {
            "": ["ast"],
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
            ],
        }
    },
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
    pending = [SOURCE_UNITS[name] for name in BUILT]
    sources: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _read_source(unit)
        sources[unit] = text
        pending.extend(_normalise(_resolve(unit, target)) for target in _IMPORT.findall(text))
    return dict(sorted(sources.items()))


def immutable_names(ast: Any, contract: str = "") -> dict[str, str]:
    """Every immutable state variable declared in ``ast``: its AST id → ``Contract.variable``."""
    names: dict[str, str] = {}
    if isinstance(ast, dict):
        if ast.get("nodeType") == "ContractDefinition":
            contract = ast["name"]
        if ast.get("nodeType") == "VariableDeclaration" and ast.get("mutability") == "immutable":
            names[str(ast["id"])] = f"{contract}.{ast['name']}"
        for value in ast.values():
            names.update(immutable_names(value, contract))
    elif isinstance(ast, list):
        for item in ast:
            names.update(immutable_names(item, contract))
    return names


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
    declared = immutable_names([unit["ast"] for unit in output["sources"].values()])
    for name in BUILT:
        compiled = output["contracts"][SOURCE_UNITS[name]][name]
        references = compiled["evm"]["deployedBytecode"].get("immutableReferences", {})
        artifact = {
            "contractName": name,
            "abi": compiled["abi"],
            "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
            "immutableReferences": references,
            "immutableNames": {ast_id: declared[ast_id] for ast_id in references},
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
