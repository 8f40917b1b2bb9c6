"""The firm's own control over its letters, through a firm's gateway on the in-process chain, its
outbox and indexer run by hand: the review (审核) before a letter goes out, the recall (召回) of a
prepared one, the manager's acceptance (验收), and the return (退回) of a letter the auditee has
not authorised within ten calendar days (the clock injected, the chain's own timestamps).
"""

from __future__ import annotations

import functools
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from node_gateway.api.app import create_app
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user
from node_gateway.node import Node
from node_gateway.protocol.documents import AuditFirm, Bank
from node_gateway.protocol.envelopes import DEFAULT_SUITE, EncryptionKeyPair, encode_public_keys
from node_gateway.protocol.samples import sample_letter
from node_gateway.services.firm_review import DAY_S, NOT_AUTHORISED_IN_TIME
from node_gateway.services.housekeeping import Housekeeping
from node_gateway.services.indexer import Indexer
from node_gateway.services.outbox import TransactionOutbox
from node_gateway.storage.models import LetterRow, OutboxTransaction

from .api_apps import client, signed_authorisation
from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain, Deployment
    from fastapi import FastAPI
    from starlette.testclient import TestClient

# The firm's people: an assistant prepares, two project managers (each also an auditor) review.
PEOPLE = {"assistant": {"auditor"}, "manager": {"auditor", "manager"}, "manager2": {"auditor", "manager"}}


