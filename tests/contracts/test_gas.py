"""Gas per step and per complete letter (request → authorise → accept → reply → close).

The figures are printed (whatever pytest's capture setting) and bounded, so that a change that
makes a letter much dearer fails here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from node_gateway.chain.contracts import LetterStatus

if TYPE_CHECKING:
    from conftest import Deployment

LETTER_GAS_BOUND = 400_000
STEP_GAS_BOUND = 150_000


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
