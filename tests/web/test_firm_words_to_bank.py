"""The firm's words to the bank (issue 12): a message with each follow-up (催函) and the reason for a
withdrawal (撤回), on a firm's and a bank's gateway over the in-process chain. The workers are run
by hand; envelopes go from the firm's delivery outbox to the bank's peer API over its ASGI app
(signed peer calls, HPKE, the bank's checks against its index of the chain).

What the firm sent and what the chain recorded hold none of the words; the bank keeps them only if
its index of the chain shows the step, from the letter's firm, where the words say; the same
envelope again is a no-op, other words for the same step are refused, and so is a forged one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from gateway.api_apps import Gateway, client, gateway
from sqlalchemy import select
from typer.testing import CliRunner

from auditor_client.cli import auditor as auditor_cli
from auditor_client.sdk import AsyncClient, Client
from confirmnet.cli import app
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.errors import NodeGatewayError
from node_gateway.protocol.documents import ChainReference, FollowUpMessage, WithdrawalReason
from node_gateway.protocol.envelopes import Envelope, seal
from node_gateway.protocol.hashing import canonical_bytes
from node_gateway.services.delivery import DeliveryWorker, EnvelopeContent
from node_gateway.services.firm_review import return_unauthorised
from node_gateway.services.inbound import receive_envelopes
from node_gateway.services.indexer import Indexer
from node_gateway.services.outbox import TransactionOutbox
from node_gateway.storage.models import ChainEventRow, NoticeRow, OutboxDelivery, OutboxTransaction
from node_gateway.storage.vault import StoredDocument
from web.test_bank_pages import PASSWORD, sign_in
from web.test_firm_refusal_words import Firm

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

FIRST = "贵行已于10个工作日前收到询证函，至今未回函，请尽快处理。"
SECOND = "再次催告：请于本周五前回函，如有疑问请联系经办人王敏（021-6888 1234）。"
REASON = "被审计单位变更了审计范围，该账户不再函证，特此撤回。"


@dataclass
class Pair:
    auditor: Firm  # the firm's gateway and API, as the refusal's tests drive it
    bank: Gateway

    @property
    def firm(self) -> Gateway:
        return self.auditor.gw

    @property
    def http(self) -> TestClient:
        return self.auditor.http

    def settle(self) -> None:
        """Runs both gateways' outboxes and indexers, and the firm's deliveries into the bank's
        peer API, until nothing moves."""
        firm_outbox, bank_outbox = TransactionOutbox(self.firm.node), TransactionOutbox(self.bank.node)
        indexers = Indexer(self.firm.node), Indexer(self.bank.node)
        deliveries = DeliveryWorker(self.firm.node, client=client(self.bank.app))
        while (
            firm_outbox.run_once()
            + bank_outbox.run_once()
            + sum(indexer.run_once() for indexer in indexers)
            + deliveries.run_once()
        ):
            pass

    def requested(self) -> str:
        letter_id = self.auditor.requested()
        self.settle()
        return letter_id

    def authorised(self) -> str:
        """A letter the auditee authorised: the firm delivered it to the bank."""
        letter_id = self.requested()
        assert self.auditor.submit(self.auditor.signed(letter_id, None)).status_code == 202
        self.settle()
        return letter_id

    def post(self, letter_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
        return self.http.post(
            f"/v1/letters/{letter_id}/{action}", json=body, headers=self.firm.auth("auditor")
        )

    def view(self, gw: Gateway, letter_id: str) -> dict[str, Any]:
        role = "auditor" if gw is self.firm else "officer"
        response = client(gw.app).get(f"/v1/letters/{letter_id}", headers=gw.auth(role))
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view


@pytest.fixture(scope="module")
def pair(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    deployed = in_process.deploy()
    firm = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("firm"))
    bank = gateway(deployed, MemberRole.BANK, tmp_path_factory.mktemp("bank"))
    # The bank publishes where it is and its key, as its housekeeping does.
    deployed.send(
        deployed.bank, deployed.members.update_endpoint("http://bank.test", bank.node.encryption_keys_blob())
    )
    for gw, role in ((firm, "auditor"), (bank, "officer")):
        with gw.node.db.session() as session:
            create_user(session, gw.kind, "wang", {role}, password=PASSWORD)
            set_password(session, "wang", PASSWORD, one_time=False)
    yield Pair(Firm(firm, client(firm.app)), bank)
    firm.node.db.dispose()
    bank.node.db.dispose()


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]["code"]
    return code


def _words_anywhere_public(gw: Gateway, *words: str) -> list[str]:
    """The words found in what the gateway sent to the chain, or read from it."""
    with gw.node.db.session() as session:
        sent = [str(x) for x in session.scalars(select(OutboxTransaction.payload))]
        recorded = [str(x) for x in session.scalars(select(ChainEventRow.args))]
    return [x for x in sent + recorded for w in words if w in x]


def test_follow_up_messages_reach_the_bank_in_order_and_show_on_both_sides(pair: Pair) -> None:
    letter_id = pair.authorised()
    assert pair.post(letter_id, "follow-up", {"message": f"  {FIRST} "}).status_code == 202
    pair.settle()
    assert pair.post(letter_id, "follow-up").status_code == 202  # no body: no message, as ever
    assert pair.post(letter_id, "follow-up", {"message": SECOND}).status_code == 202
    pair.settle()

    firm_view = pair.view(pair.firm, letter_id)
    assert [(f["ordinal"], f["message"], f["delivery"]) for f in firm_view["follow_ups"]] == [
        (1, FIRST, "done"),
        (2, None, None),
        (3, SECOND, "done"),
    ]
    assert all(f["at"] for f in firm_view["follow_ups"])
    bank_view = pair.view(pair.bank, letter_id)
    assert [(f["ordinal"], f["message"]) for f in bank_view["follow_ups"]] == [
        (1, FIRST),
        (2, None),
        (3, SECOND),
    ]
    assert [f["at"] for f in bank_view["follow_ups"]] == [f["at"] for f in firm_view["follow_ups"]]
    case = client(pair.bank.app).get(f"/v1/bank/letters/{letter_id}", headers=pair.bank.auth("officer"))
    assert case.status_code == 200, case.text  # the bank's case view, where its officers work
    assert [(f["ordinal"], f["message"]) for f in case.json()["follow_ups"]] == [
        (1, FIRST),
        (2, None),
        (3, SECOND),
    ]
    assert not _words_anywhere_public(pair.firm, FIRST, SECOND)
    assert not _words_anywhere_public(pair.bank, FIRST, SECOND)
    with pair.bank.node.db.session() as session:  # sealed at rest
        kept = session.scalars(select(NoticeRow).where(NoticeRow.letter_id == letter_id)).all()
    assert sorted((x.kind, x.ordinal) for x in kept) == [("follow_up", 1), ("follow_up", 3)]
    assert not [x for x in kept if FIRST.encode() in x.sealed or SECOND.encode() in x.sealed]

    page = sign_in(pair.bank, "wang").get(f"/web/bank/letters/{letter_id}").text
    assert 'data-testid="follow-ups"' in page
    assert page.index(FIRST) < page.index(SECOND)
    firm_page = sign_in(pair.firm, "wang").get(f"/web/firm/letters/{letter_id}").text
    assert firm_page.index(FIRST) < firm_page.index(SECOND)
    assert 'for="follow-up-message"' in firm_page
    assert 'for="withdraw-reason"' in firm_page

    # The same envelope again is a no-op; other words for the same follow-up are refused.
    envelope = _sent(pair, letter_id, "follow_up", 3)
    assert receive_envelopes(pair.bank.node, pair.firm.party.member_id, [envelope]) == ["duplicate"]
    recorded = _recorded(pair, letter_id, "LetterFollowedUp", 3)
    other = FollowUpMessage(
        letter_id=letter_id,
        firm_member_no=pair.firm.party.member_id,
        ordinal=3,
        message="另一种说法",
        recorded=recorded,
    )
    assert _refusal(pair, other, "follow_up") == "document_hash_mismatch"


def test_a_withdrawal_reason_reaches_the_bank(pair: Pair) -> None:
    letter_id = pair.authorised()
    assert pair.post(letter_id, "withdraw", {"reason_text": REASON}).status_code == 202
    assert pair.post(letter_id, "withdraw", {"reason_text": REASON}).status_code == 202  # a no-op
    assert _error(pair.post(letter_id, "withdraw", {"reason_text": "另一个理由"}), 409) == "conflict"
    pair.settle()
    firm_view = pair.view(pair.firm, letter_id)
    assert (firm_view["status"], firm_view["withdrawal_reason"], firm_view["withdrawal_delivery"]) == (
        "WITHDRAWN",
        REASON,
        "done",
    )
    bank_view = pair.view(pair.bank, letter_id)
    assert (bank_view["status"], bank_view["withdrawal_reason"]) == ("WITHDRAWN", REASON)
    case = client(pair.bank.app).get(f"/v1/bank/letters/{letter_id}", headers=pair.bank.auth("officer"))
    assert case.json()["withdrawal_reason"] == REASON
    assert not _words_anywhere_public(pair.firm, REASON)
    page = sign_in(pair.bank, "wang").get(f"/web/bank/letters/{letter_id}").text
    assert f'<dd data-testid="withdrawal-reason">{REASON}</dd>' in page
    firm_page = sign_in(pair.firm, "wang").get(f"/web/firm/letters/{letter_id}").text
    assert f'<dd data-testid="withdrawal-reason">{REASON}</dd>' in firm_page


def test_words_about_a_letter_the_bank_never_received_stay_at_the_firm(pair: Pair) -> None:
    letter_id = pair.requested()  # not authorised: the bank does not hold it
    assert pair.post(letter_id, "follow-up", {"message": "请尽快完成授权"}).status_code == 202
    pair.settle()
    with pair.firm.node.db.session() as session:
        now = pair.firm.deployment.chain.now()
        assert return_unauthorised(pair.firm.node, session, now + 11 * 86400) == [letter_id]
    pair.settle()
    view = pair.view(pair.firm, letter_id)
    assert [(f["message"], f["delivery"]) for f in view["follow_ups"]] == [("请尽快完成授权", None)]
    assert (view["status"], view["returned"]) == ("WITHDRAWN", "not_authorised_in_time")
    assert view["withdrawal_reason"] == "被审计单位自发函之日起10日内未授权，本所系统已自动退回该询证函。"
    assert view["withdrawal_delivery"] is None
    with pair.firm.node.db.session() as session:
        queued = session.scalars(
            select(OutboxDelivery.step).where(OutboxDelivery.letter_id == letter_id)
        ).all()
    assert queued == []
    bank_view = pair.view(pair.bank, letter_id)
    assert (bank_view["follow_ups"][0]["message"], bank_view["withdrawal_reason"]) == (None, None)


def test_a_message_goes_with_the_follow_up_that_reached_the_chain(pair: Pair) -> None:
    """A follow-up whose step failed (given up before the chain) leaves its ordinal to the next
    one and its message to that one's; a follow-up the firm numbered otherwise than the chain
    (here: its step's record altered) keeps its message at the firm."""
    letter_id = pair.authorised()
    assert pair.post(letter_id, "follow-up", {"message": "从未上链的催函"}).status_code == 202
    with pair.firm.node.db.session() as session:
        (lost,) = session.scalars(
            select(OutboxTransaction).where(
                OutboxTransaction.letter_id == letter_id, OutboxTransaction.step == "follow_up"
            )
        )
        lost.state = "failed"
    assert pair.post(letter_id, "follow-up", {"message": FIRST}).status_code == 202
    assert pair.post(letter_id, "follow-up", {"message": SECOND}).status_code == 202
    with pair.firm.node.db.session() as session:
        asked = session.scalars(
            select(OutboxTransaction)
            .where(OutboxTransaction.letter_id == letter_id, OutboxTransaction.state == "pending")
            .order_by(OutboxTransaction.id)
        ).all()
        assert [row.payload["ordinal"] for row in asked] == [1, 2]
        asked[1].payload = {**asked[1].payload, "ordinal": 7}  # numbered otherwise than the chain will
    pair.settle()
    firm_view = pair.view(pair.firm, letter_id)
    assert [(f["ordinal"], f["message"], f["delivery"]) for f in firm_view["follow_ups"]] == [
        (1, FIRST, "done"),
        (2, SECOND, None),
    ]
    assert [(f["ordinal"], f["message"]) for f in pair.view(pair.bank, letter_id)["follow_ups"]] == [
        (1, FIRST),
        (2, None),
    ]


def test_forged_words_are_refused_with_their_codes(pair: Pair) -> None:
    letter_id = pair.authorised()
    assert pair.post(letter_id, "follow-up", {"message": FIRST}).status_code == 202
    pair.settle()
    firm_no = pair.firm.party.member_id
    recorded = _recorded(pair, letter_id, "LetterFollowedUp", 1)

    def follow_up(ordinal: int, at: ChainReference, member: int = firm_no) -> FollowUpMessage:
        return FollowUpMessage(
            letter_id=letter_id, firm_member_no=member, ordinal=ordinal, message=FIRST, recorded=at
        )

    # A follow-up the chain does not show: a second one, or the first placed in another transaction.
    assert _refusal(pair, follow_up(2, recorded), "follow_up") == "step_not_on_chain"
    elsewhere = recorded.model_copy(update={"transaction_hash": "0x" + "ab" * 32})
    assert _refusal(pair, follow_up(1, elsewhere), "follow_up") == "step_not_on_chain"
    # A withdrawal the chain does not show (the letter awaits the bank).
    withdrawal = WithdrawalReason(
        letter_id=letter_id, firm_member_no=firm_no, reason_text=REASON, recorded=recorded
    )
    assert _refusal(pair, withdrawal, "withdrawal") == "step_not_on_chain"
    # A block the bank has not read yet: asked again later, not refused for good.
    ahead = recorded.model_copy(update={"block_number": recorded.block_number + 1000})
    assert _refusal(pair, follow_up(2, ahead), "follow_up") == "chain_not_ready"
    # Words without the step's place on chain.
    assert _refusal(pair, follow_up(1, recorded).model_copy(update={"recorded": None}), "follow_up") == (
        "invalid_document"
    )
    # Another member than the letter's firm (the regulator here), in its own name or the firm's.
    regulator = pair.firm.deployment.regulator.member_id
    assert (
        _refusal(pair, follow_up(1, recorded, regulator), "follow_up", sender=regulator) == "peer_not_party"
    )
    assert _refusal(pair, follow_up(1, recorded), "follow_up", sender=regulator) == "peer_not_party"
    assert pair.view(pair.bank, letter_id)["follow_ups"][0]["message"] == FIRST  # unchanged


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("follow-up", {"message": ""}),
        ("follow-up", {"message": "   "}),
        ("follow-up", {"message": "字" * 501}),
        ("follow-up", {"message": "x", "urgent": True}),
        ("withdraw", {"reason_text": ""}),
        ("withdraw", {"reason_text": "字" * 501}),
        ("withdraw", {"reason": "x"}),
    ],
)
def test_bad_words_are_refused_and_nothing_is_queued(pair: Pair, action: str, body: dict[str, Any]) -> None:
    letter_id = pair.requested()
    assert _error(pair.post(letter_id, action, body), 422) == "invalid_request"
    with pair.firm.node.db.session() as session:
        steps = session.scalars(
            select(OutboxTransaction.step).where(OutboxTransaction.letter_id == letter_id)
        )
        assert list(steps) == ["request"]