@dataclass
class Firm:
    deployed: Deployment
    node: Node
    app: FastAPI
    http: TestClient
    keys: dict[str, str]
    reference: bytes  # the auditee reference under which the bank mandates the deployment's signer

    def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[user]}"}

    def prepare(self, user: str = "assistant", count: int = 1) -> list[dict[str, Any]]:
        letters = [
            sample_letter(
                audit_firm=AuditFirm(member_no=self.deployed.firm.member_id, name="明鉴会计师事务所"),
                bank=Bank(member_no=self.deployed.bank.member_id, name="东海银行"),
            )
            for _ in range(count)
        ]
        body = {"letters": [{"letter": x.model_dump(mode="json", by_alias=True)} for x in letters]}
        response = self.http.post("/v1/letters", json=body, headers=self.as_(user))
        assert response.status_code == 201, response.text
        created: list[dict[str, Any]] = response.json()
        return created

    def letter(self, letter_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/letters/{letter_id}", headers=self.as_("manager"))
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view

    def settle(self) -> None:
        """Runs the outbox and the indexer until neither has anything left to do."""
        outbox, indexer = TransactionOutbox(self.node), Indexer(self.node)
        while outbox.run_once() + indexer.run_once():
            pass


def _firm(in_process: Chain, path: Path, **settings: Any) -> Generator[Firm]:
    deployed = in_process.deploy()
    # The bank publishes a key, so that an authorised letter can be sealed to it (not delivered).
    bank_key = encode_public_keys([EncryptionKeyPair.generate(DEFAULT_SUITE).public_key])
    deployed.send(deployed.bank, deployed.members.update_endpoint("http://127.0.0.1:9", bank_key))
    node = gateway_node(deployed, deployed.firm, path, **settings)
    with node.db.session() as session:
        keys = {
            name: create_user(session, MemberRole.AUDIT_FIRM, name, roles) for name, roles in PEOPLE.items()
        }
    app = create_app(node, run_workers=False)
    yield Firm(deployed, node, app, client(app), keys, deployed.auditee_ref)
    node.db.dispose()


@pytest.fixture
def reviewing(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    yield from _firm(in_process, tmp_path, firm_review_required=True)


@pytest.fixture
def plain(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    yield from _firm(in_process, tmp_path)


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]["code"]
    return code


def _queued(firm: Firm, letter_id: str) -> list[str]:
    with firm.node.db.session() as session:
        return list(
            session.scalars(select(OutboxTransaction.step).where(OutboxTransaction.letter_id == letter_id))
        )


# --- review (审核), recall (召回), acceptance (验收) ------------------------------------------------


def test_a_prepared_letter_waits_for_another_persons_review(reviewing: Firm) -> None:
    [created] = reviewing.prepare("assistant")
    letter_id = created["letter_id"]
    assert created["status"] == "PREPARED"
    assert created["prepared_by"] == "assistant"
    assert created["confirmation_no"]  # numbered already: the number is the firm's record
    reviewing.settle()
    assert _queued(reviewing, letter_id) == []  # nothing on its way to the chain
    assert reviewing.deployed.confirmations.get_letter(bytes.fromhex(letter_id[2:])).status.name == "NONE"
    # Not sent for authorisation, not withdrawn: it is not out.
    body = {"letter_ids": [letter_id]}
    assert (
        _error(
            reviewing.http.post("/v1/authorisations/requests", json=body, headers=reviewing.as_("assistant")),
            409,
        )
        == "conflict"
    )
    # The assistant holds no manager's role; a manager does, but not over their own letter.
    assert (
        _error(reviewing.http.post("/v1/letters/approve", json=body, headers=reviewing.as_("assistant")), 403)
        == "forbidden"
    )
    [own] = reviewing.prepare("manager")
    refused = reviewing.http.post(
        "/v1/letters/approve", json={"letter_ids": [own["letter_id"]]}, headers=reviewing.as_("manager")
    )
    assert _error(refused, 403) == "forbidden"
    assert "another person" in refused.json()["error"]["message"]

    approved = reviewing.http.post("/v1/letters/approve", json=body, headers=reviewing.as_("manager"))
    assert approved.status_code == 200, approved.text
    assert approved.json()[0]["status"] == "PENDING"
    assert approved.json()[0]["reviewed_by"] == "manager"
    reviewing.settle()
    view = reviewing.letter(letter_id)
    assert view["status"] == "REQUESTED"
    assert view["prepared_by"] == "assistant"
    assert view["reviewed_by"] == "manager"
    # Approved once: a second approval is a conflict, and so is a recall now that it is out.
    assert (
        _error(reviewing.http.post("/v1/letters/approve", json=body, headers=reviewing.as_("manager2")), 409)
        == "conflict"
    )
    assert (
        _error(
            reviewing.http.post(f"/v1/letters/{letter_id}/recall", headers=reviewing.as_("assistant")), 409
        )
        == "conflict"
    )
    # The manager's own letter goes out once the other manager has reviewed it.
    other = reviewing.http.post(
        "/v1/letters/approve", json={"letter_ids": [own["letter_id"]]}, headers=reviewing.as_("manager2")
    )
    assert other.status_code == 200, other.text


def test_a_prepared_letter_is_recalled_by_its_preparer_or_a_manager_and_never_goes_out(
    reviewing: Firm,
) -> None:
    first, second = reviewing.prepare("assistant", count=2)
    recalled = reviewing.http.post(
        f"/v1/letters/{first['letter_id']}/recall", headers=reviewing.as_("assistant")
    )
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["status"] == "RECALLED"
    # Another auditor who neither prepared it nor manages cannot; a manager can.
    [theirs] = reviewing.prepare("manager2")
    assert (
        _error(
            reviewing.http.post(
                f"/v1/letters/{theirs['letter_id']}/recall", headers=reviewing.as_("assistant")
            ),
            403,
        )
        == "forbidden"
    )
    by_manager = reviewing.http.post(
        f"/v1/letters/{second['letter_id']}/recall", headers=reviewing.as_("manager")
    )
    assert by_manager.status_code == 200, by_manager.text
    # A recalled letter is not approved later, and nothing of either went to the chain.
    body = {"letter_ids": [first["letter_id"]]}
    assert (
        _error(reviewing.http.post("/v1/letters/approve", json=body, headers=reviewing.as_("manager")), 409)
        == "conflict"
    )
    reviewing.settle()
    assert _queued(reviewing, first["letter_id"]) == [] == _queued(reviewing, second["letter_id"])
    listed = reviewing.http.get(
        "/v1/letters", params={"status": "RECALLED"}, headers=reviewing.as_("manager")
    )
    assert {x["letter_id"] for x in listed.json()["items"]} == {first["letter_id"], second["letter_id"]}


def _replied(firm: Firm, letter_id: str) -> None:
    """Marks the letter replied and its reply verified, as delivery would (no bank runs here)."""
    with firm.node.db.session() as session:
        row = session.get(LetterRow, letter_id)
        assert row is not None
        row.status, row.reply_verified = "REPLIED", True


def test_only_a_manager_other_than_the_preparer_accepts_a_reply(reviewing: Firm) -> None:
    [created] = reviewing.prepare("manager")
    letter_id = created["letter_id"]
    _replied(reviewing, letter_id)
    for user in ("assistant", "manager"):  # no manager; the preparer
        assert (
            _error(reviewing.http.post(f"/v1/letters/{letter_id}/close", headers=reviewing.as_(user)), 403)
            == "forbidden"
        )
    bulk = reviewing.http.post(
        "/v1/letters/close", json={"letter_ids": [letter_id]}, headers=reviewing.as_("assistant")
    )
    assert _error(bulk, 403) == "forbidden"
    accepted = reviewing.http.post(f"/v1/letters/{letter_id}/close", headers=reviewing.as_("manager2"))
    assert accepted.status_code == 202, accepted.text
    assert reviewing.letter(letter_id)["accepted_by"] == "manager2"
    assert _queued(reviewing, letter_id) == ["close"]


def test_without_the_review_letters_go_out_and_any_auditor_closes_as_before(plain: Firm) -> None:
    [created] = plain.prepare("assistant")
    assert created["status"] == "PENDING"
    assert created["prepared_by"] == "assistant"
    assert _queued(plain, created["letter_id"]) == ["request"]
    _replied(plain, created["letter_id"])
    closed = plain.http.post(f"/v1/letters/{created['letter_id']}/close", headers=plain.as_("assistant"))
    assert closed.status_code == 202, closed.text
    assert plain.letter(created["letter_id"])["accepted_by"] == "assistant"


# --- the return (退回) of a letter not authorised in time ------------------------------------------


def _authorise(firm: Firm, letter_id: str) -> None:
    bundle = firm.http.post(
        "/v1/authorisations/requests", json={"letter_ids": [letter_id]}, headers=firm.as_("assistant")
    )
    assert bundle.status_code == 200, bundle.text
    body = signed_authorisation(bundle.json(), firm.deployed.signer)
    submitted = firm.http.post("/v1/authorisations", json=body, headers=firm.as_("assistant"))
    assert submitted.status_code == 202, submitted.text


def test_a_letter_not_authorised_within_ten_days_goes_back_to_the_firm(plain: Firm) -> None:
    waiting, authorised = (x["letter_id"] for x in plain.prepare("assistant", count=2))
    plain.settle()
    _authorise(plain, authorised)  # submitted: its authorisation is on its way, it stays
    requested_at = plain.deployed.now()
    housekeeping = Housekeeping(plain.node, clock=lambda: requested_at + 10 * DAY_S - 60)
    assert housekeeping.return_letters() == []  # ten days not yet past
    housekeeping.clock = lambda: requested_at + 10 * DAY_S + 60
    assert housekeeping.return_letters() == [waiting]
    assert housekeeping.return_letters() == []  # once
    plain.settle()
    view = plain.letter(waiting)
    assert view["status"] == "WITHDRAWN"
    assert view["returned"] == NOT_AUTHORISED_IN_TIME
    assert [step["name"] for step in view["history"]][-1] == "LetterWithdrawn"  # the recorded step
    assert plain.letter(authorised)["status"] == "AUTHORISED"
    assert plain.letter(authorised)["returned"] is None
    listed = plain.http.get(
        "/v1/letters", params={"status": "WITHDRAWN"}, headers=plain.as_("assistant")
    ).json()
    assert [(x["letter_id"], x["returned"]) for x in listed["items"]] == [(waiting, NOT_AUTHORISED_IN_TIME)]


def test_the_return_is_configurable_and_off_at_zero(in_process: Chain, tmp_path: Path) -> None:
    for days, returned in ((3, 1), (0, 0)):
        (tmp_path / str(days)).mkdir()
        firm_gen = _firm(in_process, tmp_path / str(days), authorisation_return_days=days)
        firm = next(firm_gen)
        firm.prepare("assistant")
        firm.settle()
        housekeeping = Housekeeping(
            firm.node, clock=functools.partial(float, firm.deployed.now() + 4 * DAY_S)
        )
        assert len(housekeeping.return_letters()) == returned
        firm_gen.close()
