"""A firm that reviews its letters, as its own gateway process on anvil beside the consortium's:
the assistant's letter waits, prepared and off chain, until the engagement manager approves it
(审核); it then goes out as any letter; the bank replies over HTTP; only the manager accepts the
reply (验收), which closes the letter on chain."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner, Result

from auditor_client.sdk import AsyncClient, Conflict, LetterDraft, LetterSummary, PermissionDenied
from confirmnet.cli import app
from node_gateway.protocol.documents import Auditee, AuditFirm, Bank, uscc
from node_gateway.protocol.samples import sample_letter

from .flows import (
    accept_and_reply,
    chain,
    letter_view,
    member_id,
    new_auditee,
    ok,
    sign_and_submit,
    wait_status,
)
from .harness import Consortium, Gateway, cli_gateway, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def reviewing_firm(consortium: Consortium, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("reviewing-firm")
    gateway = cli_gateway(
        "audit_firm",
        "审慎会计师事务所",
        uscc("91310000MA1K7Q2R3"),
        base / "gateway",
        consortium.network_file,
        env={"CONFIRMNET_FIRM_REVIEW_REQUIRED": "true"},
    )
    gateway.init()
    gateway.start()
    try:
        consortium.admit(gateway)
        yield gateway
    finally:
        gateway.stop()


def test_the_manager_reviews_before_the_letter_goes_out_and_accepts_the_reply(
    consortium: Consortium, reviewing_firm: Gateway
) -> None:
    auditee = new_auditee(consortium, 7301)
    letters = [
        sample_letter(
            audit_firm=AuditFirm(member_no=member_id(reviewing_firm), name=reviewing_firm.name),
            bank=Bank(member_no=member_id(consortium.bank), name=consortium.bank.name),
            auditee=Auditee(name=auditee.name, registration_code=auditee.registration_code),
        )
        for _ in range(2)
    ]
    body = {"letters": [{"letter": x.model_dump(mode="json", by_alias=True)} for x in letters]}
    with reviewing_firm.client("auditor") as assistant:
        created = ok(assistant.post("/v1/letters", json=body), 201)
        assert [x["status"] for x in created] == ["PREPARED", "PREPARED"]
        sent, recalled = (x["letter_id"] for x in created)
        refused = assistant.post("/v1/letters/approve", json={"letter_ids": [sent]})
        assert refused.status_code == 403, refused.text
        assert ok(assistant.post(f"/v1/letters/{recalled}/recall"))["status"] == "RECALLED"
    with reviewing_firm.client("manager") as manager:
        approved = ok(manager.post("/v1/letters/approve", json={"letter_ids": [sent]}))
        assert approved[0]["reviewed_by"] == "manager"
    wait_status(reviewing_firm, "manager", sent, "REQUESTED")
    network = chain(consortium)
    assert network.confirmations.get_letter(bytes.fromhex(recalled[2:])).status.name == "NONE"
    assert letter_view(reviewing_firm, "manager", recalled)["pending_steps"] == []

    sign_and_submit(consortium, [sent], auditee.signer, firm_gateway=reviewing_firm)
    wait_until(
        lambda: letter_view(consortium.bank, "officer", sent)["has_letter"], 60, "the letter at the bank"
    )
    wait_status(consortium.bank, "officer", sent, "AUTHORISED")
    accept_and_reply(consortium, letters[0], letter_view(consortium.bank, "officer", sent)["letter_hash"])
    wait_until(lambda: letter_view(reviewing_firm, "manager", sent)["reply_verified"], 60, "reply delivered")
    with reviewing_firm.client("auditor") as assistant:
        assert assistant.post(f"/v1/letters/{sent}/close").status_code == 403  # the manager's acceptance
    with reviewing_firm.client("manager") as manager:
        ok(manager.post(f"/v1/letters/{sent}/close"), 202)
    wait_status(reviewing_firm, "manager", sent, "CLOSED")
    closed = letter_view(reviewing_firm, "manager", sent)
    assert (closed["prepared_by"], closed["reviewed_by"], closed["accepted_by"]) == (
        "auditor",
        "manager",
        "manager",
    )


def test_the_sdk_and_the_cli_review_and_recall_prepared_letters(
    consortium: Consortium, reviewing_firm: Gateway
) -> None:
    """The firm's review through the audit firm's tools, against the gateway process: the SDK
    (sync and async) and ``confirmnet auditor approve`` / ``recall`` as their users may."""
    auditee = new_auditee(consortium, 7302)
    firm = AuditFirm(member_no=member_id(reviewing_firm), name=reviewing_firm.name)
    bank = Bank(member_no=member_id(consortium.bank), name=consortium.bank.name)
    drafts = [
        LetterDraft(
            letter=sample_letter(
                audit_firm=firm,
                bank=bank,
                auditee=Auditee(name=auditee.name, registration_code=auditee.registration_code),
            ),
        )
        for _ in range(3)
    ]
    with reviewing_firm.sdk("auditor") as assistant:
        by_cli, by_async, recalled = (x.letter_id for x in assistant.create_letters(drafts))
        with pytest.raises(PermissionDenied):  # the assistant holds no manager's role
            assistant.approve([by_cli])
    runner = CliRunner()

    def cli(user: str, *args: str) -> Result:
        env = {"CONFIRMNET_GATEWAY": reviewing_firm.url, "CONFIRMNET_API_KEY": reviewing_firm.api_keys[user]}
        return runner.invoke(app, ["auditor", *args], env=env)

    approved = cli("manager", "approve", by_cli)
    assert approved.exit_code == 0, approved.output
    assert "1 letters approved" in approved.output
    assert "PENDING" in approved.output

    async def approve_async() -> list[LetterSummary]:
        async with AsyncClient(reviewing_firm.url, api_key=reviewing_firm.api_keys["manager"]) as manager:
            return await manager.approve([by_async])

    [async_approved] = asyncio.run(approve_async())
    assert (async_approved.letter_id, async_approved.status, async_approved.reviewed_by) == (
        by_async,
        "PENDING",
        "manager",
    )
    taken_back = cli("auditor", "recall", recalled)  # its preparer
    assert taken_back.exit_code == 0, taken_back.output
    assert "RECALLED" in taken_back.output
    # An approved letter is out: its recall is refused, and the command says so and fails.
    too_late = cli("auditor", "recall", by_cli)
    assert too_late.exit_code == 1
    assert "conflict" in too_late.output
    with reviewing_firm.sdk("manager") as manager:
        with pytest.raises(Conflict):
            manager.recall(recalled)  # once
        assert manager.get_letter(recalled).status == "RECALLED"
    for letter_id in (by_cli, by_async):
        wait_status(reviewing_firm, "manager", letter_id, "REQUESTED")
    assert chain(consortium).confirmations.get_letter(bytes.fromhex(recalled[2:])).status.name == "NONE"
