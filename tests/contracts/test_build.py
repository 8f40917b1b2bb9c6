"""The committed artifacts: every custom error has its exception, and a rebuild reproduces them."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi.abi import encode

from node_gateway.chain.artifacts import BUILD_DIR, CONTRACTS, load_artifact
from node_gateway.chain.errors import (
    ABI_ERRORS,
    ConfirmationRevert,
    ContractRevert,
    LibraryRevert,
    MemberRegistryRevert,
    TransactionFailed,
    decode_revert,
    error_class,
)
from tools import compile_contracts as contracts_compile

SAMPLE_ARGS = {
    "address": "0x" + "ab" * 20,
    "bytes32": b"\x5a" * 32,
    "uint8": 2,
    "uint16": 513,
    "uint32": 7,
    "uint64": 2**40 + 1,
    "string": "too long",
    "bytes": b"\x01" * 20 + b"\x02" * 64,
}


def _abi_error_names() -> set[str]:
    return {item["name"] for name in CONTRACTS for item in load_artifact(name).abi if item["type"] == "error"}


@pytest.mark.parametrize("selector", sorted(ABI_ERRORS), ids=lambda s: ABI_ERRORS[s][0])
def test_every_custom_error_decodes_to_its_own_exception(selector: bytes) -> None:
    name, types = ABI_ERRORS[selector]
    cls = error_class(name)
    assert cls.solidity_name == name
    base = (
        MemberRegistryRevert
        if name.startswith("MemberRegistry")
        else ConfirmationRevert
        if name.startswith("Confirmation")
        else LibraryRevert
    )
    assert issubclass(cls, base)
    args = [SAMPLE_ARGS[t] for t in types]
    decoded = decode_revert(selector + encode(types, args))
    assert type(decoded) is cls
    assert decoded.values == tuple(args)
    assert str(decoded).startswith(f"{name}(")


def test_error_classes_and_abi_errors_match_one_to_one() -> None:
    names = _abi_error_names()
    assert len(names) == len(ABI_ERRORS)  # no two errors share a selector
    classes = {
        cls.__name__
        for base in (MemberRegistryRevert, ConfirmationRevert, LibraryRevert)
        for cls in base.__subclasses__()
    }
    assert classes == names
    assert all(issubclass(error_class(name), ContractRevert) for name in names)


def test_unknown_revert_data_is_a_transaction_failure() -> None:
    assert isinstance(decode_revert(b"\xde\xad\xbe\xef" + bytes(32)), TransactionFailed)
    assert isinstance(decode_revert(b""), TransactionFailed)


@pytest.mark.slow
def test_rebuilding_the_contracts_reproduces_the_committed_artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (contracts_compile.NODE_MODULES / "solc").exists():
        pytest.skip("node_modules/solc is missing; run `make setup`")
    # The build writes into a temporary directory, so the committed artifacts are never touched.
    monkeypatch.setattr(contracts_compile, "BUILD_DIR", tmp_path)
    contracts_compile.build()
    committed = sorted(path.name for path in BUILD_DIR.iterdir())
    assert sorted(path.name for path in tmp_path.iterdir()) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (BUILD_DIR / name).read_bytes(), f"{name} differs"
