"""The event indexer: follows the chain from the deployment block and keeps what concerns us.

Each round reads a range of blocks, stores its events and moves the cursor in one database
transaction, so a crash repeats a round at worst (the events' unique position makes that a
no-op). Firms and banks keep the events of their own letters and of membership; the operator and
regulators keep everything. Reading an event may call for a next step: a firm delivers an
authorised letter to its bank, a bank delivers its recorded reply to the firm.
"""

from __future__ import annotations

import logging
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from web3 import HTTPProvider
from web3.types import RPCEndpoint

from node_gateway.chain.contracts import ChainEvent, LetterStatus, read_events
from node_gateway.chain.errors import NodeRejected
from node_gateway.chain.transactions import rpc
from node_gateway.core.config import MemberRole
from node_gateway.node import Node
from node_gateway.services.delivery import enqueue_delivery
from node_gateway.storage.models import ChainEventRow, IndexerCursor, LetterRow

log = logging.getLogger(__name__)

CURSOR = "events"
MAX_RANGE = 2000

STATUS_AFTER: dict[str, LetterStatus] = {
    "LetterRequested": LetterStatus.REQUESTED,
    "LetterAuthorised": LetterStatus.AUTHORISED,
    "AuthorisationRefused": LetterStatus.REFUSED,
    "LetterAccepted": LetterStatus.ACCEPTED,
    "LetterRejected": LetterStatus.REJECTED,
    "LetterReplied": LetterStatus.REPLIED,
    "LetterClosed": LetterStatus.CLOSED,
    "LetterWithdrawn": LetterStatus.WITHDRAWN,
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | HexBytes):
        return "0x" + bytes(value).hex()
    return value


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


