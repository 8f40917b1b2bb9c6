"""The order in which the outbox takes due steps: the letters with a step that finishes them first,
then a letter's steps together, in the order queued, from where its first stands, so that the
bank's round (every letter's accept, then every letter's reply) still sends each letter's accept
and reply in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from node_gateway.services.outbox import BATCH_LIMIT, TransactionOutbox, enqueue_steps

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain


def test_a_letters_due_steps_are_taken_together(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.bank, tmp_path)
    letters = ["0x" + f"{n:064x}" for n in (1, 2, 3)]
    accepts = [(f"accept:{lid}", "accept", {"letter_id": lid}, lid) for lid in letters]
    replies = [
        (f"reply:{lid}", "reply", {"letter_id": lid, "reply_hash": "0x" + "ab" * 32}, lid) for lid in letters
    ]
    mandate: tuple[str, str, dict[str, object], None] = ("register_mandate:x", "register_mandate", {}, None)
    with node.db.session() as session:
        enqueue_steps(session, [*accepts, mandate, *replies[:2]])
        enqueue_steps(session, [("reject:late", "reject", {"letter_id": "0x00"}, "0x00"), replies[2]])
    due = [(step, payload.get("letter_id")) for _, step, payload, _, _ in TransactionOutbox(node)._due()]
    assert due == [
        ("accept", letters[0]),
        ("reply", letters[0]),
        ("accept", letters[1]),
        ("reply", letters[1]),
        ("accept", letters[2]),
        ("reply", letters[2]),
        ("reject", "0x00"),  # an answer too: before the mandate queued ahead of it
        ("register_mandate", None),
    ]


def test_steps_that_finish_letters_go_before_those_that_start_new_ones(
    in_process: Chain, tmp_path: Path
) -> None:
    """A saturated firm closes the letters it has replies for before it requests more: a close
    queued behind a full batch of requests is in the next transaction, not after them all."""
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.firm, tmp_path)
    new = ["0x" + f"{n:064x}" for n in range(1, BATCH_LIMIT + 2)]
    requests = [
        (f"request:{lid}", "request", {"letter_id": lid, "bank": 2, "letter_hash": lid, "due_at": 1}, lid)
        for lid in new
    ]
    answered = "0x" + "ee" * 32
    with node.db.session() as session:
        enqueue_steps(session, requests)
        enqueue_steps(session, [(f"close:{answered}", "close", {"letter_id": answered}, answered)])
    due = [(step, payload["letter_id"]) for _, step, payload, _, _ in TransactionOutbox(node)._due()]
    assert len(due) == BATCH_LIMIT
    assert due[0] == ("close", answered)
    assert due[1:] == [("request", lid) for lid in new[: BATCH_LIMIT - 1]]  # the rest in their order


def test_a_letter_under_way_keeps_its_steps_in_the_order_queued(in_process: Chain, tmp_path: Path) -> None:
    """A follow-up queued before the letter's withdrawal goes before it, though the withdrawal
    finishes the letter: sent after it, the follow-up would find the letter withdrawn."""
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.firm, tmp_path)
    starting, withdrawn = "0x" + "01" * 32, "0x" + "02" * 32
    with node.db.session() as session:
        enqueue_steps(session, [(f"request:{starting}", "request", {"letter_id": starting}, starting)])
        enqueue_steps(session, [(f"follow_up:{withdrawn}", "follow_up", {"letter_id": withdrawn}, withdrawn)])
        enqueue_steps(session, [(f"withdraw:{withdrawn}", "withdraw", {"letter_id": withdrawn}, withdrawn)])
    due = [(step, payload["letter_id"]) for _, step, payload, _, _ in TransactionOutbox(node)._due()]
    assert due == [("follow_up", withdrawn), ("withdraw", withdrawn), ("request", starting)]
