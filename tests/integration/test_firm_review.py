"""A firm that reviews its letters, as its own gateway process on anvil beside the consortium's:
the assistant's letter waits, prepared and off chain, until the engagement manager approves it
(审核); it then goes out as any letter; the bank replies over HTTP; only the manager accepts the
reply (验收), which closes the letter on chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
    body = {
        "letters": [
            {"letter": x.model_dump(mode="json", by_alias=True), "auditee_salt": auditee.salt}
            for x in letters
        ]
    }
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
