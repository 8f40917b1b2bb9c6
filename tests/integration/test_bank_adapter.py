"""The bank adapter through real gateways: a second bank gateway process with a core bank and the
straight-through policy joins the session's consortium; the audit firm's gateway sends it letters.

The core bank is loaded from CSV files with ``confirmnet bank import`` and the customers'
mandates with ``confirmnet bank mandates import``; officers act through the bank's HTTP API and
its CLI. Letters with matching figures go out with no human step; a changed balance, an unknown
account and an unlisted account each wait for a reviewer with the right exception; the preparer
cannot approve their own draft, nor a reviewer a system draft alone; an incomplete letter and a
stranger's letter is answered with a reply saying the bank holds no relationship. The consortium's own bank, with no core
bank, replies by hand with a preparer and a reviewer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from bank_adapter.generator import dataset_from_letter
from bank_adapter.importer import export_csv
from confirmnet.cli import app
from node_gateway.protocol.documents import (
    Auditee,
    AuditFirm,
    Bank,
    ConfirmationLetter,
    DepositAccount,
    LetterItems,
    RejectionReason,
    uscc,
)
from node_gateway.protocol.samples import sample_letter, sample_reply

from .flows import (
    BANK_PEOPLE,
    Customer,
    accept_and_reply,
    chain,
    close_when_replied,
    compose,
    letter_view,
    member_id,
    name_officers,
    new_auditee,
    ok,
    request,
    reviewed,
    sign_and_submit,
    wait_in_inbox,
    wait_status,
)
from .harness import Consortium, Gateway, cli_gateway, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

LIMIT = "CNY=50000000.00,USD=50000000.00,EUR=50000000.00"  # above every amount of the sample letter
ACCOUNTABLE_NAME, ACCOUNTABLE_TITLE = "周明远", "运营管理部总经理"  # answers for straight-through
ACCOUNTABLE = {
    "CONFIRMNET_STRAIGHT_THROUGH_ACCOUNTABLE_NAME": ACCOUNTABLE_NAME,
    "CONFIRMNET_STRAIGHT_THROUGH_ACCOUNTABLE_TITLE": ACCOUNTABLE_TITLE,
}


@dataclass
class AdapterBank:
    gateway: Gateway
    core_url: str
    member_no: int
    workdir: Path

    def cli(self, user: str, *args: str) -> str:
        """Runs ``confirmnet bank …`` as ``user`` against this gateway; its output."""
        result = CliRunner().invoke(
            app, ["bank", "--gateway", self.gateway.url, "--api-key", self.gateway.api_keys[user], *args]
        )
        assert result.exit_code == 0, result.output
        return result.output

    def case(self, letter_id: str) -> dict[str, Any]:
        with self.gateway.client("officer") as client:
            view: dict[str, Any] = ok(client.get(f"/v1/bank/letters/{letter_id}"))
            return view

    def wait_stage(self, letter_id: str, stage: str) -> dict[str, Any]:
        found: dict[str, Any] = wait_until(
            lambda: (case := self.case(letter_id))["stage"] == stage and case,
            60,
            f"{letter_id[:10]} to reach {stage}",
        )
        return found


@pytest.fixture(scope="module")
def adapter_bank(
    consortium: Consortium, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[AdapterBank]:
    """A bank with a core bank, one per module that uses it: a module that shares the fixture
    names its own bank (``ADAPTER_BANK``: name and registration code), since one organisation is
    admitted to the session's consortium once."""
    name, code = getattr(request.module, "ADAPTER_BANK", ("南湖银行", uscc("91330000MA2J8K4P1")))
    base = tmp_path_factory.mktemp("adapter-bank")
    core_url = f"sqlite:///{base / 'core.db'}"
    gateway = cli_gateway(
        "bank",
        name,
        code,
        base / "gateway",
        consortium.network_file,
        init_options=[
            "--core-banking-url",
            core_url,
            "--approval-policy",
            "straight_through",
            "--straight-through-limit",
            LIMIT,
        ],
        env=ACCOUNTABLE,
    )
    gateway.init()
    gateway.start()
    name_officers(gateway)
    try:
        yield AdapterBank(gateway, core_url, consortium.admit(gateway), base)
    finally:
        gateway.stop()


