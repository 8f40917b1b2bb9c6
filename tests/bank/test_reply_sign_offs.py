"""Maker–checker through a bank gateway's API (security finding 14): a reply names two real users
of the bank, its preparer and another, its reviewer, who each acted and are in the decision log;
only the straight-through policy, for a clean reply the system drafted, stands in for them.

A bank gateway on the in-process chain holds an accepted letter; its users act through the API
as they would over HTTP. ``POST /v1/letters/{id}/reply`` is the reviewer's half: the reply it
records must be the draft a preparer made (``POST /v1/bank/letters/{id}/draft``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from gateway.conftest import gateway_node
from sqlalchemy import select

from bank.conftest import store_received
from bank_adapter.approval import SYSTEM_DRAFTER, Action, DraftStatus, decisions
from bank_adapter.drafting import Draft
from bank_adapter.models import DraftRow
from bank_adapter.workflow import store_draft
from node_gateway.api.app import create_app
from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, revoke_user, set_person
from node_gateway.node import Node
from node_gateway.protocol.documents import (
    AuditFirm,
    Bank,
    ConfirmationLetter,
    ConfirmationReply,
    ItemStatus,
    Officer,
    ReplyItems,
)
from node_gateway.protocol.samples import PREPARER, sample_letter, sample_reply
from node_gateway.services import letters
from node_gateway.services.facade import Letters
from node_gateway.storage.models import OutboxTransaction

if TYPE_CHECKING:
    from conftest import Chain, Deployment

# The people behind the bank's users, as an admin records them (wang has none recorded yet).
PEOPLE = {
    "admin": ("李华", "系统管理员"),
    "preparer": ("陈晓明", "对公业务经办"),
    "reviewer": ("刘建国", "运营主管"),
    "chen": ("陈立", "对公业务经办"),
}
# The bank's users: name -> roles. "chen" was a preparer; his key is revoked.
USERS = {
    "admin": {"admin"},
    "officer": {"officer"},
    "preparer": {"preparer"},
    "reviewer": {"reviewer"},
    "wang": {"reviewer"},
    "chen": {"preparer"},
}


@pytest.fixture(scope="module")
def deployed(in_process: Chain) -> Deployment:
    return in_process.deploy()


@dataclass
class BankGateway:
    node: Node
    letter: ConfirmationLetter
    letter_hash: str
    keys: dict[str, str]

    def client(self, user: str) -> TestClient:
        return TestClient(
            create_app(self.node, run_workers=False),
            headers={"Authorization": f"Bearer {self.keys[user]}"},
        )

    def reply(self, *, preparer: Officer, reviewer: Officer, **changes: Any) -> ConfirmationReply:
        made = sample_reply(self.letter, letter_hash=bytes.fromhex(self.letter_hash[2:]))
        return made.model_copy(update={"preparer": preparer, "reviewer": reviewer, **changes})

    def post_reply(self, user: str, reply: ConfirmationReply) -> Any:
        with self.client(user) as client:
            return client.post(
                f"/v1/letters/{self.letter.letter_id}/reply",
                json={"reply": reply.model_dump(mode="json", by_alias=True)},
            )

    def draft(self, user: str, items: ReplyItems, remarks: str | None = None) -> dict[str, Any]:
        with self.client(user) as client:
            response = client.post(
                f"/v1/bank/letters/{self.letter.letter_id}/draft",
                json={"items": items.model_dump(mode="json"), "remarks": remarks},
            )
        assert response.status_code == 201, response.text
        drafted: dict[str, Any] = response.json()
        return drafted

    def stored_reply(self) -> ConfirmationReply | None:
        with self.node.db.session() as session:
            row = letters.letter_row(session, self.letter.letter_id)
            return None if row.reply_sealed is None else letters.stored_reply(self.node, row)[0]

    def queued_steps(self) -> list[str]:
        with self.node.db.session() as session:
            return list(session.scalars(select(OutboxTransaction.key).order_by(OutboxTransaction.id)))

    def log(self) -> list[tuple[str, str]]:
        with self.node.db.session() as session:
            return [(d.action, d.actor_id) for d in decisions(session, self.letter.letter_id)]


@pytest.fixture
def bank(deployed: Deployment, tmp_path: Path) -> Iterator[BankGateway]:
    """A bank gateway (manual approval, no core bank) holding an accepted letter, and its users."""
    node = gateway_node(deployed, deployed.bank, tmp_path)
    letter = sample_letter(
        audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
    )
    letter_hash = store_received(node, letter, LetterStatus.ACCEPTED)
    with node.db.session() as session:
        keys = {name: create_user(session, MemberRole.BANK, name, roles) for name, roles in USERS.items()}
        session.flush()
        for name, (display_name, title) in PEOPLE.items():
            set_person(session, name, display_name, title)
    with node.db.session() as session:
        revoke_user(session, "chen")
    yield BankGateway(node, letter, letter_hash, keys)
    node.db.dispose()


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _officer(user: str) -> Officer:
    """The officer as the bank's records name them (by the user name where they hold nothing)."""
    name, title = PEOPLE.get(user, (user, None))
    return Officer(officer_id=user, name=name, title=title)


