"""The signers who authorised a round's letters, read for them all at once (``Letters
.authorising_signers``): for each letter its latest indexed authorisation, named by this bank's
mandate for the reference the event gives, or by the signer's id where the bank mandated no such
signer; a letter with no authorisation indexed yet is left out. The same as asking letter by letter."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import cast

from eth_account import Account

from node_gateway.chain.signers import signer_id, signer_text
from node_gateway.node import Node
from node_gateway.protocol.hashing import to_hex
from node_gateway.services.facade import Letters
from node_gateway.storage.db import Database
from node_gateway.storage.models import ChainEventRow, MandateRow

EARLIER, LATER = datetime(2025, 1, 6, tzinfo=UTC), datetime(2025, 2, 3, tzinfo=UTC)


def _id() -> str:
    return to_hex(secrets.token_bytes(32))


def _authorised(session_events: list[ChainEventRow], letter_id: str, ref: str, signer: str) -> None:
    block = len(session_events) + 1
    session_events.append(
        ChainEventRow(
            block_number=block,
            log_index=0,
            transaction_hash=_id(),
            block_timestamp=1_700_000_000 + block,
            name="LetterAuthorised",
            letter_id=letter_id,
            args={"signerId": to_hex(signer_id(signer)), "auditeeRef": ref},
        )
    )


def test_a_rounds_signers_are_read_together(database: Database) -> None:
    desk = Letters(cast(Node, None))  # reading the gateway's rows asks nothing of the node
    first, second, stranger = (signer_text(Account.create().address) for _ in range(3))
    ref, other_ref = _id(), _id()
    again, unmandated, unauthorised = _id(), _id(), _id()
    events: list[ChainEventRow] = []
    _authorised(events, again, ref, stranger)
    _authorised(events, again, ref, second)  # authorised anew: the latest counts
    _authorised(events, unmandated, other_ref, stranger)
    with database.session() as session:
        session.add_all(
            [
                MandateRow(auditee_ref=ref, signer=second, valid_until=2**40, created_at=LATER),
                MandateRow(auditee_ref=ref, signer=first, valid_until=2**40, created_at=EARLIER),
                MandateRow(auditee_ref=other_ref, signer=first, valid_until=2**40),
                *events,
            ]
        )
    with database.session() as session:
        found = desk.authorising_signers(session, [again, unmandated, unauthorised])
        assert found == {again: second, unmandated: to_hex(signer_id(stranger))}
        assert {lid: desk.authorising_signer(session, lid) for lid in found} == found
        assert desk.authorising_signer(session, unauthorised) is None
        assert [m.signer for m in desk.mandates(session, [ref])] == [first, second]  # the oldest first
        assert {m.auditee_ref for m in desk.mandates(session, [other_ref])} == {other_ref}