def _compose(consortium: Consortium, bank: AdapterBank, customer: Customer) -> ConfirmationLetter:
    return sample_letter(
        audit_firm=AuditFirm(member_no=member_id(consortium.firm), name=consortium.firm.name),
        bank=Bank(member_no=bank.member_no, name=bank.gateway.name),
        auditee=Auditee(name=customer.name, registration_code=customer.registration_code),
    )


def _customer(consortium: Consortium, bank: AdapterBank, code: str, name: str) -> Customer:
    """A customer with a signer on the bank's mandate, imported with the CLI and seen on chain."""
    signer = Account.create()
    mandates = bank.workdir / f"mandates-{code}.csv"
    until = (date.today() + timedelta(days=365)).isoformat()
    mandates.write_text(f"registration_code,signer,valid_until\n{code},{signer.address},{until}\n")
    assert "1 mandate(s) registered" in bank.cli("officer", "mandates", "import", str(mandates))
    with bank.gateway.client("officer") as client:
        reference = ok(client.get(f"/v1/customers/{code}/reference"))
    network, ref = chain(consortium), bytes.fromhex(reference["auditee_ref"][2:])
    wait_until(
        lambda: network.confirmations.mandate_valid_until(bank.member_no, ref, signer.address) > time.time(),
        30,
        "the mandate on chain",
    )
    return Customer(code, name, signer)


def _with_deposits(letter: ConfirmationLetter, deposits: list[DepositAccount]) -> ConfirmationLetter:
    items = letter.items.model_dump() | {"deposits": {"entries": deposits}}
    return letter.model_copy(update={"items": LetterItems.model_validate(items)})


@dataclass
class Season:
    customer: Customer
    letters: dict[str, ConfirmationLetter]


@pytest.fixture(scope="module")
def season(consortium: Consortium, adapter_bank: AdapterBank) -> Season:
    """Letters for one customer whose core records are the sample letter's, and one stranger's."""
    customer = _customer(consortium, adapter_bank, uscc("91310000MA1K00001"), "嘉兴南湖精工机械股份有限公司")
    clean = _compose(consortium, adapter_bank, customer)
    csv_dir = adapter_bank.workdir / "core-csv"
    files = export_csv(dataset_from_letter(clean), csv_dir)
    result = CliRunner().invoke(
        app, ["bank", "import", *map(str, files), "--core-url", adapter_bank.core_url]
    )
    assert result.exit_code == 0, result.output

    deposits = list(clean.items.deposits.entries)
    changed = deposits[0].model_copy(update={"balance": deposits[0].balance + Decimal("100.00")})  # type: ignore[operator]
    unknown = deposits[1].model_copy(update={"account_no": "31050161373600009999"})
    undated = deposits[2].model_copy(update={"start_date": None, "end_date": None})
    letters = {
        "clean": clean,
        "changed": _with_deposits(_compose(consortium, adapter_bank, customer), [changed, *deposits[1:]]),
        "unknown": _with_deposits(_compose(consortium, adapter_bank, customer), [*deposits, unknown]),
        "unlisted": _with_deposits(_compose(consortium, adapter_bank, customer), deposits[:4]),
        "incomplete": _with_deposits(
            _compose(consortium, adapter_bank, customer), [*deposits[:2], undated, *deposits[3:]]
        ),
    }
    request(consortium, list(letters.values()))
    sign_and_submit(consortium, [x.letter_id for x in letters.values()], customer.signer)

    stranger = _customer(consortium, adapter_bank, uscc("91310000MA1K00002"), "无名贸易有限公司")
    letters["stranger"] = _compose(consortium, adapter_bank, stranger)
    request(consortium, [letters["stranger"]])
    sign_and_submit(consortium, [letters["stranger"].letter_id], stranger.signer)
    return Season(customer, letters)


