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
from sqlalchemy import select
from sqlalchemy.orm import Session

from node_gateway.chain.contracts import ChainEvent, LetterStatus
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
        self._timestamps: dict[int, int] = {}

    def run_once(self) -> int:
        """Indexes the next range of blocks; returns how many blocks it read."""
        if not self._sees_everything and not self.node.is_member():
            return 0  # until admitted, nothing on chain concerns us
        latest = rpc(lambda: self.node.w3.eth.block_number)
        with self.node.db.session() as session:
            cursor = session.get(IndexerCursor, CURSOR)
            start = cursor.next_block if cursor is not None else self.node.network.deployment_block
        if start > latest:
            return 0
        end = min(latest, start + MAX_RANGE - 1)
        events = self.node.network.members.get_events(
            start, end
        ) + self.node.network.confirmations.get_events(start, end)
        events.sort(key=lambda event: (event.block_number, event.log_index))
        me = None if self._sees_everything else self.node.member_id()
        with self.node.db.session() as session:
            for event in events:
                if me is None or self._concerns(event, me):
                    self._store(session, event, me)
            if cursor is None:
                session.add(IndexerCursor(name=CURSOR, next_block=end + 1))
            else:
                session.merge(IndexerCursor(name=CURSOR, next_block=end + 1))
        if events:
            self.node.notify()
        return end - start + 1

    @staticmethod
    def _concerns(event: ChainEvent, me: int) -> bool:
        args = event.args
        if "firm" in args or "bank" in args:
            return args.get("firm") == me or args.get("bank") == me
        return True  # membership events

    def _timestamp(self, block_number: int) -> int:
        if block_number not in self._timestamps:
            block = rpc(lambda: self.node.w3.eth.get_block(block_number))
            self._timestamps[block_number] = int(block["timestamp"])
        return self._timestamps[block_number]

    def _store(self, session: Session, event: ChainEvent, me: int | None) -> None:
        exists = session.scalar(
            select(ChainEventRow.id).where(
                ChainEventRow.block_number == event.block_number, ChainEventRow.log_index == event.log_index
            )
        )
        if exists is not None:
            return
        args = {key: _jsonable(value) for key, value in event.args.items()}
        letter_id = args.get("letterId")
        session.add(
            ChainEventRow(
                block_number=event.block_number,
                log_index=event.log_index,
                transaction_hash=hex32(event.transaction_hash),
                block_timestamp=self._timestamp(event.block_number),
                name=event.name,
                letter_id=letter_id,
                firm=args.get("firm"),
                bank=args.get("bank"),
                member_id=args.get("memberId"),
                args=args,
            )
        )
        if letter_id is not None and event.name in STATUS_AFTER:
            self._apply(session, event.name, args, me)

    def _apply(self, session: Session, name: str, args: dict[str, Any], me: int | None) -> None:
        letter_id = args["letterId"]
        row = session.get(LetterRow, letter_id)
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
