"""The delivery outbox: encrypted envelopes to other members' gateways, retried until received.

An envelope is sealed when it is enqueued (so the outbox holds ciphertext only) and posted to
the recipient's endpoint from the member registry, signed with this member's key. The recipient
answers 409 ``chain_not_ready`` while its view of the chain lags; that and network failures are
retried with backoff. An envelope the recipient cannot open (it has rotated its keys since) is
sealed again to the keys it publishes now, a few times at most. A refusal for any other reason is
final and kept with its code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import httpx
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from node_gateway.chain.errors import ChainError
from node_gateway.errors import EndpointRefused
from node_gateway.node import Node
from node_gateway.peer.endpoints import check_endpoint
from node_gateway.peer.signing import sign_peer_request
from node_gateway.protocol.envelopes import Envelope, Step, seal
from node_gateway.services.next_retry import NextRetry
from node_gateway.storage.db import in_batches
from node_gateway.storage.models import LetterRow, NoticeRow, OutboxDelivery, utcnow
from node_gateway.storage.vault import StoredDocument

log = logging.getLogger(__name__)

PEER_ENVELOPES_PATH = "/peer/v1/envelopes"
BATCH_LIMIT = 256
MAX_BATCH = 64  # envelopes in one peer call
MAX_BACKOFF_S = 30.0
MAX_ATTEMPTS = 200
_RETRYABLE_CODES = {"chain_not_ready", "not_member"}
_RESEAL_CODES = {"envelope_tampered", "unsupported_suite"}  # perhaps sealed to keys since rotated
MAX_RESEALS = 3


class EnvelopeContent(BaseModel):
    """What an envelope carries: the document's canonical JSON and the salt of its on-chain hash;
    a reply also the salt of the auditee reference the letter was authorised under (0x-hex), so
    that the firm's evidence shows the reference names the letter's auditee."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document: str
    salt: str
    auditee_salt: str | None = None

    def stored(self) -> StoredDocument:
        return StoredDocument(canonical=self.document.encode("utf-8"), salt=bytes.fromhex(self.salt))

    @classmethod
    def of(cls, stored: StoredDocument, auditee_salt: str | None = None) -> EnvelopeContent:
        return cls(
            document=stored.canonical.decode("utf-8"), salt=stored.salt.hex(), auditee_salt=auditee_salt
        )


@dataclass(frozen=True)
class Delivery:
    """A stored document (``sealed``) of ``step`` to queue for ``recipient``; ``ordinal`` tells
    apart the steps that repeat (the Nth follow-up's message)."""

    letter_id: str
    step: Step
    recipient: int
    sealed: bytes
    ordinal: int = 0

    @property
    def key(self) -> tuple[str, str, int, int]:
        return self.letter_id, self.step, self.recipient, self.ordinal


def enqueue_delivery(
    session: Session,
    node: Node,
    *,
    letter_id: str,
    step: Step,
    recipient: int,
    sealed: bytes,
    ordinal: int = 0,
) -> bool:
    """Seals a stored document to ``recipient`` and queues it; False if it was already queued."""
    return enqueue_deliveries(session, node, [Delivery(letter_id, step, recipient, sealed, ordinal)]) == 1


def enqueue_deliveries(session: Session, node: Node, deliveries: Sequence[Delivery]) -> int:
    """Seals each stored document to its recipient and queues it, skipping those already queued;
    how many it queued. One query for what these letters have queued instead of one per delivery,
    each of which would flush the rows added before it."""
    queued: set[tuple[str, str, int, int]] = set()
    for batch in in_batches(sorted({delivery.letter_id for delivery in deliveries})):
        rows = session.execute(
            select(
                OutboxDelivery.letter_id,
                OutboxDelivery.step,
                OutboxDelivery.recipient,
                OutboxDelivery.ordinal,
            ).where(OutboxDelivery.letter_id.in_(batch))
        )
        queued.update((letter_id, step, recipient, ordinal) for letter_id, step, recipient, ordinal in rows)
    new: list[dict[str, object]] = []
    salts = _auditee_salts(session, [d.letter_id for d in deliveries if d.step == "reply"])
    for delivery in deliveries:
        if delivery.key in queued:
            continue
        queued.add(delivery.key)
        envelope = _sealed_envelope(
            node,
            delivery.letter_id,
            delivery.step,
            delivery.recipient,
            delivery.sealed,
            salts.get(delivery.letter_id) if delivery.step == "reply" else None,
        )
        new.append(
            {
                "letter_id": delivery.letter_id,
                "step": delivery.step,
                "recipient": delivery.recipient,
                "ordinal": delivery.ordinal,
                "envelope": envelope,
            }
        )
    if new:  # one INSERT of many rows, in their order, without the ORM's unit of work
        session.execute(insert(OutboxDelivery), new)
    return len(new)


