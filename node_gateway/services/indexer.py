"""The event indexer: follows the chain from the deployment block and keeps what concerns us.

Each round reads a range of blocks, stores its events and moves the cursor in one database
transaction, so a crash repeats a round at worst (the events' unique position makes that a
no-op). Firms and banks keep the events of their own letters and of membership; the operator and
regulators keep everything. Reading an event may call for a next step: a firm delivers an
authorised letter to its bank, a bank delivers its recorded reply to the firm; a firm sends its
words with a follow-up or a withdrawal to a bank that holds the letter (``services.notices``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast

from hexbytes import HexBytes
from sqlalchemy import Table, bindparam, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from node_gateway.chain.contracts import ChainEvent, LetterStatus, read_events
from node_gateway.chain.errors import NodeRejected
from node_gateway.chain.transactions import wire_batch, wire_rpc
from node_gateway.core.config import MemberRole
from node_gateway.node import Node
from node_gateway.protocol.documents import ChainReference
from node_gateway.protocol.hashing import to_hex
from node_gateway.protocol.lifecycle import STATUS_AFTER
from node_gateway.services.delivery import Delivery, enqueue_deliveries
from node_gateway.services.heads import HeadListener
from node_gateway.services.letters import PENDING
from node_gateway.services.notices import (
    FOLLOW_UP,
    WITHDRAWAL,
    FirmWordsKind,
    firm_words_recorded,
    follow_up_asked_as,
)
from node_gateway.storage.db import in_batches
from node_gateway.storage.models import ChainEventRow, IndexerCursor, LetterRow, NoticeRow

log = logging.getLogger(__name__)

CURSOR = "events"
MAX_RANGE = 2000
# The tables the indexer writes with Core statements, many rows in each, without the ORM's objects.
_EVENTS = cast(Table, ChainEventRow.__table__)
_LETTERS = cast(Table, LetterRow.__table__)


def _jsonable(value: Any) -> Any:
    return to_hex(value) if isinstance(value, bytes | HexBytes) else value


def _event_row(event: ChainEvent, timestamp: int) -> dict[str, Any]:
    """The columns of the ``ChainEventRow`` an event is stored as."""
    args = {key: _jsonable(value) for key, value in event.args.items()}
    return {
        "block_number": event.block_number,
        "log_index": event.log_index,
        "transaction_hash": to_hex(event.transaction_hash),
        "block_timestamp": timestamp,
        "name": event.name,
        "letter_id": args.get("letterId"),
        "firm": args.get("firm"),
        "bank": args.get("bank"),
        "member_id": args.get("memberId"),
        "args": args,
    }


@dataclass
class _Letter:
    """A letter a round's events touch: its columns as the round read them (or, ``new``, as its
    request on chain gives them), and what the round's events changed, written once at its end."""

    firm: int
    bank: int
    status: str
    letter_sealed: bytes | None = None
    reply_sealed: bytes | None = None
    new: bool = False
    changes: dict[str, Any] = field(default_factory=dict)

    def set(self, **columns: Any) -> None:
        self.changes.update(columns)
        if "status" in columns:
            self.status = columns["status"]


def _read_letters(session: Session, letter_ids: list[str]) -> dict[str, _Letter]:
    """Those of these letters held here, with one query per IN list and no ORM objects."""
    found: dict[str, _Letter] = {}
    columns = (
        _LETTERS.c.letter_id,
        _LETTERS.c.firm,
        _LETTERS.c.bank,
        _LETTERS.c.status,
        _LETTERS.c.letter_sealed,
        _LETTERS.c.reply_sealed,
    )
    for batch in in_batches(sorted({letter_id.lower() for letter_id in letter_ids})):
        for letter_id, firm, bank, status, letter_sealed, reply_sealed in session.execute(
            select(*columns).where(_LETTERS.c.letter_id.in_(batch))
        ):
            found[letter_id] = _Letter(firm, bank, status, letter_sealed, reply_sealed)
    return found


