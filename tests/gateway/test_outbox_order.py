"""The order in which the outbox takes due steps: a letter's steps together, from where its first
stands, so that the bank's round (every letter's accept, then every letter's reply) still sends
each letter's accept and reply in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from node_gateway.services.outbox import TransactionOutbox, enqueue_steps

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
        ("register_mandate", None),
        ("reject", "0x00"),
    ]