def stored_sealed(session: Session, letter_id: str, step: Step, ordinal: int = 0) -> bytes | None:
    """The sealed document an envelope of ``step`` carries, as this member stores it (a notice, a
    follow-up's message or a withdrawal's reason is kept under its step as kind)."""
    if step not in ("letter", "reply"):
        notice = session.get(NoticeRow, (letter_id, step, ordinal))
        return None if notice is None else notice.sealed
    letter = session.get(LetterRow, letter_id)
    return None if letter is None else letter.letter_sealed if step == "letter" else letter.reply_sealed


def _auditee_salts(session: Session, letter_ids: Sequence[str]) -> dict[str, str | None]:
    """The auditee reference's salt the bank keeps beside each of these letters, with one query
    per IN list (a reply's envelope carries it)."""
    salts: dict[str, str | None] = {}
    for batch in in_batches(sorted(set(letter_ids))):
        query = select(LetterRow.letter_id, LetterRow.auditee_salt).where(LetterRow.letter_id.in_(batch))
        salts.update((letter_id, salt) for letter_id, salt in session.execute(query))
    return salts


def _sealed_envelope(
    node: Node,
    letter_id: str,
    step: Step,
    recipient: int,
    sealed: bytes,
    auditee_salt: str | None,
    *,
    fresh: bool = False,
) -> dict[str, object]:
    """The stored document sealed to the recipient's published key (read anew if ``fresh``); a
    reply with the auditee reference's salt the bank keeps beside it (never a rejection)."""
    stored = node.vault.open(letter_id, step, sealed)
    content = EnvelopeContent.of(stored, auditee_salt)
    envelope = seal(
        content.model_dump_json(exclude_none=True).encode("utf-8"),
        node.public_key_of(recipient, fresh=fresh),
        letter_id=letter_id,
        step=step,
        sender=node.member_id(),
        recipient=recipient,
    )
    return envelope.model_dump(mode="json")


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(0.2 * 2**attempts, MAX_BACKOFF_S))


