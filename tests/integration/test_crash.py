"""Crash safety: the bank's gateway is killed with SIGKILL in the middle of receiving letters and
again in the middle of replying; after a restart every letter completes, with no on-chain step
twice and no envelope lost.

Each kill is shown to land mid-way, by what the test sees just before and just after it, not by
a pause that a slow machine would make too short: the firm's delivery sits unread on the frozen
bank's port; the bank's reply transaction is sent and not yet mined (mining is paused).
"""

from __future__ import annotations

import signal
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from web3.types import RPCEndpoint

from node_gateway.protocol.documents import ConfirmationLetter
from node_gateway.protocol.samples import sample_reply

from .flows import (
    chain,
    close_when_replied,
    compose,
    letter_view,
    new_auditee,
    ok,
    prepared,
    request,
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


def _reply_steps(bank: Gateway, ids: set[str]) -> Counter[str]:
    """The bank's reply steps for these letters: ``done``, ``sent`` (a transaction broadcast, its
    hash kept, not yet confirmed) or ``queued``."""
    with sqlite3.connect(f"file:{bank.data_dir / 'gateway.db'}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute(
            "SELECT letter_id, state, transaction_hash FROM outbox_transactions WHERE step = 'reply'"
        ).fetchall()
    return Counter(
        "done" if state == "done" else "sent" if tx_hash else "queued"
        for letter_id, state, tx_hash in rows
        if letter_id in ids
    )


def _accepted(bank: Gateway, ids: set[str]) -> int:
    with sqlite3.connect(f"file:{bank.data_dir / 'gateway.db'}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute(
            "SELECT letter_id FROM outbox_transactions WHERE step = 'accept' AND state = 'done'"
        )
        return sum(1 for (letter_id,) in rows if letter_id in ids)


def _unread_bytes(port: int) -> int:
    """Bytes that reached whoever listens on ``port`` and that it has not read (Linux's socket
    tables): on a frozen gateway's port, requests sent to it and not answered."""
    unread = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "01":  # established
                unread += int(queues.split(":")[1], 16)
    return unread


def _mining(consortium: Consortium, on: bool) -> None:
    provider = chain(consortium).w3.provider
    provider.make_request(RPCEndpoint("evm_setAutomine"), [on])
    if on:
        provider.make_request(RPCEndpoint("evm_mine"), [])  # what was sent meanwhile


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
    created = {row["letter_id"]: row for row in request(consortium, letters)}
    ids = set(created)

    # Killed while the firm's gateway is delivering the authorised letters to it: the bank is
    # frozen first, and killed once the firm's delivery sits unread on its port (sent, not
    # answered); nothing of it is stored after, and the firm still has every delivery to make.
    assert bank.process is not None
    bank.process.send_signal(signal.SIGSTOP)
    sign_and_submit(consortium, sorted(ids), auditee.signer)
    wait_until(lambda: _queued_deliveries(consortium.firm, ids) == LETTERS, 60, "the deliveries to be queued")
    # More than any probe's few hundred bytes: the envelopes of the letters.
    wait_until(lambda: _unread_bytes(bank.port) > 4096, 60, "the firm's delivery to reach the frozen bank")
    assert _queued_deliveries(consortium.firm, ids, state="pending") == LETTERS
    bank.kill()
    assert not _stored(bank, ids)
    assert _queued_deliveries(consortium.firm, ids, state="pending") == LETTERS
    bank.start()
    wait_in_inbox(consortium, sorted(ids), 120)

    # Killed while its outbox is recording the replies on chain: the letters are accepted, then
    # mining is paused and the replies stored, so the bank's reply transaction is sent and not
    # mined when SIGKILL lands, and stays so; it is mined while the bank is down.
    with bank.client("officer") as officer:
        for letter in letters:
            ok(officer.post(f"/v1/letters/{letter.letter_id}/accept"), 202)
    wait_until(lambda: _accepted(bank, ids) == LETTERS, 60, "the acceptances on chain")
    replies = [
        prepared(bank, sample_reply(x, letter_hash=bytes.fromhex(created[x.letter_id]["letter_hash"][2:])))
        for x in letters
    ]
    _mining(consortium, on=False)
    try:
        with bank.client("reviewer") as reviewer:
            for reply in replies:
                body: dict[str, Any] = {"reply": reply.model_dump(mode="json", by_alias=True)}
                ok(reviewer.post(f"/v1/letters/{reply.letter_id}/reply", json=body), 202)
        wait_until(lambda: _reply_steps(bank, ids)["sent"] > 0, 60, "a reply transaction sent")
        assert _reply_steps(bank, ids)["done"] == 0
        bank.kill()
        after = _reply_steps(bank, ids)
        assert after["sent"] > 0
        assert after["done"] == 0
        assert not any(letter_view(consortium.firm, "auditor", x)["reply_verified"] for x in ids)
    finally:
        _mining(consortium, on=True)
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
