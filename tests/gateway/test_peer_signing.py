"""Peer request signatures: a genuine call passes once; anything altered, foreign, stale or
replayed is refused with the right error, and a refused call never uses up a nonce."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from node_gateway.chain.contracts import Member, MemberStatus, Role
from node_gateway.chain.errors import MemberRegistryUnknownMember
from node_gateway.errors import PeerError, PeerForged, PeerNotActive, PeerReplayed, PeerUnsigned
from node_gateway.peer import (
    PEER_HEADERS,
    prune_nonces,
    sign_peer_request,
    sql_nonce_store,
    verify_peer_request,
)
from node_gateway.peer.signing import NonceStore
from node_gateway.storage.db import Database

FIRM, BANK, OTHER_BANK = 2, 3, 4
NOW = 1_736_150_400.0
PATH = "/peer/v1/envelopes"
BODY = b'{"envelope": "sealed"}'

FIRM_KEY: LocalAccount = Account.create()
BANK_KEY: LocalAccount = Account.create()


def member(member_id: int, account: LocalAccount, status: MemberStatus = MemberStatus.ACTIVE) -> Member:
    return Member(
        member_id=member_id,
        role=Role.AUDIT_FIRM if member_id == FIRM else Role.BANK,
        status=status,
        account=account.address,
        org_id=bytes([member_id]) * 32,
        display_name=f"member {member_id}",
        endpoint=f"https://{member_id}.example",
        encryption_keys=b"",
    )


def registry(*members: Member) -> Callable[[int], Member]:
    """A member lookup over fixed records; unknown numbers fail as the MemberRegistry does."""
    by_id = {m.member_id: m for m in members}

    def member_of(member_id: int) -> Member:
        if member_id not in by_id:
            raise MemberRegistryUnknownMember(member_id)
        return by_id[member_id]

    return member_of


def memory_nonces() -> NonceStore:
    seen: set[tuple[int, str]] = set()

    def remember(sender: int, nonce: str) -> bool:
        if (sender, nonce) in seen:
            return False
        seen.add((sender, nonce))
        return True

    return remember


MEMBERS = registry(member(FIRM, FIRM_KEY), member(BANK, BANK_KEY))


def signed(
    *,
    account: LocalAccount = FIRM_KEY,
    sender: int = FIRM,
    recipient: int = BANK,
    method: str = "POST",
    path: str = PATH,
    body: bytes = BODY,
) -> dict[str, str]:
    return sign_peer_request(
        account, sender=sender, recipient=recipient, method=method, path=path, body=body, now=NOW
    )


def verify(
    headers: dict[str, str],
    *,
    method: str = "POST",
    path: str = PATH,
    body: bytes = BODY,
    me: int = BANK,
    member_of: Callable[[int], Member] = MEMBERS,
    remember_nonce: NonceStore | None = None,
    now: float = NOW,
) -> int:
    return verify_peer_request(
        method=method,
        path=path,
        headers=headers,
        body=body,
        me=me,
        member_of=member_of,
        remember_nonce=remember_nonce or memory_nonces(),
        now=now,
    )


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'gateway.db'}")
    database.migrate()
    return database


# --- the genuine call ----------------------------------------------------------------------------


def test_round_trip_returns_the_sender() -> None:
    headers = signed()
    assert set(headers) == set(PEER_HEADERS)
    assert headers["X-Confirmnet-Timestamp"] == str(int(NOW))
    assert len(headers["X-Confirmnet-Nonce"]) == 32
    assert headers["X-Confirmnet-Signature"].startswith("0x")
    assert len(headers["X-Confirmnet-Signature"]) == 2 + 130
    assert verify(headers) == FIRM


def test_header_names_and_method_are_case_insensitive() -> None:
    headers = {name.lower(): value for name, value in signed(method="post").items()}
    assert verify(headers, method="POST") == FIRM


def test_query_string_and_empty_body_are_signed_too() -> None:
    headers = signed(method="GET", path="/peer/v1/letters/0xab?step=reply", body=b"")
    assert verify(headers, method="GET", path="/peer/v1/letters/0xab?step=reply", body=b"") == FIRM
    with pytest.raises(PeerForged):
        verify(headers, method="GET", path="/peer/v1/letters/0xab?step=letter", body=b"")


def test_each_call_has_a_fresh_nonce() -> None:
    assert signed()["X-Confirmnet-Nonce"] != signed()["X-Confirmnet-Nonce"]


# --- unsigned: missing or malformed ------------------------------------------------------------


@pytest.mark.parametrize("name", PEER_HEADERS)
def test_a_missing_header_is_unsigned(name: str) -> None:
    headers = signed()
    del headers[name]
    with pytest.raises(PeerUnsigned):
        verify(headers)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Confirmnet-Sender", "02"),
        ("X-Confirmnet-Sender", "+2"),
        ("X-Confirmnet-Sender", "two"),
        ("X-Confirmnet-Sender", "0"),
        ("X-Confirmnet-Sender", str(2**32)),
        ("X-Confirmnet-Recipient", "3 "),
        ("X-Confirmnet-Timestamp", "1_736_150_400"),
        ("X-Confirmnet-Timestamp", "1736150400.5"),
        ("X-Confirmnet-Nonce", "A" * 32),
        ("X-Confirmnet-Nonce", "a" * 31),
        ("X-Confirmnet-Signature", "0x" + "ab" * 64),
        ("X-Confirmnet-Signature", "ab" * 65),
        ("X-Confirmnet-Signature", "0x" + "zz" * 65),
    ],
)
def test_a_malformed_header_is_unsigned(name: str, value: str) -> None:
    headers = signed() | {name: value}
    with pytest.raises(PeerUnsigned):
        verify(headers)


@pytest.mark.parametrize("signature", ["0x" + "00" * 65, "0x" + "11" * 64 + "05", "0x" + "ff" * 65])
def test_an_undecodable_signature_is_unsigned(signature: str) -> None:
    with pytest.raises(PeerUnsigned):
        verify(signed() | {"X-Confirmnet-Signature": signature})


# --- forged: anything changed, or someone else signed ------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"envelope": "other"}'},
        {"path": "/peer/v1/replies"},
        {"method": "PUT"},
    ],
    ids=["body", "path", "method"],
)
def test_a_tampered_request_is_forged(change: dict[str, Any]) -> None:
    with pytest.raises(PeerForged):
        verify(signed(), **change)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Confirmnet-Timestamp", str(int(NOW) - 1)),
        ("X-Confirmnet-Nonce", "0" * 32),
        ("X-Confirmnet-Recipient", str(OTHER_BANK)),
        ("X-Confirmnet-Sender", str(BANK)),
    ],
)
def test_a_tampered_header_is_forged(name: str, value: str) -> None:
    with pytest.raises(PeerForged):
        verify(signed() | {name: value}, me=OTHER_BANK if name == "X-Confirmnet-Recipient" else BANK)


def test_a_call_signed_for_another_recipient_is_forged() -> None:
    with pytest.raises(PeerForged, match="addressed to member 4"):
        verify(signed(recipient=OTHER_BANK), me=BANK)


def test_a_call_signed_by_another_key_is_forged() -> None:
    with pytest.raises(PeerForged):
        verify(signed(account=Account.create()))


def test_a_member_claiming_to_be_another_is_forged() -> None:
    # The bank signs with its own key but claims to be the firm.
    with pytest.raises(PeerForged):
        verify(signed(account=BANK_KEY, sender=FIRM, recipient=BANK))


def test_an_unknown_sender_is_forged() -> None:
    stranger = Account.create()
    with pytest.raises(PeerForged, match="no member 9"):
        verify(signed(account=stranger, sender=9))


def test_a_rotated_out_account_is_forged() -> None:
    rotated = registry(member(FIRM, Account.create()), member(BANK, BANK_KEY))
    with pytest.raises(PeerForged):
        verify(signed(), member_of=rotated)


# --- replayed: stale, from the future, or a nonce seen before ----------------------------------


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_outside_the_clock_skew_is_replayed(offset: int) -> None:
    with pytest.raises(PeerReplayed):
        verify(signed(), now=NOW + offset)


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_timestamp_at_the_clock_skew_passes(offset: int) -> None:
    assert verify(signed(), now=NOW + offset) == FIRM


def test_a_replayed_nonce_is_refused(db: Database) -> None:
    nonces = sql_nonce_store(db)
    headers = signed()
    assert verify(headers, remember_nonce=nonces) == FIRM
    with pytest.raises(PeerReplayed, match="already used"):
        verify(headers, remember_nonce=nonces)


def test_nonces_are_per_sender(db: Database) -> None:
    nonces = sql_nonce_store(db)
    assert nonces(FIRM, "a" * 32)
    assert nonces(BANK, "a" * 32)
    assert not nonces(FIRM, "a" * 32)


def test_concurrent_requests_with_one_nonce_pass_once(db: Database) -> None:
    nonces = sql_nonce_store(db)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: nonces(FIRM, "b" * 32), range(16)))
    assert outcomes.count(True) == 1


def test_pruned_nonces_are_forgotten(db: Database) -> None:
    nonces = sql_nonce_store(db)
    assert nonces(FIRM, "c" * 32)
    assert prune_nonces(db, datetime.now(UTC) - timedelta(minutes=10)) == 0
    assert not nonces(FIRM, "c" * 32)
    assert prune_nonces(db, datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert nonces(FIRM, "c" * 32)


# --- not active ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [MemberStatus.SUSPENDED, MemberStatus.REVOKED])
def test_a_sender_not_active_is_refused(status: MemberStatus) -> None:
    suspended = registry(member(FIRM, FIRM_KEY, status), member(BANK, BANK_KEY))
    with pytest.raises(PeerNotActive):
        verify(signed(), member_of=suspended)


# --- a refused call leaves the nonce unused ------------------------------------------------------


@pytest.mark.parametrize(
    "refused",
    [
        {"body": b"tampered"},
        {"me": OTHER_BANK},
        {"now": NOW + 3600},
        {"member_of": registry(member(FIRM, FIRM_KEY, MemberStatus.SUSPENDED))},
    ],
    ids=["forged", "wrong_recipient", "stale", "suspended"],
)
def test_a_refused_call_does_not_use_up_the_nonce(db: Database, refused: dict[str, Any]) -> None:
    nonces = sql_nonce_store(db)
    headers = signed()
    with pytest.raises(PeerError):
        verify(headers, remember_nonce=nonces, **refused)
    assert verify(headers, remember_nonce=nonces) == FIRM