def _deposits_answer(reply: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = reply["reply"]["items"]["deposits"]
    return answer


def test_a_clean_letter_goes_straight_through(
    consortium: Consortium, adapter_bank: AdapterBank, season: Season
) -> None:
    letter = season.letters["clean"]
    reply = close_when_replied(consortium, letter.letter_id)["reply"]
    assert {item["status"] for item in reply["items"].values()} == {"confirmed", "not_applicable"}
    assert reply["preparer"]["officer_id"] == "system:drafter"
    assert reply["reviewer"]["officer_id"] == "system:straight-through"
    # The automated control that approved it, and who answers for it.
    control = reply["automated_control"]
    assert control["control_id"] == "system:straight-through"
    assert control["accountable"] == {"name": ACCOUNTABLE_NAME, "title": ACCOUNTABLE_TITLE}
    actions = [(d["action"], d["actor_id"]) for d in adapter_bank.case(letter.letter_id)["decisions"]]
    assert actions == [
        ("compliance_passed", "system:compliance"),
        ("drafted", "system:drafter"),
        ("approved", "system:straight-through"),
    ]


def test_an_incomplete_letter_is_rejected(
    consortium: Consortium, adapter_bank: AdapterBank, season: Season
) -> None:
    letter_id = season.letters["incomplete"].letter_id
    reason = RejectionReason.INCOMPLETE
    wait_status(consortium.firm, "auditor", letter_id, "REJECTED")
    assert letter_view(consortium.firm, "auditor", letter_id)["reason"] == reason
    case = adapter_bank.case(letter_id)
    assert case["stage"] == "rejected"
    assert case["compliance"]["reason"] == reason
    assert case["compliance"]["decided_by"] == "system:compliance"
    assert "deposits[2]" in case["compliance"]["detail"]
    # The firm gets the notice, encrypted off chain: the 函证编号 and the specific reason in words.
    with consortium.firm.client("auditor") as firm:
        notice = wait_until(
            lambda: (got := firm.get(f"/v1/letters/{letter_id}/notice")).status_code == 200 and got.json(),
            60,
            "the bank's notice at the firm",
        )
    number = letter_view(consortium.firm, "auditor", letter_id)["confirmation_no"]
    assert number
    assert notice["confirmation_no"] == number
    assert notice["reason"] == reason
    assert "deposits[2]" in notice["detail"]
    assert notice["decided_by"]["officer_id"] == "system:compliance"
    with consortium.firm.client("auditor") as firm:  # a letter the bank sent no notice about
        clean = season.letters["clean"].letter_id
        assert firm.get(f"/v1/letters/{clean}/notice").json()["error"]["code"] == "not_found"

    # The firm sends a corrected letter that points at the rejected one; only a rejected letter of
    # this firm, to the same bank and auditee, is corrected.
    fresh = _compose(consortium, adapter_bank, season.customer)
    wrong = fresh.model_copy(update={"corrects": clean})
    body = {"letters": [{"letter": wrong.model_dump(mode="json", by_alias=True)}]}
    with consortium.firm.client("auditor") as firm:
        refused = firm.post("/v1/letters", json=body)
    assert refused.status_code == 422, refused.text
    assert "only a letter the bank rejected is corrected" in refused.json()["error"]["message"]
    corrected = fresh.model_copy(update={"corrects": letter_id})
    (created,) = request(consortium, [corrected])
    with consortium.firm.client("auditor") as firm:
        stored = ok(firm.get(f"/v1/letters/{created['letter_id']}"))
    assert stored["letter"]["corrects"] == letter_id


def test_a_strangers_letter_is_answered_with_no_relationship(
    consortium: Consortium, adapter_bank: AdapterBank, season: Season
) -> None:
    """A bank with no relationship with the auditee replies saying so, signed by two people (a
    red flag for the auditor), instead of rejecting the letter."""
    letter = season.letters["stranger"]
    case = adapter_bank.wait_stage(letter.letter_id, "awaiting_review")  # a person confirms it
    assert case["compliance"]["reason"] is None
    assert "no customer" in case["compliance"]["detail"]
    gateway = adapter_bank.gateway
    with gateway.client("preparer") as preparer:
        ok(preparer.post(f"/v1/bank/letters/{letter.letter_id}/draft", json={}), 201)
    with gateway.client("reviewer") as reviewer:
        ok(reviewer.post(f"/v1/bank/letters/{letter.letter_id}/approve", json={}), 202)
    reply = close_when_replied(consortium, letter.letter_id)["reply"]
    assert reply["no_relationship"] is True
    assert reply["conclusion"] == "exceptions"  # the letter lists accounts the bank does not know
    differences = [d for item in reply["items"].values() for d in item["differences"]]
    assert differences
    assert {d["reason"] for d in differences} == {"unknown_to_bank"}
    assert not any(item["entries"] for item in reply["items"].values())
    assert (reply["preparer"]["name"], reply["preparer"]["title"]) == BANK_PEOPLE["preparer"]
    assert (reply["reviewer"]["name"], reply["reviewer"]["title"]) == BANK_PEOPLE["reviewer"]


def test_a_changed_balance_waits_and_its_preparer_cannot_approve(
    consortium: Consortium, adapter_bank: AdapterBank, season: Season
) -> None:
    letter_id = season.letters["changed"].letter_id
    case = adapter_bank.wait_stage(letter_id, "awaiting_review")
    (difference,) = case["current_draft"]["items"]["deposits"]["differences"]
    assert difference | {"note": None} == {
        "reason": "different_value",
        "entry": 0,
        "bank_entry": None,
        "field": "balance",
        "reference": season.letters["changed"].items.deposits.entries[0].account_no,
        "currency": "CNY",
        "auditor_value": "12345778.90",
        "bank_value": "12345678.90",
        "note": None,
    }
    gateway = adapter_bank.gateway
    with gateway.client("admin") as admin:  # admin holds every role: preparer and reviewer
        ok(admin.post(f"/v1/bank/letters/{letter_id}/draft", json={}), 201)
        refused = admin.post(f"/v1/bank/letters/{letter_id}/approve", json={})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "same_officer")
    with gateway.client("preparer") as preparer:
        refused = preparer.post(f"/v1/bank/letters/{letter_id}/approve", json={})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    with gateway.client("reviewer") as reviewer:
        stale = reviewer.post(f"/v1/bank/letters/{letter_id}/approve", json={"draft_version": 1})
        assert stale.json()["error"]["code"] == "draft_changed"
        approved = ok(reviewer.post(f"/v1/bank/letters/{letter_id}/approve", json={"draft_version": 2}), 202)
    assert (approved["preparer"]["officer_id"], approved["reviewer"]["officer_id"]) == ("admin", "reviewer")
    reply = close_when_replied(consortium, letter_id)
    assert _deposits_answer(reply)["status"] == "exception"
    assert (reply["reply"]["preparer"]["officer_id"], reply["reply"]["reviewer"]["officer_id"]) == (
        "admin",
        "reviewer",
    )
    log = [
        (d["action"], d["actor_id"], d["draft_version"]) for d in adapter_bank.case(letter_id)["decisions"]
    ]
    assert log[1:] == [
        ("drafted", "system:drafter", 1),
        ("superseded", "admin", 1),
        ("drafted", "admin", 2),
        ("approved", "reviewer", 2),
    ]