def test_five_hundred_characters_are_taken(pair: Pair) -> None:
    letter_id = pair.authorised()
    assert pair.post(letter_id, "follow-up", {"message": "字" * 500}).status_code == 202
    pair.settle()
    assert pair.view(pair.bank, letter_id)["follow_ups"][0]["message"] == "字" * 500


# --- helpers -------------------------------------------------------------------------------------


def _sent(pair: Pair, letter_id: str, step: str, ordinal: int) -> Envelope:
    """The envelope the firm delivered for the step."""
    with pair.firm.node.db.session() as session:
        row = session.scalars(
            select(OutboxDelivery).where(
                OutboxDelivery.letter_id == letter_id,
                OutboxDelivery.step == step,
                OutboxDelivery.ordinal == ordinal,
            )
        ).one()
        assert row.state == "done"
        return Envelope.model_validate(row.envelope)


def _recorded(pair: Pair, letter_id: str, event: str, nth: int) -> ChainReference:
    """Where the chain recorded the letter's ``nth`` event of that name, as the bank indexed it."""
    with pair.bank.node.db.session() as session:
        rows = session.scalars(
            select(ChainEventRow)
            .where(ChainEventRow.letter_id == letter_id, ChainEventRow.name == event)
            .order_by(ChainEventRow.block_number, ChainEventRow.log_index)
        ).all()
        row = rows[nth - 1]
        return ChainReference(block_number=row.block_number, transaction_hash=row.transaction_hash)


