"""The transaction outbox: every chain step goes through the database before it goes to the chain.

A step is enqueued in the same database transaction as the change that calls for it, so either
both happen or neither. The worker sends due steps, bundling those to the same contract into one
Multicall, and while steps keep coming it lets them gather for a moment, so that they share a
transaction. A transaction's gas limit is the sum of its steps' known bounds
(``node_gateway.chain.gas``), so the node is not asked to estimate it, unless one of its steps
has no bound or is being sent again: a transaction that ran out of gas is retried, estimated.
Before a transaction is broadcast its hash is stored; after a crash the worker looks that hash
up, and checks the chain for the step itself, so nothing is lost and nothing is done twice. While
steps keep coming, the steps a transaction recorded are marked done in the commit that stores the
next transaction's hash: one commit a transaction, not two (a crash between leaves them pending
with their hash, which the chain then confirms).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from eth_abi.exceptions import EncodingError
from eth_utils.crypto import keccak
from sqlalchemy import ColumnElement, case, func, insert, select, update
from sqlalchemy.orm import Session
from web3.exceptions import TransactionNotFound, Web3ValidationError

from node_gateway.chain.errors import ChainError, ContractRevert
from node_gateway.chain.gas import transaction_gas
from node_gateway.chain.transactions import Call, NewBlocks, rpc
from node_gateway.node import Node
from node_gateway.protocol.hashing import to_hex
from node_gateway.services.next_retry import NextRetry
from node_gateway.services.steps import STEPS
from node_gateway.storage.db import in_batches
from node_gateway.storage.models import OutboxTransaction, utcnow

log = logging.getLogger(__name__)

BATCH_LIMIT = 64
# While steps keep coming, at most one transaction per LINGER_S unless a bundle is full: many
# small transactions cost every member's indexer a round each, and on a chain with block times
# each waits for its own block.
LINGER_S = 0.05
# Transactions one round sends at most while steps keep coming, before it lets the worker look
# whether it is asked to stop.
ROUND_TRANSACTIONS = 8
MAX_BACKOFF_S = 30.0
# The steps that answer or end a letter under way: their letters go first (``_due``).
FINISHING_STEPS = tuple(name for name, kind in STEPS.items() if kind.finishes)
# What a step's payload can raise when it is encoded: it will never be sent, so it fails for good.
_UNENCODABLE = (EncodingError, Web3ValidationError, ValueError, TypeError, OverflowError, KeyError)


def enqueue_step(
    session: Session, *, key: str, step: str, payload: dict[str, Any], letter_id: str | None = None
) -> bool:
    """Adds a step unless one with the same key exists; True if it was added."""
    return enqueue_steps(session, [(key, step, payload, letter_id)]) == 1


def enqueue_steps(session: Session, steps: Sequence[tuple[str, str, dict[str, Any], str | None]]) -> int:
    """Adds many steps (key, step, payload, letter id), skipping keys that exist; how many it added.

    One query for the existing keys instead of one per step, each of which would flush the steps
    added before it, and one statement for the new rows.
    """
    for _, step, _, _ in steps:
        if step not in STEPS:
            raise ValueError(f"unknown step {step}")
    existing: set[str] = set()
    for batch in in_batches([key for key, _, _, _ in steps]):
        existing.update(
            session.scalars(select(OutboxTransaction.key).where(OutboxTransaction.key.in_(batch)))
        )
    rows: list[dict[str, Any]] = []
    for key, step, payload, letter_id in steps:
        if key in existing:
            continue
        existing.add(key)
        rows.append({"key": key, "step": step, "payload": payload, "letter_id": letter_id})
    if rows:  # one INSERT of many rows, in their order, without the ORM's unit of work
        session.execute(insert(OutboxTransaction), rows)
    return len(rows)


# A pending step tried this often, or waiting this long, is stuck: /health says so.
STUCK_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=10)


def stuck_steps(session: Session) -> int:
    """How many pending steps have been retried or waited so long that someone should look."""
    stuck = (OutboxTransaction.attempts >= STUCK_ATTEMPTS) | (
        OutboxTransaction.created_at < utcnow() - STUCK_AFTER
    )
    return session.scalar(select(func.count()).where(OutboxTransaction.state == "pending", stuck)) or 0


@dataclass(frozen=True)
class _Outgoing:
    """A due step, encoded; ``sent_before``: it has been tried (so its gas is estimated)."""

    row_id: int
    call: Call
    sent_before: bool


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(0.25 * 2**attempts, MAX_BACKOFF_S))


class TransactionOutbox:
    """``blocks``: where the node announces new blocks, if it does (``services.heads``): a sent
    transaction's receipt is read when its block comes rather than polled for."""

    def __init__(self, node: Node, blocks: NewBlocks | None = None) -> None:
        self.node = node
        self._blocks = blocks
        self._sent_at: float | None = None  # when the last transaction was sent (monotonic)
        self._next_retry = NextRetry(node.db, OutboxTransaction)
        # The steps of transactions on chain not yet marked done: marked with the next hash stored.
        self._recorded: list[int] = []

    def idle_s(self, fallback_s: float) -> float:
        """How long the worker may sleep with nothing to wake it: until the next retry is due, at
        most ``fallback_s``; until admitted, ``fallback_s`` (the indexer's news of it wakes us)."""
        if not self.node.is_member():
            return fallback_s
        return self._next_retry.idle_s(fallback_s)

    def _due_where(self) -> list[ColumnElement[bool]]:
        return [
            OutboxTransaction.state == "pending",
            OutboxTransaction.next_attempt_at <= utcnow(),
            # On chain already, to be marked done with the next commit (``_update``).
            *([OutboxTransaction.id.not_in(self._recorded)] if self._recorded else []),
        ]

    def _due_count(self) -> int:
        """How many steps are due, up to a full bundle: a count, without ``_due``'s ordering."""
        due = select(OutboxTransaction.id).where(*self._due_where()).limit(BATCH_LIMIT).subquery()
        with self.node.db.session() as session:
            return session.scalar(select(func.count()).select_from(due)) or 0

    def _due(self) -> list[tuple[int, str, dict[str, Any], str | None, int]]:
        # The letters with a step that finishes them under way before those only starting, so that
        # a saturated gateway closes letters rather than piling up open ones; then a letter's due
        # steps together, in the order they were queued (a follow-up before the withdrawal queued
        # after it), from where its first stands (the bank queues a round's accepts, then its
        # replies: each letter's accept and reply share a transaction). The order is worked out on
        # the ids alone; the chosen rows' payloads are read after.
        letter = OutboxTransaction.letter_id
        starting = func.min(case((OutboxTransaction.step.in_(FINISHING_STEPS), 0), else_=1)).over(
            partition_by=letter
        )
        letter_first = func.min(OutboxTransaction.id).over(partition_by=letter)
        with self.node.db.session() as session:
            ids = session.scalars(
                select(OutboxTransaction.id)
                .where(*self._due_where())
                .order_by(starting, letter_first, OutboxTransaction.id)
                .limit(BATCH_LIMIT)
            ).all()
            if not ids:
                return []
            rows = {
                row_id: (row_id, step, dict(payload), tx_hash, attempts)
                for row_id, step, payload, tx_hash, attempts in session.execute(
                    select(
                        OutboxTransaction.id,
                        OutboxTransaction.step,
                        OutboxTransaction.payload,
                        OutboxTransaction.transaction_hash,
                        OutboxTransaction.attempts,
                    ).where(OutboxTransaction.id.in_(ids))
                )
            }
            return [rows[row_id] for row_id in ids]

    def run_once(self) -> int:
        """Sends the due steps, while there are some (at most ``ROUND_TRANSACTIONS`` bundles);
        returns how many it settled (done or failed)."""
        if not self.node.is_member():
            return 0
        settled = 0
        try:
            for _ in range(ROUND_TRANSACTIONS):
                sent = self._send_due()
                if not sent:
                    break
                settled += sent
        finally:
            if self._recorded:  # the last transaction's steps: no next hash to go with
                self._update([])
        return settled

    def _send_due(self) -> int:
        due = self._due_count()
        if not due:
            return 0
        since = None if self._sent_at is None else time.monotonic() - self._sent_at
        if due < BATCH_LIMIT and since is not None and since < LINGER_S:
            # Steps keep coming: gather them a moment longer, so that they share a transaction
            # (a quiet gateway's first step goes at once).
            time.sleep(LINGER_S - since)
        work = self._due()
        to_send: list[_Outgoing] = []
        settled = 0
        for row_id, step, payload, tx_hash, attempts in work:
            try:
                # A step never tried before is sent without asking the chain first; if someone
                # else recorded it meanwhile, its revert is checked against the chain then.
                if attempts and self._already_done(step, payload, tx_hash):
                    self._finish([row_id])
                    settled += 1
                    continue
                to_send.append(_Outgoing(row_id, STEPS[step].build(self.node.network, payload), attempts > 0))
            except ChainError as exc:
                self._retry(row_id, exc)
            except _UNENCODABLE as exc:
                self._give_up(row_id, "unencodable_step", f"the step cannot be encoded: {exc}")
                settled += 1
        settled += self._send(to_send)
        return settled

    def _already_done(self, step: str, payload: dict[str, Any], tx_hash: str | None) -> bool:
        if tx_hash is not None:
            try:
                receipt = rpc(lambda: self.node.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
            except TransactionNotFound:
                receipt = None
            if receipt is not None and receipt["status"] == 1:
                return True
        check = STEPS[step].is_done
        if check is None:
            return False
        try:
            return check(self.node.network, payload)
        except ContractRevert:
            return False  # the chain will not even answer for its target (an unknown member)

    def _send(self, items: list[_Outgoing]) -> int:
        if not items:
            return 0
        groups: dict[str, list[_Outgoing]] = {}
        for item in items:
            groups.setdefault(str(item.call.to), []).append(item)
        settled = 0
        bundles = self.node.network.confirmations.address  # the contract with a Multicall
        for to, group in groups.items():
            if len(group) == 1 or to != bundles or not self._send_group(group):
                for item in group:
                    self._send_group([item])
            settled += len(group)
        return settled

    def _gas_limit(self, group: list[_Outgoing], call: Call) -> int | None:
        """The steps' bound, no more than a block holds; None (estimate) if one of them has no
        bound or is sent again, which may be because its bound was too low."""
        if any(item.sent_before for item in group):
            return None
        bound = transaction_gas(self.node.network, [item.call for item in group], bytes(call.data))
        return None if bound is None else min(bound, self.node.sender.block_gas_limit)

    def _send_group(self, group: list[_Outgoing]) -> bool:
        """Sends the group as one transaction; False if a bundle failed and must go one by one."""
        confirmations = self.node.network.confirmations
        call = group[0].call if len(group) == 1 else confirmations.multicall(item.call for item in group)
        ids = [item.row_id for item in group]
        try:
            raw = self.node.sender.sign(call, gas=self._gas_limit(group, call))
        except ContractRevert as exc:
            if len(group) > 1:
                return False
            self._fail(ids[0], exc)
            return True
        except ChainError as exc:
            for row_id in ids:
                self._retry(row_id, exc)
            return True
        tx_hash = to_hex(keccak(raw))
        self._record_hash(ids, tx_hash)
        self._sent_at = time.monotonic()
        try:
            self.node.sender.confirm(self.node.sender.broadcast(raw), call, blocks=self._blocks)
        except ContractRevert as exc:
            if len(group) > 1:
                return False
            self._fail(ids[0], exc)
            return True
        except ChainError as exc:
            self.node.sender.nonces.resync()
            for row_id in ids:
                self._retry(row_id, exc)
            return True
        self._recorded.extend(ids)  # done: marked so in the next commit (``_update``)
        log.info("recorded %s in %s", call.label, tx_hash)
        return True

    def _record_hash(self, ids: list[int], tx_hash: str) -> None:
        self._update(ids, transaction_hash=tx_hash, attempts=OutboxTransaction.attempts + 1)

    def _finish(self, ids: list[int]) -> None:
        """Marks done steps found on chain (a transaction of ours or someone else's)."""
        self._update(ids, state="done", done_at=utcnow())

    def _update(self, ids: list[int], **values: Any) -> None:
        """Sets ``values`` on the rows ``ids`` in one UPDATE, without loading them; in the same
        commit, marks done the steps of the transactions on chain since the last one (a commit
        that fails leaves them pending with their hash, which the next round finds on chain)."""
        done, self._recorded = self._recorded, []
        with self.node.db.session() as session:
            if done:
                session.execute(
                    update(OutboxTransaction)
                    .where(OutboxTransaction.id.in_(done))
                    .values(state="done", done_at=utcnow()),
                    execution_options={"synchronize_session": False},
                )
            if ids:
                session.execute(
                    update(OutboxTransaction).where(OutboxTransaction.id.in_(ids)).values(**values),
                    execution_options={"synchronize_session": False},
                )

    def _fail(self, row_id: int, exc: ContractRevert) -> None:
        with self.node.db.session() as session:
            row = session.get_one(OutboxTransaction, row_id)
            step, payload = row.step, dict(row.payload)
        # Another party may have done it meanwhile (e.g. relayed the same authorisation).
        if self._already_done(step, payload, None):
            self._finish([row_id])
        else:
            self._give_up(row_id, exc.solidity_name, str(exc))

    def _give_up(self, row_id: int, code: str, message: str) -> None:
        """Marks a step failed for good with its reason; the steps behind it go on."""
        with self.node.db.session() as session:
            row = session.get_one(OutboxTransaction, row_id)
            row.state = "failed"
            row.error_code = code
            row.error_message = message
            row.done_at = utcnow()
            log.warning("step %s of %s failed: %s", row.step, row.letter_id or "the network", message)

    def _retry(self, row_id: int, exc: Exception) -> None:
        with self.node.db.session() as session:
            row = session.get_one(OutboxTransaction, row_id)
            row.attempts += 1
            row.next_attempt_at = utcnow() + _backoff(row.attempts)
            self._next_retry.retry_at(row.next_attempt_at)
            row.error_code = type(exc).__name__
            row.error_message = str(exc)
        log.info("step %s will be retried: %s", row_id, exc)