REVIEWER = _officer("reviewer")


# --- one reviewer cannot reply alone -----------------------------------------------------------


@pytest.mark.parametrize(
    ("preparer", "code"),
    [
        pytest.param(PREPARER, "preparer_not_officer", id="no-such-user"),
        pytest.param(_officer("wang"), "preparer_not_officer", id="a-reviewer-not-a-preparer"),
        pytest.param(_officer("chen"), "preparer_not_officer", id="a-revoked-user"),
        pytest.param(SYSTEM_DRAFTER, "system_sign_off", id="system-drafter"),
        pytest.param(_officer("system:straight-through"), "system_sign_off", id="system-reviewer"),
        pytest.param(_officer("preparer"), "preparer_did_not_act", id="a-preparer-who-drafted-nothing"),
    ],
)
def test_a_reviewer_cannot_reply_alone(bank: BankGateway, preparer: Officer, code: str) -> None:
    response = bank.post_reply("reviewer", bank.reply(preparer=preparer, reviewer=REVIEWER))
    assert _error(response) == (403, code), response.text
    assert bank.stored_reply() is None
    assert not any(key.startswith("reply:") for key in bank.queued_steps())


def test_the_preparer_cannot_review_their_own_draft(bank: BankGateway) -> None:
    items = sample_reply(bank.letter, letter_hash=b"\0" * 32).items
    bank.draft("admin", items)  # admin holds every role
    admin = _officer("admin")
    # The reply document itself refuses one officer in both places (checked before anything else).
    response = bank.post_reply("admin", bank.reply(preparer=admin, reviewer=admin))
    assert _error(response) == (422, "invalid_request")
    with bank.client("admin") as client:
        refused = client.post(f"/v1/bank/letters/{bank.letter.letter_id}/approve", json={})
    assert _error(refused) == (403, "same_officer")
    assert bank.stored_reply() is None


def test_the_reply_must_be_the_draft_its_preparer_made(bank: BankGateway) -> None:
    prepared = bank.reply(preparer=_officer("preparer"), reviewer=REVIEWER)
    bank.draft("preparer", prepared.items, remarks="按账面余额回函")
    # The reviewer cannot change what was prepared: items, remarks, nor the preparer's name.
    altered = prepared.items.model_copy(
        update={"loans": prepared.items.loans.model_copy(update={"status": ItemStatus.NOT_APPLICABLE})}
    )
    for changed in (
        prepared.model_copy(update={"remarks": "按账面余额回函", "items": altered}),
        prepared.model_copy(update={"remarks": "另外的备注"}),
        prepared.model_copy(
            update={"remarks": "按账面余额回函", "preparer": Officer(officer_id="preparer", name="preparer")}
        ),
    ):
        response = bank.post_reply("reviewer", changed)
        assert _error(response) == (403, "preparer_did_not_act"), response.text
    assert bank.stored_reply() is None