def _refusal(
    pair: Pair, words: FollowUpMessage | WithdrawalReason, step: str, *, sender: int | None = None
) -> str:
    """The code the bank refuses ``words`` with, sealed to it by ``sender`` (the firm's number)."""
    sender = pair.firm.party.member_id if sender is None else sender
    bank = pair.bank.node
    content = EnvelopeContent.of(StoredDocument(canonical_bytes(words), b""))
    envelope = seal(
        content.model_dump_json().encode("utf-8"),
        bank.public_key_of(bank.member_id()),
        letter_id=words.letter_id,
        step=step,  # type: ignore[arg-type]
        sender=sender,
        recipient=bank.member_id(),
    )
    (result,) = receive_envelopes(bank, sender, [envelope])
    assert isinstance(result, NodeGatewayError), result
    return result.code


# --- the auditor's SDK and CLI -------------------------------------------------------------------


def _sdk(pair: Pair) -> Client:
    """The SDK on the firm's gateway (its ASGI app as the transport)."""
    return Client(
        "http://firm.test", api_key=pair.firm.keys["auditor"], transport=client(pair.firm.app)._transport
    )


def test_the_sdk_sends_a_message_and_a_reason(pair: Pair) -> None:
    letter_id = pair.authorised()
    with _sdk(pair) as api:
        assert api.follow_up(letter_id, message=FIRST).queued == "follow_up"
        pair.settle()
        assert api.withdraw(letter_id, reason_text=REASON).queued == "withdraw"
        pair.settle()
        view = api.get_letter(letter_id)
    assert [(f.ordinal, f.message) for f in view.follow_ups] == [(1, FIRST)]
    assert (view.status, view.withdrawal_reason) == ("WITHDRAWN", REASON)
    bank_view = pair.view(pair.bank, letter_id)
    assert (bank_view["follow_ups"][0]["message"], bank_view["withdrawal_reason"]) == (FIRST, REASON)


