"""Maker–checker approval, the approval policies and the decision log, on SQLite and PostgreSQL.

The officers who sign off are users of the gateway: ``staff`` adds them (chen prepares, liu reviews).
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bank_adapter.approval import (
    STRAIGHT_THROUGH,
    SYSTEM_DRAFTER,
    Action,
    ApprovalPolicy,
    DraftStatus,
    approve,
    current_draft,
    decision_note,
    decisions,
    open_content,
    return_draft,
    save_draft,
    straight_through_control,
)
from bank_adapter.core_sql import CoreBank
from bank_adapter.drafting import Draft, draft_reply
from bank_adapter.errors import (
    DraftNotPending,
    PreparerDidNotAct,
    PreparerNotOfficer,
    ReviewerNotOfficer,
    SameOfficer,
    SystemSignOff,
)
from bank_adapter.models import DecisionRow, DraftRow
from node_gateway.core.config import MemberRole, parse_currency_limits
from node_gateway.core.security import create_user, revoke_user, set_person
from node_gateway.protocol.documents import ConfirmationLetter, LetterFormat, Officer, OtherMatter
from node_gateway.protocol.hashing import document_hash, new_salt, to_hex
from node_gateway.protocol.samples import PREPARER, REVIEWER, sample_letter
from node_gateway.storage.db import Database
from node_gateway.storage.vault import Vault

CHEN = Officer(officer_id="chen", name="陈晓明", title="对公业务经办")
LIU = Officer(officer_id="liu", name="刘建国", title="运营主管")
# The straight-through control and who answers for it, as the bank's settings name them.
CONTROL = straight_through_control("王立新", "运营管理部总经理")


@pytest.fixture
def vault() -> Vault:
    return Vault(secrets.token_bytes(32))


@pytest.fixture
def staff(database: Database) -> Database:
    """The bank's users who sign off: chen a preparer, liu a reviewer, wu an officer."""
    with database.session() as session:
        create_user(session, MemberRole.BANK, "chen", {"preparer"})
        create_user(session, MemberRole.BANK, "liu", {"reviewer"})
        create_user(session, MemberRole.BANK, "wu", {"officer"})
        session.flush()
        for officer in (CHEN, LIU):
            assert officer.title is not None
            set_person(session, officer.officer_id, officer.name, officer.title)
    return database


@pytest.fixture
def clean(sample_core: CoreBank, letter: ConfirmationLetter) -> Draft:
    return draft_reply(letter, sample_core.snapshot(letter.auditee.registration_code, letter.reference_date))


def _save(
    database: Database, vault: Vault, letter: ConfirmationLetter, draft: Draft, preparer: Officer
) -> int:
    with database.session() as session:
        row = save_draft(
            session,
            vault,
            letter_id=letter.letter_id,
            letter_hash=to_hex(document_hash(letter, new_salt())),
            bank_member_no=letter.bank.member_no,
            content=draft,
            preparer=preparer,
        )
        return row.id


def test_a_reviewer_approves_and_the_reply_names_both(
    staff: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft
) -> None:
    database = staff
    draft_id = _save(database, vault, letter, clean, CHEN)
    with database.session() as session:
        row = session.get_one(DraftRow, draft_id)
        reply = approve(session, vault, row, LIU, replied_on=date(2025, 1, 8))
    assert (reply.preparer, reply.reviewer) == (CHEN, LIU)
    assert reply.items == clean.items
    assert (reply.letter_id, reply.bank_member_no, reply.replied_on) == (
        letter.letter_id,
        letter.bank.member_no,
        date(2025, 1, 8),
    )
    with database.session() as session:
        row = session.get_one(DraftRow, draft_id)
        assert (row.status, row.reviewer_id) == (DraftStatus.APPROVED, "liu")
        assert [(d.action, d.actor_id) for d in decisions(session, letter.letter_id)] == [
            (Action.DRAFTED, "chen"),
            (Action.APPROVED, "liu"),
        ]
        with pytest.raises(DraftNotPending):
            approve(session, vault, row, LIU, replied_on=date(2025, 1, 8))


@pytest.mark.parametrize("reviewer", [CHEN, Officer(officer_id="CHEN", name="陈晓明(复核)")])
def test_the_preparer_never_reviews_their_own_draft(
    database: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft, reviewer: Officer
) -> None:
    draft_id = _save(database, vault, letter, clean, CHEN)
    with database.session() as session:
        row = session.get_one(DraftRow, draft_id)
        with pytest.raises(SameOfficer):
            approve(session, vault, row, reviewer, replied_on=date(2025, 1, 8))
        with pytest.raises(SameOfficer):
            return_draft(session, vault, row, reviewer, note="自己退回")
    with database.session() as session:
        assert session.get_one(DraftRow, draft_id).status == DraftStatus.PENDING_REVIEW


