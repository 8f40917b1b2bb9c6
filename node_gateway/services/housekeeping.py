"""Slow, periodic upkeep: publish this member's endpoint and keys, forget old peer nonces, and (an
audit firm's) return the letters the auditee has not authorised in time and keep the banks'
business rules fresh."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta

from node_gateway.core.config import MemberRole
from node_gateway.node import Node
from node_gateway.peer.signing import prune_nonces
from node_gateway.protocol.hashing import to_hex
from node_gateway.services.bank_rules import refresh_all
from node_gateway.services.firm_review import return_unauthorised
from node_gateway.services.outbox import enqueue_step
from node_gateway.storage.models import utcnow

INTERVAL_S = 60.0
ADMISSION_CHECK_S = 5.0  # how often a gateway not yet admitted asks the chain whether it is now
RULES_INTERVAL_S = 300.0  # how often an audit firm looks for banks' rules it lacks or holds old


class Housekeeping:
    def __init__(self, node: Node, clock: Callable[[], float] = time.time) -> None:
        self.node = node
        self.clock = clock  # the calendar time the return of letters counts from
        self._last = 0.0
        self._rules_last = -RULES_INTERVAL_S

    def run_once(self) -> int:
        if time.monotonic() - self._last < INTERVAL_S or not self.node.is_member():
            return 0
        self._last = time.monotonic()
        self.publish_endpoint()
        # Past twice the allowed clock skew a replayed nonce is refused for its timestamp anyway.
        prune_nonces(self.node.db, utcnow() - timedelta(seconds=2 * self.node.settings.peer_clock_skew_s))
        is_firm = self.node.settings.role == MemberRole.AUDIT_FIRM
        if is_firm and time.monotonic() - self._rules_last >= RULES_INTERVAL_S:
            self._rules_last = time.monotonic()
            refresh_all(self.node)  # the banks' rules, for the composer
        return len(self.return_letters())

    def idle_s(self) -> float:
        """How long its worker may sleep: until the next round is due, or a short while until
        this gateway's member has been admitted (a round did nothing then)."""
        if self._last == 0.0:
            return ADMISSION_CHECK_S
        return max(0.0, INTERVAL_S - (time.monotonic() - self._last))

    def return_letters(self) -> list[str]:
        """An audit firm's letters not authorised in time, withdrawn (退回); their ids."""
        if self.node.settings.role != MemberRole.AUDIT_FIRM:
            return []
        with self.node.db.session() as session:
            returned = return_unauthorised(self.node, session, int(self.clock()))
        if returned:
            self.node.notify()
        return returned

    def publish_endpoint(self) -> bool:
        """Records this gateway's URL and public keys on chain if the registry holds others."""
        node = self.node
        member = node.member(node.member_id(), fresh=True)
        endpoint, keys = node.settings.effective_public_url, node.encryption_keys_blob()
        if member.endpoint == endpoint and member.encryption_keys == keys:
            return False
        version = hashlib.sha256(endpoint.encode() + keys).hexdigest()[:16]
        with node.db.session() as session:
            enqueue_step(
                session,
                key=f"update_endpoint:{version}",
                step="update_endpoint",
                payload={
                    "member_id": member.member_id,
                    "endpoint": endpoint,
                    "encryption_keys": to_hex(keys),
                },
            )
        node.notify()
        return True