def test_an_unknown_account_is_returned_redrafted_and_approved_with_the_cli(
    consortium: Consortium, adapter_bank: AdapterBank, season: Season
) -> None:
    letter_id = season.letters["unknown"].letter_id
    case = adapter_bank.wait_stage(letter_id, "awaiting_review")
    differences = case["current_draft"]["items"]["deposits"]["differences"]
    assert [(d["reason"], d["entry"]) for d in differences] == [("unknown_to_bank", 5)]
    assert "exception" in adapter_bank.cli("officer", "show", letter_id)

    adapter_bank.cli("reviewer", "return", letter_id, "--note", "state which USD account the auditor means")
    assert adapter_bank.case(letter_id)["stage"] == "returned"
    items = adapter_bank.workdir / "answers.json"
    items.write_text(json.dumps({"items": case["current_draft"]["items"]}), encoding="utf-8")
    adapter_bank.cli(
        "preparer", "draft", letter_id, "--items", str(items), "--remarks", "账户 9999 非本行账户"
    )
    assert "approved by reviewer" in adapter_bank.cli("reviewer", "approve", letter_id)
    reply = close_when_replied(consortium, letter_id)["reply"]
    assert reply["remarks"] == "账户 9999 非本行账户"
    assert reply["preparer"]["officer_id"] == "preparer"
    notes = [d["note"] for d in adapter_bank.case(letter_id)["decisions"] if d["action"] == "returned"]
    assert notes == ["state which USD account the auditor means"]