def test_returned_then_redrafted(
    staff: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft
) -> None:
    database = staff
    first = _save(database, vault, letter, clean, SYSTEM_DRAFTER)
    note = "账户 31050161373600001234 余额请再核对"
    with database.session() as session:
        return_draft(session, vault, session.get_one(DraftRow, first), LIU, note=note)
        with pytest.raises(DraftNotPending):
            approve(session, vault, session.get_one(DraftRow, first), LIU, replied_on=date(2025, 1, 8))
    revised = clean.model_copy(update={"remarks": "已复核"})
    second = _save(database, vault, letter, revised, CHEN)
    with database.session() as session:
        live = current_draft(session, letter.letter_id)
        assert live is not None
        assert (live.id, live.version) == (second, 2)
        assert session.get_one(DraftRow, first).status == DraftStatus.SUPERSEDED
        assert open_content(vault, live).remarks == "已复核"
        reply = approve(session, vault, live, LIU, replied_on=date(2025, 1, 9))
        assert (reply.preparer, reply.remarks) == (CHEN, "已复核")
        log = decisions(session, letter.letter_id)
        assert [(d.action, d.actor_id) for d in log] == [
            (Action.DRAFTED, "system:drafter"),
            (Action.RETURNED, "liu"),
            (Action.SUPERSEDED, "chen"),
            (Action.DRAFTED, "chen"),
            (Action.APPROVED, "liu"),
        ]
        assert decision_note(vault, log[1]) == note
        # Notes and drafts may hold the letter's data: they are sealed at rest.
        sealed = session.scalars(select(DecisionRow.note_sealed).where(DecisionRow.id == log[1].id)).one()
        assert sealed is not None
        assert note.encode() not in sealed
        assert b"31050161373600001234" not in session.get_one(DraftRow, second).content_sealed


def test_an_approved_draft_is_not_replaced(
    staff: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft
) -> None:
    draft_id = _save(staff, vault, letter, clean, CHEN)
    with staff.session() as session:
        approve(session, vault, session.get_one(DraftRow, draft_id), LIU, replied_on=date(2025, 1, 8))
    with pytest.raises(DraftNotPending):
        _save(staff, vault, letter, clean, SYSTEM_DRAFTER)


# --- who signs off (security finding 14) ---------------------------------------------------------

ON = date(2025, 1, 8)


def limits(cny: str) -> dict[str, Decimal]:
    """Straight-through limits: ``cny`` for CNY, and room for the sample's USD and EUR amounts."""
    return {"CNY": Decimal(cny), "USD": Decimal("1000000.00"), "EUR": Decimal("1000000.00")}


STRAIGHT = ApprovalPolicy("straight_through", limit=limits("30000000.00"), control=CONTROL)


def test_only_the_straight_through_policy_signs_for_the_system(
    staff: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft
) -> None:
    """The system drafter and the straight-through reviewer sign off together, and only a clean
    draft the straight-through policy lets through; never with a person, never otherwise."""
    system_draft = _save(staff, vault, letter, clean, SYSTEM_DRAFTER)
    with staff.session() as session:
        row = session.get_one(DraftRow, system_draft)
        refused: list[tuple[Officer, ApprovalPolicy, ConfirmationLetter | None]] = [
            (LIU, STRAIGHT, letter),  # a person alone after the system drafter
            (STRAIGHT_THROUGH, ApprovalPolicy("manual"), letter),  # the policy is manual
            (STRAIGHT_THROUGH, STRAIGHT, None),  # the letter, and so its amounts, unknown
            (STRAIGHT_THROUGH, STRAIGHT, sample_letter()),  # another letter
            (
                STRAIGHT_THROUGH,
                ApprovalPolicy("straight_through", limit=limits("1"), control=CONTROL),
                letter,
            ),
            (STRAIGHT_THROUGH, ApprovalPolicy("straight_through"), letter),  # nobody accountable
        ]
        for reviewer, policy, of in refused:
            with pytest.raises(SystemSignOff):
                approve(session, vault, row, reviewer, replied_on=ON, policy=policy, letter=of)
        with pytest.raises(SystemSignOff):  # nobody passes for the system
            approve(
                session, vault, row, Officer(officer_id="system:straight-through", name="x"), replied_on=ON
            )
        assert row.status == DraftStatus.PENDING_REVIEW
        reply = approve(session, vault, row, STRAIGHT_THROUGH, replied_on=ON, policy=STRAIGHT, letter=letter)
        assert (reply.preparer, reply.reviewer) == (SYSTEM_DRAFTER, STRAIGHT_THROUGH)
        assert reply.automated_control == CONTROL

    flagged = clean.model_copy(update={"attention": ("the auditee's name differs",)})
    other = sample_letter()
    with staff.session() as session:
        row = session.get_one(DraftRow, _save(staff, vault, other, flagged, SYSTEM_DRAFTER))
        with pytest.raises(SystemSignOff):  # not clean
            approve(session, vault, row, STRAIGHT_THROUGH, replied_on=ON, policy=STRAIGHT, letter=other)
    third = sample_letter()
    with staff.session() as session:
        row = session.get_one(DraftRow, _save(staff, vault, third, clean, CHEN))
        with pytest.raises(SystemSignOff):  # a person's draft is reviewed by a person
            approve(session, vault, row, STRAIGHT_THROUGH, replied_on=ON, policy=STRAIGHT, letter=third)