def _write_letters(session: Session, letters: dict[str, _Letter]) -> None:
    """The round's new letters inserted and its changed ones updated: one statement of many rows
    for each set of columns, instead of a flush of the ORM's rows one by one."""
    inserts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for letter_id, letter in letters.items():
        if letter.new:
            row = {"letter_id": letter_id, "firm": letter.firm, "bank": letter.bank, **letter.changes}
            inserts.setdefault(tuple(sorted(row)), []).append(row)
        elif letter.changes:
            updates.setdefault(tuple(sorted(letter.changes)), []).append(
                {"key_letter_id": letter_id, **letter.changes}
            )
    for rows in inserts.values():
        session.execute(insert(_LETTERS), rows)
    for names, rows in updates.items():
        statement = (
            update(_LETTERS)
            .where(_LETTERS.c.letter_id == bindparam("key_letter_id"))
            .values({name: bindparam(name) for name in names})
        )
        session.execute(statement, rows)


@dataclass
class _Round:
    """What a round's events act on: its transaction, the letters they touch, this member (None:
    the operator or a regulator), and the deliveries they call for, queued together."""

    session: Session
    letters: dict[str, _Letter]
    me: int | None
    deliveries: list[Delivery] = field(default_factory=list)


class Indexer:
    """``heads``: where the node announces new blocks, if it does (``services.heads``); then the
    indexer knows the head without asking, whenever work in this process wakes it."""

    def __init__(self, node: Node, heads: HeadListener | None = None) -> None:
        self.node = node
        self._heads = heads
        self._sees_everything = node.role in (MemberRole.OPERATOR, MemberRole.REGULATOR)
        self._timestamps_cache: dict[int, int] = {}
        self._indexed_to = -1  # the last block this process indexed (the cursor is the record)

    def run_once(self) -> int:
        """Indexes the next range of blocks; returns how many blocks it read."""
        if not self._sees_everything and not self.node.is_member():
            return 0  # until admitted, nothing on chain concerns us
        latest = self._latest()
        if latest <= self._indexed_to:
            return 0
        with self.node.db.session() as session:
            cursor = session.get(IndexerCursor, CURSOR)
            start = cursor.next_block if cursor is not None else self.node.network.deployment_block
        if start > latest:
            self._indexed_to = start - 1
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
            letters = _read_letters(
                session, [_jsonable(e.args["letterId"]) for e in mine if "letterId" in e.args]
            )
            new = [event for event in mine if (event.block_number, event.log_index) not in stored]
            rows = [_event_row(event, timestamps[event.block_number]) for event in new]
            if rows:  # in one statement, not flushed one by one
                session.execute(insert(_EVENTS), rows)
            round_ = _Round(session, letters, me)
            for event, row in zip(new, rows, strict=True):
                self._follow(round_, event, row)
            _write_letters(session, letters)
            enqueue_deliveries(session, self.node, round_.deliveries)
            if cursor is None:
                session.add(IndexerCursor(name=CURSOR, next_block=end + 1))
            else:
                session.execute(
                    update(IndexerCursor).where(IndexerCursor.name == CURSOR).values(next_block=end + 1)
                )
        self._indexed_to = end
        if events:
            self.node.notify()
        return end - start + 1

    def _latest(self) -> int:
        """The chain's head: the last one the node announced lately, else asked (without web3's
        middleware)."""
        announced = (
            None if self._heads is None else self._heads.announced(self.node.settings.queue_fallback_s)
        )
        if announced is not None:
            return announced
        return int(wire_rpc(self.node.w3, "eth_blockNumber", []), 16)

    @staticmethod
    def _concerns(event: ChainEvent, me: int) -> bool:
        args = event.args
        if "firm" in args or "bank" in args:
            return args.get("firm") == me or args.get("bank") == me
        return True  # membership events

    def _timestamps(self, events: list[ChainEvent]) -> dict[int, int]:
        """The timestamp of each block with events: from the logs when the node includes it there,
        else read, in one batch."""
        known = self._timestamps_cache
        if len(known) > 10_000:
            known.clear()
        known.update({e.block_number: e.block_timestamp for e in events if e.block_timestamp is not None})
        missing = sorted({e.block_number for e in events} - known.keys())
        if missing:
            known.update(zip(missing, self._read_timestamps(missing), strict=True))
        return {e.block_number: known[e.block_number] for e in events}

    def _read_timestamps(self, numbers: list[int]) -> list[int]:
        blocks = wire_batch(self.node.w3, [("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        for number, block in zip(numbers, blocks, strict=True):
            if not isinstance(block, dict):  # refused (NodeRejected), or no such block (None)
                raise block if isinstance(block, Exception) else NodeRejected(f"no block {number}")
        return [int(block["timestamp"], 16) for block in blocks]

    def _follow(self, round_: _Round, event: ChainEvent, stored: dict[str, Any]) -> None:
        """What a stored event (its row's columns) changes: the letter's status, and the next
        steps it calls for."""
        args, letter_id = stored["args"], stored["letter_id"]
        if letter_id is None:
            return
        session, me = round_.session, round_.me
        row = round_.letters.get(letter_id)
        # Whether the firm delivered the letter to its bank (the letter was authorised), before
        # this event changes the status.
        bank_holds = row is not None and row.status not in (LetterStatus.REQUESTED.name, PENDING)
        if event.name in STATUS_AFTER:
            self._apply(round_, event.name, args)
        if me is None or row is None or row.firm != me:
            return
        if event.name in ("LetterFollowedUp", "LetterWithdrawn"):
            # The firm's words go after the letter they are about: the deliveries so far first.
            enqueue_deliveries(session, self.node, round_.deliveries)
            round_.deliveries.clear()
        if event.name == "LetterFollowedUp":
            self._firm_words(session, letter_id, row.bank, FOLLOW_UP, ChainEventRow(**stored), bank_holds)
        elif event.name == "LetterWithdrawn":
            self._firm_words(session, letter_id, row.bank, WITHDRAWAL, ChainEventRow(**stored), bank_holds)

    def _apply(self, round_: _Round, name: str, args: dict[str, Any]) -> None:
        session, letters, me, deliveries = round_.session, round_.letters, round_.me, round_.deliveries
        letter_id = args["letterId"]
        row = letters.get(letter_id)
        if row is None:
            if name != "LetterRequested":
                return  # a letter from before this member's time; nothing to act on
            row = letters[letter_id] = _Letter(
                args["firm"], args["bank"], LetterStatus.REQUESTED.name, new=True
            )
            row.set(letter_hash=args["letterHash"], due_at=args["dueAt"])
        row.set(status=STATUS_AFTER[name].name)
        if name == "LetterReplied":
            row.set(reply_hash=args["replyHash"])
        if name in ("LetterAuthorised", "AuthorisationRefused"):
            row.set(auditee_ref=args["auditeeRef"])  # the reference the signer's mandate is under
        if name in ("LetterRejected", "AuthorisationRefused"):
            row.set(reason=args["reason"])
        if me is None:
            return
        if name == "LetterAuthorised" and row.firm == me and row.letter_sealed is not None:
            deliveries.append(Delivery(letter_id, "letter", row.bank, row.letter_sealed))
        elif name == "LetterReplied" and row.bank == me and row.reply_sealed is not None:
            deliveries.append(Delivery(letter_id, "reply", row.firm, row.reply_sealed))
        elif name == "LetterRejected" and row.bank == me:
            # The bank's non-compliance notice follows its rejection on chain, as a reply does.
            notice = session.get(NoticeRow, (letter_id, "notice", 0))
            if notice is not None:
                deliveries.append(Delivery(letter_id, "notice", row.firm, notice.sealed))

    def _firm_words(
        self,
        session: Session,
        letter_id: str,
        bank: int,
        kind: FirmWordsKind,
        event: ChainEventRow,
        bank_holds: bool,
    ) -> None:
        """The firm's follow-up or withdrawal is on chain: its words (if any) go to the bank."""
        ordinal = 0
        if kind == FOLLOW_UP:  # the letter's Nth, this event included (the range's are all stored)
            ordinal = (
                session.scalar(
                    select(func.count()).where(
                        ChainEventRow.letter_id == letter_id,
                        ChainEventRow.name == "LetterFollowedUp",
                        tuple_(ChainEventRow.block_number, ChainEventRow.log_index)
                        <= (event.block_number, event.log_index),
                    )
                )
                or 0
            )
            if follow_up_asked_as(session, event) != ordinal:
                # Not the follow-up this firm numbered so (one asked before it failed, or they
                # reached the chain out of order): a message goes with the follow-up it was
                # written for or not at all.
                if session.get(NoticeRow, (letter_id, FOLLOW_UP, ordinal)) is not None:
                    log.warning("follow-up %s of %s is not the one asked as such", ordinal, letter_id)
                return
        recorded = ChainReference(block_number=event.block_number, transaction_hash=event.transaction_hash)
        firm_words_recorded(self.node, session, letter_id, bank, kind, ordinal, recorded, to_bank=bank_holds)
