"""The bank's statutory deadline (财会〔2020〕12号) on the audit firm's pages, on a firm's gateway
over the in-process chain: the letters' steps are sent on chain at chosen block times (the chain's
clock moved forward to them) and indexed; the pages' clock is set to a chosen moment.

From A (10:00 in Beijing, a Monday at least a week ahead): one letter authorised at A and accepted
three days later (its 10 working days count from the acceptance), one authorised at A and left
undecided (they count from the authorisation), one replied the next day, one rejected a week later
(its notice due 3 working days after A). Later, one accepted in a year without an official calendar
(its deadline provisional). The expected due days are counted here day by day over the official
calendar's working days, not by the function the pages call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
from conftest import DAY, LetterRef
from gateway.api_apps import Gateway, gateway

from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.protocol.calendar import CALENDAR
from node_gateway.protocol.documents import CHINA_TIME, AuditFirm, Bank, ConfirmationLetter
from node_gateway.protocol.envelopes import DEFAULT_SUITE, EncryptionKeyPair, encode_public_keys
from node_gateway.protocol.hashing import canonical_bytes, document_hash, new_salt, to_hex
from node_gateway.protocol.samples import sample_letter, sample_reply
from node_gateway.services.indexer import Indexer
from node_gateway.storage.models import LetterRow
from node_gateway.storage.vault import StoredDocument
from node_gateway.web import firm as firm_pages
from web.test_bank_pages import PASSWORD, sign_in

if TYPE_CHECKING:
    from conftest import Chain, Deployment

USERS = {"wang": {"auditor"}}


def _ten_am(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 10, tzinfo=CHINA_TIME).timestamp())


def _day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, CHINA_TIME).date()


def working_days_after(start: date, days: int) -> date:
    """The ``days``-th working day after ``start``, counted one day at a time."""
    day = start
    while days:
        day += timedelta(days=1)
        days -= CALENDAR.is_working_day(day)
    return day


def working_days_from(start: date, end: date) -> int:
    return sum(CALENDAR.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))


@dataclass
class Deadlines:
    gateway: Gateway
    a: date  # the day of the authorisations
    accepted: ConfirmationLetter  # accepted at A + 3 days, awaiting the reply
    undecided: ConfirmationLetter  # authorised at A, neither accepted nor rejected
    replied: ConfirmationLetter  # accepted at A, replied at A + 1 day
    rejected: ConfirmationLetter  # rejected at A + 7 days
    provisional: ConfirmationLetter  # accepted in a year whose calendar is not known
    provisional_day: date


class _Sender:
    """Sends each letter's steps at chosen block times."""

    def __init__(self, deployed: Deployment, gw: Gateway) -> None:
        self.deployed, self.gw = deployed, gw

    def at(self, moment: int) -> None:
        """The chain's clock moved so that the next block falls on ``moment``'s Beijing day."""
        self.deployed.advance(moment - self.deployed.now())

    def request(self, letter: ConfirmationLetter, status: LetterStatus) -> LetterRef:
        deployed, node, salt = self.deployed, self.gw.node, new_salt()
        letter_hash = document_hash(letter, salt)
        due_at = deployed.now() + 60 * DAY
        with node.db.session() as session:
            session.add(
                LetterRow(
                    letter_id=letter.letter_id,
                    firm=deployed.firm.member_id,
                    bank=deployed.bank.member_id,
                    auditee_ref=to_hex(deployed.auditee_ref),
                    letter_hash=to_hex(letter_hash),
                    due_at=due_at,
                    status=status.name,
                    letter_sealed=node.vault.seal(
                        letter.letter_id, "letter", StoredDocument(canonical_bytes(letter), salt)
                    ),
                )
            )
        ref = LetterRef(
            bytes.fromhex(letter.letter_id[2:]),
            deployed.firm.member_id,
            deployed.bank.member_id,
            deployed.auditee_ref,
            letter_hash,
            due_at,
        )
        deployed.send(deployed.firm, deployed.request_call(ref))
        return ref

    def authorise(self, ref: LetterRef) -> None:
        self.deployed.send(self.deployed.firm, self.deployed.authorise_call(ref))

    def accept(self, ref: LetterRef) -> None:
        self.deployed.send(self.deployed.bank, self.deployed.confirmations.accept(ref.letter_id))

    def reject(self, ref: LetterRef) -> None:
        self.deployed.send(self.deployed.bank, self.deployed.confirmations.reject(ref.letter_id, 1))

    def reply(self, ref: LetterRef, letter: ConfirmationLetter) -> None:
        reply = sample_reply(letter, letter_hash=ref.letter_hash)
        self.deployed.send(
            self.deployed.bank,
            self.deployed.confirmations.reply(ref.letter_id, document_hash(reply, new_salt())),
        )


