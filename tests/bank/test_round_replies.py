"""A round submits its replies together (``Letters.submit_replies``): each as ``submit_reply``
would, all or none, with one query for the steps. The same replies again are a retry; a different
reply to an answered letter refuses the whole batch, and nothing of it is kept. Its accepts go
together the same way (``Letters.accept_many``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gateway.conftest import gateway_node
from sqlalchemy import select

from bank.conftest import store_received
from node_gateway.chain.contracts import LetterStatus
from node_gateway.errors import Conflict
from node_gateway.node import Node
from node_gateway.protocol.documents import AuditFirm, Bank, ConfirmationReply
from node_gateway.protocol.hashing import from_hex
from node_gateway.protocol.samples import sample_letter, sample_reply
from node_gateway.services import letters
from node_gateway.services.facade import Letters
from node_gateway.storage.models import OutboxTransaction

if TYPE_CHECKING:
    from conftest import Chain, Deployment


@pytest.fixture(scope="module")
def deployed(in_process: Chain) -> Deployment:
    return in_process.deploy()


@pytest.fixture
def node(deployed: Deployment, tmp_path: Path) -> Iterator[Node]:
    node = gateway_node(deployed, deployed.bank, tmp_path)
    yield node
    node.db.dispose()


def _replies(
    node: Node, deployed: Deployment, count: int, status: LetterStatus = LetterStatus.ACCEPTED
) -> list[ConfirmationReply]:
    """Replies to ``count`` letters in ``status`` this bank holds."""
    found = []
    for _ in range(count):
        letter = sample_letter(
            audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
            bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
        )
        letter_hash = store_received(node, letter, status)
        found.append(sample_reply(letter, letter_hash=from_hex(letter_hash)))
    return found


def _state(node: Node) -> tuple[list[str], set[str]]:
    """The steps queued, and the letters with a reply stored."""
    with node.db.session() as session:
        steps = list(session.scalars(select(OutboxTransaction.key).order_by(OutboxTransaction.key)))
        answered = {
            row.letter_id
            for row in letters.letter_rows(session, [key.split(":")[1] for key in steps]).values()
            if row.reply_sealed is not None
        }
    return steps, answered


def test_a_rounds_replies_go_out_together_all_or_none(node: Node, deployed: Deployment) -> None:
    first, second, third = _replies(node, deployed, 3)
    with node.db.session() as session:
        Letters(node).submit_replies(session, [first, second])
    ids = sorted([first.letter_id, second.letter_id])
    assert _state(node) == ([f"reply:{letter_id}" for letter_id in ids], set(ids))
    with node.db.session() as session:  # the same again: a retry, nothing new
        Letters(node).submit_replies(session, [second, first])
    assert _state(node) == ([f"reply:{letter_id}" for letter_id in ids], set(ids))

    changed = first.model_copy(update={"remarks": "另有说明"})
    with pytest.raises(Conflict, match="already has a different reply"), node.db.session() as session:
        Letters(node).submit_replies(session, [third, changed])
    assert _state(node) == ([f"reply:{letter_id}" for letter_id in ids], set(ids))  # third not kept


def test_a_rounds_accepts_go_out_together_all_or_none(node: Node, deployed: Deployment) -> None:
    first, second = (reply.letter_id for reply in _replies(node, deployed, 2, LetterStatus.AUTHORISED))
    (accepted,) = (reply.letter_id for reply in _replies(node, deployed, 1))
    (rejected,) = (reply.letter_id for reply in _replies(node, deployed, 1, LetterStatus.REJECTED))
    with node.db.session() as session:  # an accepted letter is left as it is
        Letters(node).accept_many(session, [first, accepted])
    assert _state(node)[0] == [f"accept:{first}"]
    with node.db.session() as session:  # the same again: a retry, nothing new
        Letters(node).accept_many(session, [first, second, first])
    expected = sorted([f"accept:{first}", f"accept:{second}"])
    assert _state(node)[0] == expected

    (third,) = (reply.letter_id for reply in _replies(node, deployed, 1, LetterStatus.AUTHORISED))
    with pytest.raises(Conflict, match="only an authorised letter"), node.db.session() as session:
        Letters(node).accept_many(session, [third, rejected])
    assert _state(node)[0] == expected  # third not queued