def test_an_unlisted_account_comes_with_the_banks_entry(
    consortium: Consortium, adapter_bank: AdapterBank, season: Season
) -> None:
    letter_id = season.letters["unlisted"].letter_id
    case = adapter_bank.wait_stage(letter_id, "awaiting_review")
    answer = case["current_draft"]["items"]["deposits"]
    assert [d["reason"] for d in answer["differences"]] == ["not_listed_by_auditor"]
    assert [e["account_no"] for e in answer["entries"]] == ["31050161373600007890"]

    with adapter_bank.gateway.client("officer") as officer:
        reply_due = date.fromisoformat(case["reply_due"])
        near = ok(officer.get("/v1/bank/deadlines", params={"on": reply_due.isoformat()}))
        late = ok(
            officer.get("/v1/bank/deadlines", params={"on": (reply_due + timedelta(days=1)).isoformat()})
        )
    assert letter_id in {x["letter_id"] for x in near["near_due"]}
    assert letter_id in {x["letter_id"] for x in late["overdue"]}

    with adapter_bank.gateway.client("officer") as officer:
        # The check accepted it: an officer can no longer reject it.
        refused = officer.post(f"/v1/bank/letters/{letter_id}/reject", json={"reason": 1})
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")
    for command in (["inbox"], ["deadlines", "--within", "10"], ["log", letter_id]):
        adapter_bank.cli("officer", *command)  # the officers' views run against the real API
    # The system drafted it, but only a clean reply goes out on the system's sign-offs: a person
    # prepares it (again from the core) before another approves it.
    with adapter_bank.gateway.client("reviewer") as reviewer:
        refused = reviewer.post(f"/v1/bank/letters/{letter_id}/approve", json={})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "system_sign_off")
    with adapter_bank.gateway.client("preparer") as preparer:
        ok(preparer.post(f"/v1/bank/letters/{letter_id}/draft", json={}), 201)
    with adapter_bank.gateway.client("reviewer") as reviewer:
        ok(reviewer.post(f"/v1/bank/letters/{letter_id}/approve", json={}), 202)
    reply = close_when_replied(consortium, letter_id)
    assert _deposits_answer(reply)["entries"][0]["balance"] == "0.00"
    assert (reply["reply"]["preparer"]["officer_id"], reply["reply"]["reviewer"]["officer_id"]) == (
        "preparer",
        "reviewer",
    )
    log = [(d["action"], d["actor_id"]) for d in adapter_bank.case(letter_id)["decisions"]]
    assert log[-3:] == [("superseded", "preparer"), ("drafted", "preparer"), ("approved", "reviewer")]


def test_a_bank_without_a_core_replies_with_a_maker_and_a_checker(consortium: Consortium) -> None:
    """The consortium's bank has no core bank: its reviewer records a reply through
    ``/v1/letters/{id}/reply`` only once its preparer has drafted exactly that reply."""
    auditee = new_auditee(consortium, 14)
    letter = compose(consortium, auditee)
    (created,) = request(consortium, [letter])
    sign_and_submit(consortium, [letter.letter_id], auditee.signer)
    wait_in_inbox(consortium, [letter.letter_id])
    alone = reviewed(sample_reply(letter, letter_hash=bytes.fromhex(created["letter_hash"][2:])))
    with consortium.bank.client("officer") as officer:
        ok(officer.post(f"/v1/letters/{letter.letter_id}/accept"), 202)
    with consortium.bank.client("reviewer") as reviewer:
        refused = reviewer.post(
            f"/v1/letters/{letter.letter_id}/reply",
            json={"reply": alone.model_dump(mode="json", by_alias=True)},
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "preparer_not_officer")

    accept_and_reply(consortium, letter, created["letter_hash"])  # accepted already: a no-op
    reply = close_when_replied(consortium, letter.letter_id)["reply"]
    assert (reply["preparer"]["officer_id"], reply["reviewer"]["officer_id"]) == ("preparer", "reviewer")
    with consortium.bank.client("officer") as officer:
        log = ok(officer.get("/v1/bank/decisions", params={"letter_id": letter.letter_id}))
    assert [(d["action"], d["actor_id"]) for d in log] == [("drafted", "preparer"), ("approved", "reviewer")]
