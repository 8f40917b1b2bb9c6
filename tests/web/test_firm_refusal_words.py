"""The auditee's refusal in words (ISA 505 ¶8), on a firm's gateway over the in-process chain, its
outbox and indexer run by hand: the signed refusal submitted with ``reason_text`` is refused on
chain with its code only; the firm keeps the words sealed with the letter and shows them in
``GET /v1/letters/{id}`` and on the letter's page; the bad bodies get their error codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from gateway.api_apps import Gateway, client, gateway, signed_authorisation
from sqlalchemy import select

from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.protocol.documents import AuditFirm, Bank
from node_gateway.protocol.samples import sample_letter
from node_gateway.services.indexer import Indexer
from node_gateway.services.outbox import TransactionOutbox
from node_gateway.storage.models import ChainEventRow, NoticeRow, OutboxTransaction
from web.test_bank_pages import PASSWORD, sign_in

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

WORDS = "本公司已于2024年更换审计机构,未委托该会计师事务所执行本期审计"
REFUSAL_CODE = 1  # not our auditor


@dataclass
class Firm:
    gw: Gateway
    http: TestClient

    def settle(self) -> None:
        """Runs the outbox and the indexer until neither has anything left to do."""
        outbox, indexer = TransactionOutbox(self.gw.node), Indexer(self.gw.node)
        while outbox.run_once() + indexer.run_once():
            pass

    def requested(self) -> str:
        deployed = self.gw.deployment
        letter = sample_letter(
            audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
            bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
        )
        body = {"letters": [{"letter": letter.model_dump(mode="json", by_alias=True)}]}
        response = self.http.post("/v1/letters", json=body, headers=self.gw.auth("auditor"))
        assert response.status_code == 201, response.text
        self.settle()
        return letter.letter_id

    def signed(self, letter_id: str, reason: int | None) -> dict[str, Any]:
        """The auditee's signed authorisation (``reason`` None) or refusal of the letter."""
        request: dict[str, Any] = {"letter_ids": [letter_id], "refusal_reason": reason}
        bundle = self.http.post("/v1/authorisations/requests", json=request, headers=self.gw.auth("auditor"))
        assert bundle.status_code == 200, bundle.text
        return signed_authorisation(bundle.json(), self.gw.deployment.signer, reason)

    def submit(self, body: dict[str, Any]) -> Any:
        return self.http.post("/v1/authorisations", json=body, headers=self.gw.auth("auditee"))

    def letter(self, letter_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/letters/{letter_id}", headers=self.gw.auth("auditor"))
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view


@pytest.fixture
def firm(in_process: Chain, tmp_path: Any) -> Iterator[Firm]:
    deployed = in_process.deploy()
    gw = gateway(
        deployed, MemberRole.AUDIT_FIRM, tmp_path
    )  # the deployment's signer: one mandate at the bank
    with gw.node.db.session() as session:
        create_user(session, MemberRole.AUDIT_FIRM, "wang", {"auditor"}, password=PASSWORD)
        set_password(session, "wang", PASSWORD, one_time=False)
    yield Firm(gw, client(gw.app))
    gw.node.db.dispose()


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]["code"]
    return code


def test_the_refusal_in_words_is_kept_by_the_firm_and_only_its_code_goes_on_chain(firm: Firm) -> None:
    letter_id = firm.requested()
    refusal = firm.signed(letter_id, REFUSAL_CODE)
    assert firm.submit({**refusal, "reason_text": f"  {WORDS} "}).status_code == 202
    assert firm.submit({**refusal, "reason_text": WORDS}).status_code == 202  # the same again: a no-op
    assert _error(firm.submit({**refusal, "reason_text": "另一种说法"}), 409) == "conflict"
    firm.settle()
    view = firm.letter(letter_id)
    assert (view["status"], view["reason"], view["refusal_text"]) == ("REFUSED", REFUSAL_CODE, WORDS)
    assert [step["name"] for step in view["history"]][-1] == "AuthorisationRefused"

    # Neither the step sent to the chain nor what the chain recorded holds the words; the firm's
    # copy is sealed.
    with firm.gw.node.db.session() as session:
        sent = [str(x) for x in session.scalars(select(OutboxTransaction.payload))]
        recorded = [str(x) for x in session.scalars(select(ChainEventRow.args))]
        kept = session.scalars(select(NoticeRow).where(NoticeRow.letter_id == letter_id)).all()
    assert not [x for x in sent + recorded if WORDS in x]
    assert [(x.kind, WORDS.encode() in x.sealed) for x in kept] == [("refusal", False)]

    page = sign_in(firm.gw, "wang").get(f"/web/firm/letters/{letter_id}").text
    assert 'data-testid="refusal"' in page
    assert f'<dd data-testid="refusal-text">{WORDS}</dd>' in page
    assert "非本单位审计师" in page  # the code's words beside them


def test_a_refusal_without_words_shows_none_and_bad_words_are_refused(firm: Firm) -> None:
    plain, authorised = firm.requested(), firm.requested()
    refusal = firm.signed(plain, REFUSAL_CODE)
    for words in ("", "   ", "字" * 501):
        assert _error(firm.submit({**refusal, "reason_text": words}), 422) == "invalid_request"
    authorisation = firm.signed(authorised, None)
    refused = firm.submit({**authorisation, "reason_text": WORDS})
    assert _error(refused, 422) == "invalid_request"
    assert "an authorisation has none" in refused.json()["error"]["message"]
    assert firm.letter(authorised)["authorisation"] is None  # nothing of it kept
    assert firm.submit(refusal).status_code == 202
    firm.settle()
    view = firm.letter(plain)
    assert (view["status"], view["refusal_text"]) == ("REFUSED", None)
    page = sign_in(firm.gw, "wang").get(f"/web/firm/letters/{plain}").text
    assert 'data-testid="refusal"' not in page