def test_the_officers_are_active_users_in_their_roles(
    staff: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft
) -> None:
    cases: list[tuple[Officer, Officer, type[Exception]]] = [
        (Officer(officer_id="zhao", name="赵"), LIU, PreparerNotOfficer),  # no such user
        (Officer(officer_id="wu", name="吴"), LIU, PreparerNotOfficer),  # an officer, not a preparer
        (Officer(officer_id="liu", name="刘"), Officer(officer_id="chen", name="陈"), PreparerNotOfficer),
        (CHEN, Officer(officer_id="zhao", name="赵"), ReviewerNotOfficer),
        (CHEN, Officer(officer_id="wu", name="吴"), ReviewerNotOfficer),
    ]
    for preparer, reviewer, refusal in cases:
        one = sample_letter()
        draft_id = _save(staff, vault, one, clean, preparer)
        with staff.session() as session, pytest.raises(refusal):
            approve(session, vault, session.get_one(DraftRow, draft_id), reviewer, replied_on=ON)
    draft_id = _save(staff, vault, letter, clean, CHEN)
    with staff.session() as session:
        revoke_user(session, "chen")
    with staff.session() as session, pytest.raises(PreparerNotOfficer):
        approve(session, vault, session.get_one(DraftRow, draft_id), LIU, replied_on=ON)


def test_the_preparer_acted_as_the_decision_log_records(
    staff: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft
) -> None:
    draft_id = _save(staff, vault, letter, clean, SYSTEM_DRAFTER)
    with staff.session() as session:
        # A draft whose preparer was changed behind the log's back: chen never drafted it.
        row = session.get_one(DraftRow, draft_id)
        row.preparer_id, row.preparer_name = CHEN.officer_id, CHEN.name
    with staff.session() as session, pytest.raises(PreparerDidNotAct):
        approve(session, vault, session.get_one(DraftRow, draft_id), LIU, replied_on=ON)


def test_a_draft_approved_in_the_transaction_that_wrote_it_names_its_preparer(
    staff: Database, vault: Vault, letter: ConfirmationLetter, clean: Draft
) -> None:
    """The transaction that logged the drafting knows it without reading the log back, for the
    preparer it logged only."""

    def drafted(session: Session, preparer: Officer, one: ConfirmationLetter) -> DraftRow:
        return save_draft(
            session,
            vault,
            letter_id=one.letter_id,
            letter_hash=to_hex(document_hash(one, new_salt())),
            bank_member_no=one.bank.member_no,
            content=clean,
            preparer=preparer,
        )

    with staff.session() as session:
        approve(session, vault, drafted(session, CHEN, letter), LIU, replied_on=ON)
    with staff.session() as session:
        row = drafted(session, SYSTEM_DRAFTER, sample_letter())
        row.preparer_id, row.preparer_name = CHEN.officer_id, CHEN.name  # behind the log's back
        with pytest.raises(PreparerDidNotAct):
            approve(session, vault, row, LIU, replied_on=ON)


def test_the_system_sign_offs_are_two_officers() -> None:
    assert SYSTEM_DRAFTER.officer_id != STRAIGHT_THROUGH.officer_id
    assert {PREPARER.officer_id, REVIEWER.officer_id}.isdisjoint(
        {SYSTEM_DRAFTER.officer_id, STRAIGHT_THROUGH.officer_id}
    )