def test_the_async_sdk_sends_a_message_and_a_reason(pair: Pair) -> None:
    letter_id = pair.authorised()

    async def follow_up_then_withdraw() -> None:
        transport = httpx.ASGITransport(app=pair.firm.app)
        async with AsyncClient(
            "http://firm.test", api_key=pair.firm.keys["auditor"], transport=transport
        ) as api:
            assert (await api.follow_up(letter_id, message=SECOND)).queued == "follow_up"
            assert (await api.withdraw(letter_id, reason_text=REASON)).queued == "withdraw"

    # A loop of its own in a thread: a browser test of the same worker leaves Playwright's running.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, follow_up_then_withdraw()).result()
    pair.settle()
    bank_view = pair.view(pair.bank, letter_id)
    assert (bank_view["follow_ups"][0]["message"], bank_view["withdrawal_reason"]) == (SECOND, REASON)


def test_the_cli_takes_a_message_and_a_reason_text(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    letter_id = pair.authorised()
    monkeypatch.setattr(auditor_cli, "client", lambda gateway, api_key: _sdk(pair))
    options = ["--gateway", "http://firm.test", "--api-key", pair.firm.keys["auditor"]]
    runner = CliRunner()
    for words in ("", "字" * 501):  # usage errors, before anything is sent
        refused = runner.invoke(app, ["auditor", "follow-up", *options, "--message", words, letter_id])
        assert refused.exit_code == 2, refused.output
        refused = runner.invoke(app, ["auditor", "withdraw", *options, "--reason-text", words, letter_id])
        assert refused.exit_code == 2, refused.output
    assert pair.view(pair.firm, letter_id)["pending_steps"][-1]["step"] == "authorise"  # nothing queued
    done = runner.invoke(app, ["auditor", "follow-up", *options, "--message", SECOND, letter_id])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["auditor", "withdraw", *options, "--reason-text", REASON, letter_id])
    assert done.exit_code == 0, done.output
    pair.settle()
    bank_view = pair.view(pair.bank, letter_id)
    assert (bank_view["follow_ups"][0]["message"], bank_view["withdrawal_reason"]) == (SECOND, REASON)
