"""The audit firm's own control over its letters, as firms work the platforms today.

- Review (审核): where the firm turns it on (``firm_review_required``), a letter an assistant
  prepares stays PREPARED in this gateway (nothing on chain, nothing sent) until a manager
  approves it; then its request is enqueued as any letter's. The preparer never reviews their
  own letter, a manager's included (三级复核: preparer ≠ reviewer).
- Recall (召回): the preparer or a manager takes back a prepared letter; it never goes out.
- Acceptance (验收): closing a replied letter is the manager's, again not the preparer's.
- Return (退回): a letter the auditee has not authorised within ``authorisation_return_days``
  calendar days of its request goes back to the firm: its gateway withdraws it on chain by itself
  and keeps why (``LetterRow.returned``), in words too (the withdrawal's reason, which stays at
  the firm: the bank never received a letter that was not authorised).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.security import User
from node_gateway.errors import Conflict, Forbidden
from node_gateway.node import Node
from node_gateway.services.letters import PENDING, PREPARED, RECALLED, letter_row, request_step
from node_gateway.services.notices import keep_withdrawal_reason
from node_gateway.services.outbox import enqueue_steps
from node_gateway.storage.models import ChainEventRow, LetterRow, OutboxTransaction

MANAGER: Final = "manager"
NOT_AUTHORISED_IN_TIME: Final = "not_authorised_in_time"
DAY_S: Final = 86400
AUTHORISATION_STEPS: Final = ("authorise", "refuse")  # the auditee's answer, as the outbox records it


def _prepared(node: Node, session: Session, letter_id: str) -> LetterRow:
    row = letter_row(session, letter_id)
    if row.firm != node.member_id():
        raise Forbidden(f"letter {row.letter_id} was not prepared at this firm")
    if row.status != PREPARED:
        raise Conflict(
            f"letter {row.letter_id} is {row.status}; only a prepared letter is reviewed or recalled"
        )
    return row


def may_review(prepared_by: str | None, user: User) -> bool:
    """Whether ``user`` may review (or accept the reply of) a letter ``prepared_by`` someone."""
    return user.has(MANAGER) and prepared_by != user.name


def may_recall(prepared_by: str | None, user: User) -> bool:
    return prepared_by == user.name or user.has(MANAGER)


def _not_the_preparer(row: LetterRow, user: User, what: str) -> None:
    if not user.has(MANAGER):
        raise Forbidden(f"{what} of letter {row.letter_id} is a manager's; user {user.name!r} is none")
    if row.prepared_by == user.name:
        raise Forbidden(f"user {user.name!r} prepared letter {row.letter_id}; another person does the {what}")


def approve(node: Node, session: Session, letter_ids: Sequence[str], reviewer: User) -> list[LetterRow]:
    """A manager's approval (审核通过) of prepared letters: all of them, or none. Their requests
    go on chain as a letter's does where the firm does not review."""
    rows = [_prepared(node, session, letter_id) for letter_id in letter_ids]
    now = int(time.time())
    for row in rows:
        _not_the_preparer(row, reviewer, "review")
        if row.due_at <= now:
            raise Conflict(
                f"letter {row.letter_id}'s reply due time has passed; recall it and prepare it again"
            )
    for row in rows:
        row.status, row.reviewed_by = PENDING, reviewer.name
    enqueue_steps(session, [request_step(row) for row in rows])
    return rows


def recall(node: Node, session: Session, letter_id: str, user: User) -> LetterRow:
    """The preparer or a manager takes back a prepared letter (召回): it never goes out."""
    row = _prepared(node, session, letter_id)
    if not may_recall(row.prepared_by, user):
        raise Forbidden(f"only its preparer or a manager recalls letter {row.letter_id}")
    row.status = RECALLED
    return row


def check_acceptance(node: Node, session: Session, letter_ids: Sequence[str], user: User) -> None:
    """Where the firm reviews its letters, accepting a reply (验收, the close) is a manager's, and
    not the letter's preparer's."""
    if not node.settings.firm_review_required:
        return
    for letter_id in letter_ids:
        _not_the_preparer(letter_row(session, letter_id), user, "acceptance")


def _answer_on_its_way(session: Session, letter_ids: Sequence[str]) -> set[str]:
    """Those of the letters with a submitted authorisation (or refusal) that the chain has not
    refused: its outbox step pending or done, not failed for good."""
    return set(
        session.scalars(
            select(OutboxTransaction.letter_id).where(
                OutboxTransaction.letter_id.in_(letter_ids),
                OutboxTransaction.step.in_(AUTHORISATION_STEPS),
                OutboxTransaction.state != "failed",
            )
        )
    )


def return_unauthorised(node: Node, session: Session, now: int) -> list[str]:
    """Withdraws this firm's letters requested more than ``authorisation_return_days`` calendar
    days before ``now`` that no authorisation (nor refusal) has reached, a submitted one the chain
    refused included; their ids."""
    days = node.settings.authorisation_return_days
    if days == 0:
        return []
    requested_before = now - days * DAY_S
    rows = session.scalars(
        select(LetterRow)
        .join(ChainEventRow, ChainEventRow.letter_id == LetterRow.letter_id)
        .where(
            LetterRow.firm == node.member_id(),
            LetterRow.status == LetterStatus.REQUESTED.name,
            LetterRow.returned.is_(None),
            ChainEventRow.name == "LetterRequested",
            ChainEventRow.block_timestamp <= requested_before,
        )
    ).all()
    # Submitted, an authorisation (or refusal) is on its way to the chain and the letter stays;
    # one the chain refused (a revoked mandate, …) reached nothing, unless another followed it.
    on_its_way = _answer_on_its_way(session, [row.letter_id for row in rows])
    rows = [row for row in rows if row.letter_id not in on_its_way]
    words = f"被审计单位自发函之日起{days}日内未授权，本所系统已自动退回该询证函。"
    for row in rows:
        row.returned = NOT_AUTHORISED_IN_TIME
        keep_withdrawal_reason(node, session, row.letter_id, words, returned=NOT_AUTHORISED_IN_TIME)
    enqueue_steps(
        session,
        [
            (f"withdraw:{row.letter_id}", "withdraw", {"letter_id": row.letter_id}, row.letter_id)
            for row in rows
        ],
    )
    return [row.letter_id for row in rows]