# --- policies ------------------------------------------------------------------------------------


def test_manual_reviews_everything(letter: ConfirmationLetter, clean: Draft) -> None:
    assert ApprovalPolicy("manual").needs_review(letter, clean, SYSTEM_DRAFTER.officer_id) is not None


def test_straight_through_takes_clean_system_drafts_within_the_limit(
    letter: ConfirmationLetter, clean: Draft
) -> None:
    policy = ApprovalPolicy("straight_through", limit=limits("30000000.00"))
    assert policy.needs_review(letter, clean, SYSTEM_DRAFTER.officer_id) is None
    assert ApprovalPolicy("straight_through").needs_review(letter, clean, SYSTEM_DRAFTER.officer_id) is None


def test_straight_through_leaves_the_rest_to_a_person(
    sample_core: CoreBank, letter: ConfirmationLetter, clean: Draft
) -> None:
    policy = ApprovalPolicy("straight_through", limit=limits("30000000.00"))
    # The sample's largest figure is the 30 million loan.
    assert "limit" in str(
        ApprovalPolicy("straight_through", limit=limits("29999999.99")).needs_review(
            letter, clean, SYSTEM_DRAFTER.officer_id
        )
    )
    assert "officer" in str(policy.needs_review(letter, clean, "chen"))
    other = letter.items.model_dump() | {"other": {"entries": [OtherMatter(description="其他事项")]}}
    asking = letter.model_copy(update={"items": type(letter.items).model_validate(other)})
    drafted = draft_reply(
        asking, sample_core.snapshot(letter.auditee.registration_code, letter.reference_date)
    )
    assert "exception" in str(policy.needs_review(asking, drafted, SYSTEM_DRAFTER.officer_id))
    flagged = clean.model_copy(update={"attention": ("the auditee's name differs",)})
    assert "attention" in str(policy.needs_review(letter, flagged, SYSTEM_DRAFTER.officer_id))


def test_the_limit_counts_what_the_bank_fills_in(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    blank = sample_letter(
        letter_format=LetterFormat.TWO, auditee=letter.auditee, reference_date=letter.reference_date
    )
    draft = draft_reply(blank, sample_core.snapshot(letter.auditee.registration_code, letter.reference_date))
    assert draft.exceptions == 0
    assert draft.items.loans.entries  # the 30 million loan, from the bank
    assert "limit" in str(
        ApprovalPolicy("straight_through", limit=limits("29000000.00")).needs_review(
            blank, draft, "system:drafter"
        )
    )


def test_the_limit_is_per_currency(letter: ConfirmationLetter, clean: Draft) -> None:
    """Amounts are never compared across currencies: the sample's 500,000 USD (FX contract) and
    256,000 USD (deposit) against a USD limit, and a currency without a limit is reviewed."""
    fits = limits("30000000.00")
    assert (
        ApprovalPolicy("straight_through", limit=fits).needs_review(letter, clean, "system:drafter") is None
    )
    usd_low = fits | {"USD": Decimal("499999.99")}
    assert "499999.99 USD" in str(
        ApprovalPolicy("straight_through", limit=usd_low).needs_review(letter, clean, "system:drafter")
    )
    # A CNY limit far above every amount does not let a USD amount through.
    cny_only = {"CNY": Decimal("1000000000.00")}
    reason = ApprovalPolicy("straight_through", limit=cny_only).needs_review(letter, clean, "system:drafter")
    assert reason == "an amount in EUR, which has no straight-through limit"  # the first, by code
    without_usd = {"CNY": Decimal("1000000000.00"), "EUR": Decimal("1000000.00")}
    reason = ApprovalPolicy("straight_through", limit=without_usd).needs_review(
        letter, clean, "system:drafter"
    )
    assert reason == "an amount in USD, which has no straight-through limit"


def test_the_setting_reads_limits_per_currency() -> None:
    assert parse_currency_limits("CNY=30000000, usd=4000000") == {
        "CNY": Decimal(30000000),
        "USD": Decimal(4000000),
    }
    assert parse_currency_limits("50000000.00") == {"CNY": Decimal("50000000.00")}  # a bare number: CNY
    for bad in ("US=1", "CNY=-1", "CNY=lots", "CNY=NaN"):
        with pytest.raises(ValueError, match=r"currency code|amount"):
            parse_currency_limits(bad)