class DeliveryWorker:
    def __init__(self, node: Node, client: httpx.Client | None = None) -> None:
        self.node = node
        self.client = client or httpx.Client(timeout=httpx.Timeout(15.0, connect=3.0))
        self._next_retry = NextRetry(node.db, OutboxDelivery)

    def idle_s(self, fallback_s: float) -> float:
        """How long the worker may sleep with nothing to wake it: until the next retry is due, at
        most ``fallback_s``."""
        return self._next_retry.idle_s(fallback_s)

    def run_once(self) -> int:
        with self.node.db.session() as session:
            rows = session.scalars(
                select(OutboxDelivery)
                .where(OutboxDelivery.state == "pending", OutboxDelivery.next_attempt_at <= utcnow())
                .order_by(OutboxDelivery.id)
                .limit(BATCH_LIMIT)
            ).all()
            work = [(row.id, row.recipient, dict(row.envelope)) for row in rows]
        by_recipient: dict[int, list[tuple[int, dict[str, object]]]] = {}
        for row_id, recipient, envelope in work:
            by_recipient.setdefault(recipient, []).append((row_id, envelope))
        delivered = 0
        for recipient, items in by_recipient.items():
            for start in range(0, len(items), MAX_BATCH):
                chunk = items[start : start + MAX_BATCH]
                outcomes = self._post(recipient, [envelope for _, envelope in chunk])
                self._settle(
                    [(row_id, *outcome) for (row_id, _), outcome in zip(chunk, outcomes, strict=True)]
                )
                delivered += sum(outcome == "done" for outcome, _ in outcomes)
        return delivered

    def _post(self, recipient: int, envelopes: list[dict[str, object]]) -> list[tuple[str, str | None]]:
        """Posts envelopes to one recipient in one call; the outcome of each."""
        try:
            endpoint = self.node.member(recipient).endpoint.rstrip("/")
            # Retried, not failed: the member may correct its endpoint.
            check_endpoint(endpoint, self.node.network_file.peer_endpoints)
            body = json.dumps(envelopes[0] if len(envelopes) == 1 else {"envelopes": envelopes}).encode(
                "utf-8"
            )
            headers = sign_peer_request(
                self.node.keys.chain_account,
                sender=self.node.member_id(),
                recipient=recipient,
                method="POST",
                path=PEER_ENVELOPES_PATH,
                body=body,
            )
            headers["Content-Type"] = "application/json"
            response = self.client.post(endpoint + PEER_ENVELOPES_PATH, content=body, headers=headers)
        except (httpx.HTTPError, ChainError) as exc:
            return [("retry", f"{type(exc).__name__}: {exc}")] * len(envelopes)
        except EndpointRefused as exc:
            log.warning("not delivering to member %s: %s", recipient, exc)
            return [("retry", f"{exc.code}: {exc}")] * len(envelopes)
        if not response.is_success:
            return [_outcome(response.status_code, _error_code(response), response.text)] * len(envelopes)
        if len(envelopes) == 1:
            return [("done", None)]
        outcomes: list[tuple[str, str | None]] = []
        for result in response.json()["results"]:
            error = result.get("error")
            outcomes.append(
                ("done", None)
                if error is None
                else _outcome(error["status"], error["code"], error["message"])
            )
        return outcomes

    def _settle(self, outcomes: list[tuple[int, str, str | None]]) -> None:
        delivered = [row_id for row_id, outcome, _ in outcomes if outcome == "done"]
        others = [(row_id, outcome, detail) for row_id, outcome, detail in outcomes if outcome != "done"]
        with self.node.db.session() as session:
            if delivered:  # most of them: one UPDATE, their rows (and envelopes) not loaded
                session.execute(
                    update(OutboxDelivery)
                    .where(OutboxDelivery.id.in_(delivered))
                    .values(
                        state="done", done_at=utcnow(), attempts=OutboxDelivery.attempts + 1, last_error=None
                    ),
                    execution_options={"synchronize_session": False},
                )
            # One query for the other rows, not one each (each would flush the rows settled before it).
            query = select(OutboxDelivery).where(OutboxDelivery.id.in_([row_id for row_id, _, _ in others]))
            rows = {row.id: row for row in session.scalars(query)} if others else {}
            for row_id, outcome, detail in others:
                row = rows[row_id]
                if outcome == "reseal":
                    outcome = "retry" if self._reseal(session, row) else "failed"
                self._settle_row(row, outcome, detail)
                if row.state == "pending":
                    self._next_retry.retry_at(row.next_attempt_at)

    def _reseal(self, session: Session, row: OutboxDelivery) -> bool:
        """Seals the envelope again to the recipient's current keys; False once that was tried
        MAX_RESEALS times, or if the document is gone."""
        row.reseals += 1
        step = cast(Step, row.step)
        sealed = stored_sealed(session, row.letter_id, step, row.ordinal)
        if row.reseals > MAX_RESEALS or sealed is None:
            return False
        salt = _auditee_salts(session, [row.letter_id]).get(row.letter_id) if step == "reply" else None
        row.envelope = _sealed_envelope(
            self.node, row.letter_id, step, row.recipient, sealed, salt, fresh=True
        )
        return True

    @staticmethod
    def _settle_row(row: OutboxDelivery, outcome: str, detail: str | None) -> None:
        row.attempts += 1
        row.last_error = detail
        if outcome == "retry" and row.attempts < MAX_ATTEMPTS:
            row.next_attempt_at = utcnow() + _backoff(row.attempts)
            return
        row.state = "done" if outcome == "done" else "failed"
        row.done_at = utcnow()
        if row.state == "failed":
            log.warning(
                "delivery of %s %s to member %s failed: %s", row.step, row.letter_id, row.recipient, detail
            )


def _outcome(status: int, code: str, message: str) -> tuple[str, str | None]:
    if status >= 500 or code in _RETRYABLE_CODES:
        return "retry", f"{status} {code}"
    if code in _RESEAL_CODES:
        return "reseal", f"{status} {code}: {message[:500]}"
    return "failed", f"{status} {code}: {message[:500]}"


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "unknown"


def parse_envelope_content(plaintext: bytes) -> EnvelopeContent:
    return EnvelopeContent.model_validate_json(plaintext)


__all__ = ["Delivery", "Envelope", "EnvelopeContent", "enqueue_deliveries", "enqueue_delivery"]
