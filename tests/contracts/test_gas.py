"""Gas per step and per complete letter (request → authorise → accept → reply → close), and of
authorising with each kind of auditee signer (ERC-7913), with and without the P-256 precompile.

The figures are printed (whatever pytest's capture setting) and bounded, so that a change that
makes a letter much dearer fails here. docs/BENCHMARKS.md keeps them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from signer_kinds import KINDS, new_key

from node_gateway.chain.contracts import LetterStatus
from node_gateway.chain.devnet import ANVIL, AnvilNode
from node_gateway.chain.network import connect

if TYPE_CHECKING:
    from conftest import Deployment

LETTER_GAS_BOUND = 400_000
STEP_GAS_BOUND = 150_000
# Authorising one letter, by signer kind: an ordinary key or a multisig's two ECDSA recoveries stay
# near the old figure; P-256 in Solidity (OpenZeppelin's fallback) costs several hundred thousand.
# Each includes storing the auditee reference (a fresh storage word, ~22,100), which the request
# stored before the reference came with the authorisation.
REFERENCE_STORE = 22_100
SIGNER_GAS_BOUND = {
    kind: bound + REFERENCE_STORE
    for kind, bound in {
        "eoa": 60_000,
        "multisig": 75_000,
        "rsa": 100_000,
        "webauthn": 350_000,
        "p256": 330_000,
    }.items()
}
# A passkey's authorisation where the chain verifies P-256 natively.
PRECOMPILE_GAS_BOUND = 80_000 + REFERENCE_STORE


def _report(capsys: pytest.CaptureFixture[str], title: str, rows: dict[str, int]) -> None:
    with capsys.disabled():
        print(f"\n{title}")
        for label, gas in rows.items():
            print(f"  {label:<40} {gas:>9,}")


def test_gas_per_step_and_per_letter(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    d = deployment
    c = d.confirmations

    letter = d.plan_letter()
    lid = letter.letter_id
    single = {
        "request": d.send(d.firm, d.request_call(letter))["gasUsed"],
        "followUp": d.send(d.firm, c.follow_up(lid))["gasUsed"],
        "authorise (1 letter, relayed)": d.send(d.firm, d.authorise_call(letter))["gasUsed"],
        "accept": d.send(d.bank, c.accept(lid))["gasUsed"],
        "reply": d.send(d.bank, c.reply(lid, os.urandom(32)))["gasUsed"],
        "close": d.send(d.firm, c.close(lid))["gasUsed"],
    }
    letter_total = sum(gas for step, gas in single.items() if step != "followUp")

    batched = d.plan_letter()
    bid = batched.letter_id
    with_multicall = {
        "request": d.send(d.firm, d.request_call(batched))["gasUsed"],
        "authorise": d.send(d.firm, d.authorise_call(batched))["gasUsed"],
        "multicall(accept, reply)": d.send(
            d.bank, c.multicall([c.accept(bid), c.reply(bid, os.urandom(32))])
        )["gasUsed"],
        "close": d.send(d.firm, c.close(bid))["gasUsed"],
    }
    assert d.status(batched) == LetterStatus.CLOSED
    multicall_total = sum(with_multicall.values())

    others = {
        "reject": d.send(d.bank, c.reject(d.letter_in(LetterStatus.AUTHORISED).letter_id, 1))["gasUsed"],
        "withdraw": d.send(d.firm, c.withdraw(d.letter_in(LetterStatus.REQUESTED).letter_id))["gasUsed"],
        "refuseAuthorisation": d.send(d.firm, d.refuse_call(d.request()))["gasUsed"],
    }
    ten = [d.plan_letter() for _ in range(10)]
    ten_requests = d.send(d.firm, c.multicall([d.request_call(x) for x in ten]))["gasUsed"]
    ten_authorisations = d.send(
        d.firm,
        c.multicall([d.authorise_call(x, signed) for signed in [d.sign_authorisation(ten)] for x in ten]),
    )["gasUsed"]
    others["request ×10 in one multicall, per letter"] = ten_requests // 10
    others["authorise ×10 (one signature), per letter"] = ten_authorisations // 10

    _report(capsys, f"gas per step [{d.chain.backend}]", {**single, **others})
    _report(
        capsys,
        f"gas per complete letter [{d.chain.backend}]",
        {"single steps": letter_total, "bank's accept+reply in one multicall": multicall_total},
    )
    assert letter_total < LETTER_GAS_BOUND
    assert multicall_total < LETTER_GAS_BOUND
    assert multicall_total < letter_total  # one transaction's base cost saved
    assert max(*single.values(), *others.values()) < STEP_GAS_BOUND


def _signer_kind_gas(d: Deployment) -> dict[str, int]:
    """Gas of registering a mandate for, and of authorising one letter by, each kind of signer."""
    rows = {}
    for kind in KINDS:
        key = new_key(kind, d.network, d.operator.sender)
        rows[f"registerMandate, {kind}"] = d.register_mandate(d.bank, d.auditee_ref, key.signer)["gasUsed"]
        letter = d.request()
        signed = d.sign_authorisation([letter], signer=key)
        rows[f"authorise (1 letter), {kind}"] = d.send(d.firm, d.authorise_call(letter, signed))["gasUsed"]
        assert d.status(letter) == LetterStatus.AUTHORISED
    return rows


def test_gas_per_signer_kind(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _signer_kind_gas(deployment)
    _report(capsys, f"gas per signer kind [{deployment.chain.backend}, no P-256 precompile]", rows)
    for kind, bound in SIGNER_GAS_BOUND.items():
        assert rows[f"authorise (1 letter), {kind}"] < bound, kind


@pytest.fixture(scope="module")
def osaka_rpc_url() -> Iterator[str]:
    """An anvil on the "osaka" fork, which has the P-256 precompile (EIP-7951, at 0x100)."""
    if not ANVIL.exists():
        pytest.skip(f"anvil is not installed ({ANVIL}); run `make setup`")
    with AnvilNode(hardfork="osaka") as node:
        yield node.rpc_url


@pytest.mark.anvil
def test_gas_per_signer_kind_with_the_p256_precompile(
    osaka_rpc_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """OpenZeppelin's P256 uses the precompile where the chain has one, with no change of ours."""
    from conftest import Chain, Deployment  # the fixtures' classes, on a node of this test's own

    rows = _signer_kind_gas(Deployment.create(Chain(connect(osaka_rpc_url), "anvil")))
    _report(capsys, "gas per signer kind [anvil --hardfork osaka, P-256 precompile]", rows)
    for kind in ("webauthn", "p256"):
        assert rows[f"authorise (1 letter), {kind}"] < PRECOMPILE_GAS_BOUND, kind