class Indexer:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._sees_everything = node.role in (MemberRole.OPERATOR, MemberRole.REGULATOR)
        self._timestamps_cache: dict[int, int] = {}

    def run_once(self) -> int:
        """Indexes the next range of blocks; returns how many blocks it read."""
        if not self._sees_everything and not self.node.is_member():
            return 0  # until admitted, nothing on chain concerns us
        latest = self._latest()
        with self.node.db.session() as session:
            cursor = session.get(IndexerCursor, CURSOR)
            start = cursor.next_block if cursor is not None else self.node.network.deployment_block
        if start > latest:
            return 0
        end = min(latest, start + MAX_RANGE - 1)
        network = self.node.network
        # Both contracts' logs in one request; decoded here, without web3's per-log machinery.
        events = read_events(self.node.w3, [network.members, network.confirmations], start, end)
        me = None if self._sees_everything else self.node.member_id()
        mine = [event for event in events if me is None or self._concerns(event, me)]
        timestamps = self._timestamps(mine)
        with self.node.db.session() as session:
            # What this range already stored (a round repeated after a crash) and the letters it
            # touches, each read with one query instead of one per event.
            stored = {
                (block, index)
                for block, index in session.execute(
                    select(ChainEventRow.block_number, ChainEventRow.log_index).where(
                        ChainEventRow.block_number.between(start, end)
                    )
                )
            }
            letters = self._letters(session, mine)
            for event in mine:
                if (event.block_number, event.log_index) not in stored:
                    self._store(session, event, timestamps[event.block_number], letters, me)
            if cursor is None:
                session.add(IndexerCursor(name=CURSOR, next_block=end + 1))
            else:
                session.execute(
                    update(IndexerCursor).where(IndexerCursor.name == CURSOR).values(next_block=end + 1)
                )
        if events:
            self.node.notify()
        return end - start + 1

    def _latest(self) -> int:
        """The chain's head; from a JSON-RPC node without web3's middleware (asked every round)."""
        provider = self.node.w3.provider
        if not isinstance(provider, HTTPProvider):
            return rpc(lambda: self.node.w3.eth.block_number)
        response = rpc(lambda: provider.make_request(RPCEndpoint("eth_blockNumber"), []))
        if "error" in response:
            raise NodeRejected(f"eth_blockNumber: {response['error']}")
        return int(response["result"], 16)

    @staticmethod
    def _concerns(event: ChainEvent, me: int) -> bool:
        args = event.args
        if "firm" in args or "bank" in args:
            return args.get("firm") == me or args.get("bank") == me
        return True  # membership events

    def _timestamps(self, events: list[ChainEvent]) -> dict[int, int]:
        """The timestamp of each block with events: from the logs when the node includes it there,
        else read (in one batch where the provider can)."""
        found: dict[int, int] = {}
        for event in events:
            if event.block_timestamp is not None:
                found[event.block_number] = event.block_timestamp
        missing = sorted({e.block_number for e in events} - found.keys() - self._timestamps_cache.keys())
        if missing:
            w3 = self.node.w3
            if isinstance(w3.provider, HTTPProvider):

                def batch() -> list[Any]:
                    with w3.batch_requests() as requests:
                        for number in missing:
                            requests.add(w3.eth.get_block(number))
                        return list(requests.execute())

                blocks = rpc(batch)
            else:
                blocks = [self._block(number) for number in missing]
            for number, block in zip(missing, blocks, strict=True):
                self._timestamps_cache[number] = int(block["timestamp"])
        for event in events:
            if event.block_number not in found:
                found[event.block_number] = self._timestamps_cache[event.block_number]
        if len(self._timestamps_cache) > 10_000:
            self._timestamps_cache.clear()
        return found

    def _block(self, number: int) -> Any:
        return rpc(lambda: self.node.w3.eth.get_block(number))

    @staticmethod
    def _letters(session: Session, events: list[ChainEvent]) -> dict[str, LetterRow]:
        ids = sorted({_jsonable(e.args["letterId"]) for e in events if "letterId" in e.args})
        found: dict[str, LetterRow] = {}
        for chunk in range(0, len(ids), 500):
            rows = session.scalars(select(LetterRow).where(LetterRow.letter_id.in_(ids[chunk : chunk + 500])))
            found.update({row.letter_id: row for row in rows})
        return found

    def _store(
        self,
        session: Session,
        event: ChainEvent,
        timestamp: int,
        letters: dict[str, LetterRow],
        me: int | None,
    ) -> None:
        args = {key: _jsonable(value) for key, value in event.args.items()}
        letter_id = args.get("letterId")
        session.add(
            ChainEventRow(
                block_number=event.block_number,
                log_index=event.log_index,
                transaction_hash=hex32(event.transaction_hash),
                block_timestamp=timestamp,
                name=event.name,
                letter_id=letter_id,
                firm=args.get("firm"),
                bank=args.get("bank"),
                member_id=args.get("memberId"),
                args=args,
            )
        )
        if letter_id is not None and event.name in STATUS_AFTER:
            self._apply(session, event.name, args, letters, me)

    def _apply(
        self, session: Session, name: str, args: dict[str, Any], letters: dict[str, LetterRow], me: int | None
    ) -> None:
        letter_id = args["letterId"]
        row = letters.get(letter_id)
        if row is None:
            if name != "LetterRequested":
                return  # a letter from before this member's time; nothing to act on
            row = LetterRow(
                letter_id=letter_id,
                firm=args["firm"],
                bank=args["bank"],
                auditee_ref=args["auditeeRef"],
                letter_hash=args["letterHash"],
                due_at=args["dueAt"],
                status=LetterStatus.REQUESTED.name,
            )
            session.add(row)
            letters[letter_id] = row
        row.status = STATUS_AFTER[name].name
        if name == "LetterReplied":
            row.reply_hash = args["replyHash"]
        if name in ("LetterRejected", "AuthorisationRefused"):
            row.reason = args["reason"]
        if me is None:
            return
        if name == "LetterAuthorised" and row.firm == me and row.letter_sealed is not None:
            enqueue_delivery(
                session,
                self.node,
                letter_id=letter_id,
                step="letter",
                recipient=row.bank,
                sealed=row.letter_sealed,
            )
        elif name == "LetterReplied" and row.bank == me and row.reply_sealed is not None:
            enqueue_delivery(
                session,
                self.node,
                letter_id=letter_id,
                step="reply",
                recipient=row.firm,
                sealed=row.reply_sealed,
            )