@pytest.fixture(scope="module")
def deadlines(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deadlines]:
    deployed = in_process.deploy()
    # The clock is put back for the session's other modules (after the deployment, which funds
    # the session's senders once).
    before = in_process.snapshot()
    # The bank publishes a key, so that an authorised letter can be sealed to it (not delivered).
    bank_key = encode_public_keys([EncryptionKeyPair.generate(DEFAULT_SUITE).public_key])
    deployed.send(deployed.bank, deployed.members.update_endpoint("http://127.0.0.1:9", bank_key))
    built = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("firm-deadlines"))
    firm = AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所")
    bank = Bank(member_no=deployed.bank.member_id, name="东海银行")
    accepted, undecided, replied, rejected, provisional = (
        sample_letter(audit_firm=firm, bank=bank) for _ in range(5)
    )
    send = _Sender(deployed, built)
    start = _day(deployed.now()) + timedelta(days=7)
    a = start + timedelta(days=-start.weekday() % 7)  # a Monday
    refs = {
        x.letter_id: send.request(x, LetterStatus.REQUESTED) for x in (accepted, undecided, replied, rejected)
    }
    send.at(_ten_am(a))
    for ref in refs.values():
        send.authorise(ref)
    send.accept(refs[replied.letter_id])
    send.at(_ten_am(a + timedelta(days=1)))
    send.reply(refs[replied.letter_id], replied)
    send.at(_ten_am(a + timedelta(days=3)))
    send.accept(refs[accepted.letter_id])
    send.at(_ten_am(a + timedelta(days=7)))
    send.reject(refs[rejected.letter_id])

    later = a + timedelta(days=60)
    unknown = next(year for year in range(later.year, later.year + 50) if not CALENDAR.knows(year))
    provisional_day = max(later, date(unknown, 3, 2))
    ref = send.request(provisional, LetterStatus.REQUESTED)
    send.at(_ten_am(provisional_day))
    send.authorise(ref)
    send.accept(ref)

    indexer = Indexer(built.node)
    while indexer.run_once():
        pass
    with built.node.db.session() as session:
        for name, roles in USERS.items():
            create_user(session, MemberRole.AUDIT_FIRM, name, roles, password=PASSWORD)
            set_password(session, name, PASSWORD, one_time=False)
    yield Deadlines(built, a, accepted, undecided, replied, rejected, provisional, provisional_day)
    built.node.db.dispose()
    in_process.revert(before)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The moment the pages judge deadlines at (the firm's pages read ``time.time()``)."""
    moment = [int(time.time())]
    monkeypatch.setattr(firm_pages, "time", SimpleNamespace(time=lambda: moment[0]))
    return moment


def _statutory(page: str) -> str:
    start = page.index('data-testid="statutory"')
    return page[start : page.index("</dd>", start)]


def test_an_accepted_letter_counts_ten_working_days_from_its_acceptance(
    deadlines: Deadlines, clock: list[int]
) -> None:
    accepted_on = deadlines.a + timedelta(days=3)
    due = working_days_after(accepted_on, 10)
    clock[0] = _ten_am(accepted_on + timedelta(days=1))
    http = sign_in(deadlines.gateway, "wang")
    page = http.get(f"/web/firm/letters/{deadlines.accepted.letter_id}").text
    shown = _statutory(page)
    assert "法定回函期限" in page
    assert due.isoformat() in shown
    left = working_days_from(accepted_on + timedelta(days=1), due)
    assert f"剩 {left} 个工作日" in shown
    assert ("(暂定)" in shown) == (not all(CALENDAR.knows(y) for y in {accepted_on.year, due.year}))
    accepted_step = page[page.index('data-testid="step-LetterAccepted"') :]
    assert accepted_step.startswith(f'data-testid="step-LetterAccepted"><td>{accepted_on.isoformat()} 10:00<')


def test_an_undecided_letter_counts_from_its_authorisation_and_is_marked_once_past(
    deadlines: Deadlines, clock: list[int]
) -> None:
    due = working_days_after(deadlines.a, 10)
    after = due + timedelta(days=2)
    clock[0] = _ten_am(after)
    http = sign_in(deadlines.gateway, "wang")
    undecided = deadlines.undecided.letter_id
    page = http.get(f"/web/firm/letters/{undecided}").text
    shown = _statutory(page)
    assert due.isoformat() in shown
    assert f"已超过法定期限 {working_days_from(due, after)} 个工作日" in shown

    board = http.get("/web/firm/letters").text
    # Past the bank's deadline: the undecided letter; the accepted one counts from a later day.
    accepted_due = working_days_after(deadlines.a + timedelta(days=3), 10)
    late = {undecided} | ({deadlines.accepted.letter_id} if after > accepted_due else set())
    assert f'data-testid="count-bank-late">{len(late)}<' in board
    cell = board[board.index(f'data-testid="bank-late-{undecided}"') :]
    assert cell.startswith(f'data-testid="bank-late-{undecided}"><span class="badge overdue-mark">⚠ 超 ')
    assert 'data-testid="count-overdue">0<' in board  # the firm's own due time has not passed
    filtered = http.get("/web/firm/letters?f_bank_late=yes&export=csv").content.decode("utf-8-sig")
    assert "银行超法定期限" in filtered.splitlines()[0]
    assert len(filtered.splitlines()) == 1 + len(late)
    assert f'data-testid="bank-late-{deadlines.replied.letter_id}"></td>' in board  # answered


def test_a_replied_and_a_rejected_letter_say_whether_the_bank_answered_in_time(
    deadlines: Deadlines, clock: list[int]
) -> None:
    clock[0] = _ten_am(deadlines.a + timedelta(days=30))
    http = sign_in(deadlines.gateway, "wang")
    replied = _statutory(http.get(f"/web/firm/letters/{deadlines.replied.letter_id}").text)
    assert working_days_after(deadlines.a, 10).isoformat() in replied
    assert "银行已在法定期限内回函" in replied

    page = http.get(f"/web/firm/letters/{deadlines.rejected.letter_id}").text
    notice_due = working_days_after(deadlines.a, 3)
    rejected_on = deadlines.a + timedelta(days=7)
    shown = _statutory(page)
    assert "法定不符通知期限" in page
    assert notice_due.isoformat() in shown
    if rejected_on > notice_due:
        assert f"银行不符通知超过法定期限 {working_days_from(notice_due, rejected_on)} 个工作日" in shown
    else:  # holidays made the three working days reach past the rejection
        assert "银行已在法定期限内发出不符通知" in shown


def test_a_deadline_in_a_year_without_an_official_calendar_is_provisional(
    deadlines: Deadlines, clock: list[int]
) -> None:
    day = deadlines.provisional_day
    clock[0] = _ten_am(day)
    http = sign_in(deadlines.gateway, "wang")
    page = http.get(f"/web/firm/letters/{deadlines.provisional.letter_id}").text
    shown = _statutory(page)
    assert working_days_after(day, 10).isoformat() in shown  # weekdays stand in for working days
    assert 'data-testid="statutory-provisional">(暂定)<' in shown
    assert "剩 10 个工作日" in shown
