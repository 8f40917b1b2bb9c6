"""Crash safety: the bank's gateway is killed with SIGKILL in the middle of receiving letters and
again in the middle of replying; after a restart every letter completes, with no on-chain step
twice and no envelope lost."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter
from typing import Any

import pytest

from node_gateway.protocol.documents import ConfirmationLetter
from node_gateway.protocol.samples import sample_reply

from .flows import (
    chain,
    close_when_replied,
    compose,
    letter_view,
    new_auditee,
    ok,
    request,
    reviewed,
    sign_and_submit,
    wait_in_inbox,
    wait_status,
)
from .harness import Consortium, Gateway, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

LETTERS = 40  # one delivery batch: the bank stores them one by one for a second or two


def _stored(bank: Gateway, ids: set[str]) -> set[str]:
    """The letters the bank has stored so far, read straight from its SQLite file."""
    with sqlite3.connect(f"file:{bank.data_dir / 'gateway.db'}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute("SELECT letter_id FROM letters WHERE letter_sealed IS NOT NULL").fetchall()
    return {row[0] for row in rows} & ids


def _queued_deliveries(firm: Gateway, ids: set[str], state: str | None = None) -> int:
    """The firm's envelopes for these letters in its delivery outbox (in ``state``, if given)."""
    with sqlite3.connect(f"file:{firm.data_dir / 'gateway.db'}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute("SELECT letter_id, state FROM outbox_deliveries WHERE step = 'letter'").fetchall()
    return sum(1 for letter_id, row_state in rows if letter_id in ids and state in (None, row_state))


def _events(consortium: Consortium, letter_ids: set[str]) -> Counter[tuple[str, str]]:
    network = chain(consortium)
    counted: Counter[tuple[str, str]] = Counter()
    for event in network.confirmations.get_events(network.deployment_block):
        letter_id = "0x" + bytes(event.args.get("letterId", b"")).hex()
        if letter_id in letter_ids:
            counted[(letter_id, event.name)] += 1
    return counted


def test_bank_killed_while_receiving_and_while_replying(consortium: Consortium) -> None:
    bank = consortium.bank
    auditee = new_auditee(consortium, 2)
    letters: list[ConfirmationLetter] = [compose(consortium, auditee) for _ in range(LETTERS)]
    created = {row["letter_id"]: row for row in request(consortium, letters, auditee)}
    ids = set(created)

    # Killed while the firm's gateway is delivering the authorised letters to it: the bank is
    # frozen first, so the delivery is surely under way (sent, not answered) when SIGKILL lands.
    assert bank.process is not None
    bank.process.send_signal(signal.SIGSTOP)
    sign_and_submit(consortium, sorted(ids), auditee.signer)
    wait_until(lambda: _queued_deliveries(consortium.firm, ids) == LETTERS, 60, "the deliveries to be queued")
    time.sleep(1.0)  # the firm's delivery worker is now waiting for the frozen bank's answer
    bank.kill()
    assert not _stored(bank, ids)
    assert _queued_deliveries(consortium.firm, ids, state="pending") == LETTERS
    bank.start()
    wait_in_inbox(consortium, sorted(ids), 120)

    # Killed while its outbox is recording the replies on chain.
    with bank.client("officer") as officer, bank.client("reviewer") as reviewer:
        for letter in letters:
            ok(officer.post(f"/v1/letters/{letter.letter_id}/accept"), 202)
            reply = reviewed(
                sample_reply(letter, letter_hash=bytes.fromhex(created[letter.letter_id]["letter_hash"][2:]))
            )
            body: dict[str, Any] = {"reply": reply.model_dump(mode="json", by_alias=True)}
            ok(reviewer.post(f"/v1/letters/{letter.letter_id}/reply", json=body), 202)
    # Killed at once: its outbox and delivery are busy with the replies just stored.
    bank.kill()
    delivered_at_kill = sum(letter_view(consortium.firm, "auditor", x)["reply_verified"] for x in ids)
    assert delivered_at_kill < LETTERS, "every reply was delivered before the kill; the test proves nothing"
    bank.start()

    for letter_id in sorted(ids):
        close_when_replied(consortium, letter_id)
        wait_status(bank, "officer", letter_id, "CLOSED")
        assert letter_view(consortium.firm, "auditor", letter_id)["reply_verified"]
    counted = _events(consortium, ids)
    for letter_id in ids:
        for name in (
            "LetterRequested",
            "LetterAuthorised",
            "LetterAccepted",
            "LetterReplied",
            "LetterClosed",
        ):
            assert counted[(letter_id, name)] == 1, (letter_id, name, counted[(letter_id, name)])
