"""A firm's gateway shows a bank's rules only as that bank's current account signed them, and keeps
the last good copy for when the bank does not answer (in-process chain; the integration test
``test_bank_rules`` runs the publication over HTTP between gateway processes)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eth_account import Account

from node_gateway.errors import NotFound, Unavailable
from node_gateway.node import Node
from node_gateway.protocol.bank_rules import BankRules, Fee, sign_rules
from node_gateway.protocol.documents import Contact, ItemKey, LetterFormat
from node_gateway.protocol.errors import InvalidDocument
from node_gateway.services.bank_rules import MAX_RULES_BYTES, REFRESH_AFTER, check_rules, fetch_rules
from node_gateway.storage.models import BankRulesRow

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain, Deployment


def _rules(bank: int, fee: str = "150.00") -> BankRules:
    return BankRules(
        bank_member_no=bank,
        published_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        items=[ItemKey.DEPOSITS, ItemKey.LOANS],
        formats=[LetterFormat.ONE],
        fee=Fee(per_letter=Decimal(fee)),
        department="函证中心",
        contact=Contact(name="周敏", phone="021-6888 1234"),
    )


@pytest.fixture
def firm(in_process: Chain, tmp_path: Path) -> Iterator[tuple[Deployment, Node]]:
    deployed = in_process.deploy()
    node = gateway_node(deployed, deployed.firm, tmp_path)
    yield deployed, node
    node.db.dispose()


def test_only_the_banks_own_signed_rules_check(firm: tuple[Deployment, Node]) -> None:
    deployed, node = firm
    bank, bank2 = deployed.bank, deployed.bank2
    check_rules(node, bank.member_id, sign_rules(_rules(bank.member_id), bank.sender.account))
    forged = sign_rules(_rules(bank.member_id), Account.create())
    with pytest.raises(InvalidDocument, match="not signed by its account"):
        check_rules(node, bank.member_id, forged)
    # Another bank's signed rules, served from this bank's endpoint, are not this bank's.
    with pytest.raises(InvalidDocument, match="name member"):
        check_rules(node, bank.member_id, sign_rules(_rules(bank2.member_id), bank2.sender.account))
    # Altered after signing: the fee lowered by whoever relayed them.
    signed = sign_rules(_rules(bank.member_id), bank.sender.account)
    altered = signed.model_copy(update={"rules": _rules(bank.member_id, fee="1.00")})
    with pytest.raises(InvalidDocument, match="not signed by its account"):
        check_rules(node, bank.member_id, altered)
    # A member that is no bank publishes no rules.
    firm_rules = sign_rules(_rules(deployed.firm2.member_id), deployed.firm2.sender.account)
    with pytest.raises(InvalidDocument, match="not an active bank"):
        check_rules(node, deployed.firm2.member_id, firm_rules)


def test_the_last_good_copy_stands_in_while_the_bank_does_not_answer(firm: tuple[Deployment, Node]) -> None:
    deployed, node = firm
    with node.db.session() as session, pytest.raises(NotFound, match="no member 300"):
        fetch_rules(node, session, 300)
    bank = deployed.bank.member_id  # its registered endpoint (https://bank.example) does not resolve
    with node.db.session() as session, pytest.raises(Unavailable, match="does not answer"):
        fetch_rules(node, session, bank)
    kept = sign_rules(_rules(bank), deployed.bank.sender.account)
    stale = datetime.now(UTC) - REFRESH_AFTER - timedelta(minutes=1)
    with node.db.session() as session:
        session.add(
            BankRulesRow(bank=bank, signed=kept.model_dump(mode="json", by_alias=True), fetched_at=stale)
        )
    with node.db.session() as session:
        assert fetch_rules(node, session, bank) == kept.rules


def _serving(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    """A real HTTP server on loopback that answers every GET with ``body``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_rules_a_bank_serves_over_http_are_read_capped_and_checked(firm: tuple[Deployment, Node]) -> None:
    deployed, node = firm
    bank = deployed.bank
    keys = deployed.members.get_member(bank.member_id).encryption_keys
    forged = sign_rules(_rules(bank.member_id), Account.create()).model_dump_json(by_alias=True).encode()
    genuine = sign_rules(_rules(bank.member_id), bank.sender.account).model_dump_json(by_alias=True).encode()
    for body, refused in (
        (b"[" * (MAX_RULES_BYTES + 1), "more than"),
        (forged, "do not check"),
        (genuine, None),
    ):
        server, url = _serving(body)
        try:
            deployed.send(bank, deployed.members.update_endpoint(url, keys))
            with node.db.session() as session:
                if refused is None:
                    assert fetch_rules(node, session, bank.member_id).fee.per_letter == Decimal("150.00")
                else:
                    with pytest.raises(Unavailable, match=refused):
                        fetch_rules(node, session, bank.member_id)
        finally:
            server.shutdown()