def test_a_preparer_drafts_and_another_reviewer_replies(bank: BankGateway) -> None:
    prepared = bank.reply(preparer=_officer("preparer"), reviewer=REVIEWER, remarks="按账面余额回函")
    drafted = bank.draft("preparer", prepared.items, remarks="按账面余额回函")
    assert drafted["preparer"] == {"officer_id": "preparer", "name": "陈晓明", "title": None}
    with bank.client("preparer") as client:  # the maker cannot send it
        response = client.post(
            f"/v1/letters/{bank.letter.letter_id}/reply",
            json={"reply": prepared.model_dump(mode="json", by_alias=True)},
        )
        assert _error(response) == (403, "forbidden")
    response = bank.post_reply("reviewer", prepared)
    assert response.status_code == 202, response.text
    assert bank.stored_reply() == prepared
    assert f"reply:{bank.letter.letter_id}" in bank.queued_steps()
    assert bank.log() == [(Action.DRAFTED, "preparer"), (Action.APPROVED, "reviewer")]
    with bank.node.db.session() as session:
        row = session.scalars(select(DraftRow)).one()
        assert (row.status, row.preparer_id, row.reviewer_id) == (
            DraftStatus.APPROVED,
            "preparer",
            "reviewer",
        )
    # The same reply again is a retry; another one is refused.
    assert bank.post_reply("reviewer", prepared).status_code == 202
    again = bank.post_reply("wang", prepared.model_copy(update={"reviewer": _officer("wang")}))
    assert _error(again) == (409, "conflict")
    assert bank.log() == [(Action.DRAFTED, "preparer"), (Action.APPROVED, "reviewer")]


def test_a_system_draft_waits_for_a_person_to_prepare_it(bank: BankGateway) -> None:
    """Under the manual policy (or with exceptions) a draft the system made is not a preparer's
    sign-off: a person drafts it again before another approves it."""
    items = sample_reply(bank.letter, letter_hash=b"\0" * 32).items
    with bank.node.db.session() as session:
        row = Letters(bank.node).get(session, bank.letter.letter_id)
        store_draft(bank.node, session, row, Draft(items=items), SYSTEM_DRAFTER)
    with bank.client("reviewer") as client:
        refused = client.post(f"/v1/bank/letters/{bank.letter.letter_id}/approve", json={})
    assert _error(refused) == (403, "system_sign_off")
    refused = bank.post_reply("reviewer", bank.reply(preparer=SYSTEM_DRAFTER, reviewer=REVIEWER))
    assert _error(refused) == (403, "system_sign_off")
    assert bank.stored_reply() is None

    bank.draft("preparer", items)
    with bank.client("reviewer") as client:
        approved = client.post(f"/v1/bank/letters/{bank.letter.letter_id}/approve", json={"draft_version": 2})
    assert approved.status_code == 202, approved.text
    reply = bank.stored_reply()
    assert reply is not None
    assert (reply.preparer.officer_id, reply.reviewer.officer_id) == ("preparer", "reviewer")
    assert bank.log() == [
        (Action.DRAFTED, "system:drafter"),
        (Action.SUPERSEDED, "preparer"),
        (Action.DRAFTED, "preparer"),
        (Action.APPROVED, "reviewer"),
    ]


# --- the reply names people by name and title ----------------------------------------------------


def test_a_reply_names_its_officers_by_name_and_title(bank: BankGateway) -> None:
    """Never only a user name: a reviewer whose name and title the bank has not recorded cannot
    sign off; once an admin records them, the reply names the person."""
    items = sample_reply(bank.letter, letter_hash=b"\0" * 32).items
    bank.draft("preparer", items)
    with bank.client("wang") as client:
        refused = client.post(f"/v1/bank/letters/{bank.letter.letter_id}/approve", json={})
    assert _error(refused) == (403, "officer_unnamed"), refused.text
    assert bank.stored_reply() is None

    person = {"name": "王芳", "title": "运营部副经理"}
    with bank.client("reviewer") as client:  # only an admin records who a user is
        assert _error(client.put("/v1/bank/officers/wang", json=person)) == (403, "forbidden")
    with bank.client("admin") as client:
        recorded = client.put("/v1/bank/officers/wang", json=person)
        assert recorded.status_code == 200, recorded.text
        assert recorded.json() | {"roles": None} == {
            "user": "wang",
            "roles": None,
            "name": "王芳",
            "title": "运营部副经理",
            "signs_off": True,
        }
        listed = {o["user"]: o for o in client.get("/v1/bank/officers").json()}
        assert listed["officer"]["signs_off"] is False  # nothing recorded for the officer
    with bank.client("wang") as client:
        approved = client.post(f"/v1/bank/letters/{bank.letter.letter_id}/approve", json={})
    assert approved.status_code == 202, approved.text
    reply = bank.stored_reply()
    assert reply is not None
    assert reply.preparer == Officer(officer_id="preparer", name="陈晓明", title="对公业务经办")
    assert reply.reviewer == Officer(officer_id="wang", name="王芳", title="运营部副经理")
    assert reply.automated_control is None
