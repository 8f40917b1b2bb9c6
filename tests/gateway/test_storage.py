"""The gateway's database on SQLite and on PostgreSQL: migrations (the core's and the installed
plugins' branches), time zones, JSON, the outbox's and the nonce store's idempotence under
concurrency, and documents encrypted at rest."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from node_gateway.peer.signing import sql_nonce_store
from node_gateway.protocol.documents import new_letter_id
from node_gateway.protocol.hashing import canonical_bytes, new_salt
from node_gateway.protocol.samples import sample_letter
from node_gateway.services.outbox import enqueue_step, enqueue_steps
from node_gateway.storage.db import Database, alembic_config, schema_metadata
from node_gateway.storage.models import (
    ChainEventRow,
    LetterRow,
    OutboxTransaction,
    PeerNonce,
)
from node_gateway.storage.vault import StoredDocument, Vault, VaultError

THREADS = 8
T = TypeVar("T")


def all_at_once(count: int, action: Callable[[], T]) -> list[T | Exception]:
    """Runs ``action`` in ``count`` threads released together; each one's result or exception."""
    barrier = threading.Barrier(count)

    def run() -> T | Exception:
        barrier.wait()
        try:
            return action()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


def letter_row(letter_id: str, **values: Any) -> LetterRow:
    return LetterRow(
        letter_id=letter_id,
        firm=2,
        bank=3,
        auditee_ref="0x" + "ab" * 32,
        letter_hash="0x" + "cd" * 32,
        due_at=1_767_139_200,
        status="requested",
        **values,
    )


# --- schema ------------------------------------------------------------------------------------


def _models() -> MetaData:
    """The core's tables and the installed plugins' in one metadata."""
    merged = MetaData()
    for metadata in schema_metadata():
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged


def test_migrations_reach_head_and_can_run_again(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        db.migrate()
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        with db.engine.connect() as connection:
            assert set(MigrationContext.configure(connection).get_current_heads()) == set(heads)
            tables = set(inspect(connection).get_table_names())
        assert tables == {*_models().tables, "alembic_version"}
    finally:
        db.dispose()


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, _models())
    assert differences == []


# --- values ------------------------------------------------------------------------------------


def test_aware_datetimes_read_back_in_utc(database: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    received = datetime(2025, 1, 6, 9, 30, 15, 123456, tzinfo=shanghai)
    letter_id = new_letter_id()
    with database.session() as session:
        session.add(letter_row(letter_id, received_at=received))
    with database.session() as session:
        row = session.get_one(LetterRow, letter_id)
        assert row.received_at == received
        assert row.received_at is not None
        assert row.received_at.utcoffset() == timedelta(0)
        assert row.received_at.replace(tzinfo=None) == datetime(2025, 1, 6, 1, 30, 15, 123456)
        assert row.created_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - row.created_at) < timedelta(minutes=1)


def test_naive_datetimes_are_refused(database: Database) -> None:
    # SQLAlchemy wraps the ValueError of the type's bind processing in a StatementError.
    with pytest.raises(StatementError, match="naive datetime"), database.session() as session:
        session.add(letter_row(new_letter_id(), received_at=datetime(2025, 1, 6, 9, 30)))


def test_json_columns_round_trip(database: Database) -> None:
    args = {
        "letterId": "0x" + "01" * 32,
        "amount": 2**255 + 1,  # uint256 values beyond a double's precision
        "name": "东海银行股份有限公司",
        "nested": {"list": [1, "two", None, True, False], "empty": {}},
        "negative": -7,
    }
    authorisation = {"requests_root": "0x" + "02" * 32, "firm": 2, "valid_until": 1_767_139_200}
    letter_id = new_letter_id()
    with database.session() as session:
        session.add(
            ChainEventRow(
                block_number=9,
                log_index=0,
                transaction_hash="0x" + "03" * 32,
                block_timestamp=1_736_150_400,
                name="LetterRequested",
                args=args,
            )
        )
        session.add(letter_row(letter_id, authorisation=authorisation))
    with database.session() as session:
        event = session.scalars(select(ChainEventRow)).one()
        assert event.args == args
        assert type(event.args["amount"]) is int
        assert session.get_one(LetterRow, letter_id).authorisation == authorisation


# --- the outbox and the nonce store ------------------------------------------------------------


def _request_payload(letter_id: str) -> dict[str, Any]:
    return {
        "letter_id": letter_id,
        "bank": 3,
        "auditee_ref": "0x" + "ab" * 32,
        "letter_hash": "0x" + "cd" * 32,
        "due_at": 1_767_139_200,
    }


def test_enqueueing_a_step_twice_keeps_one(database: Database) -> None:
    letter_id = new_letter_id()
    key = f"request:{letter_id}"
    with database.session() as session:
        assert enqueue_step(
            session, key=key, step="request", letter_id=letter_id, payload=_request_payload(letter_id)
        )
    with database.session() as session:
        assert not enqueue_step(
            session, key=key, step="request", letter_id=letter_id, payload=_request_payload(letter_id)
        )
    with database.session() as session:
        rows = session.scalars(select(OutboxTransaction)).all()
        assert [(row.key, row.state, row.attempts) for row in rows] == [(key, "pending", 0)]
        assert rows[0].payload == _request_payload(letter_id)


def test_enqueueing_many_steps_skips_the_keys_there_are(database: Database) -> None:
    ids = [new_letter_id() for _ in range(3)]
    steps = [(f"request:{i}", "request", _request_payload(i), i) for i in ids]
    with database.session() as session:
        assert enqueue_steps(session, steps[:1]) == 1
    with database.session() as session:
        assert enqueue_steps(session, [*steps, steps[2]]) == 2  # one there already, one named twice
    with database.session() as session:
        keys = session.scalars(select(OutboxTransaction.key).order_by(OutboxTransaction.id)).all()
        assert keys == [f"request:{i}" for i in ids]
    with pytest.raises(ValueError, match="unknown step"), database.session() as session:
        enqueue_steps(session, [("teleport:1", "teleport", {}, None)])


def test_an_unknown_step_is_refused(database: Database) -> None:
    with pytest.raises(ValueError, match="unknown step"), database.session() as session:
        enqueue_step(session, key="teleport:1", step="teleport", payload={})


def test_concurrent_enqueues_of_one_step_keep_one(database: Database) -> None:
    letter_id = new_letter_id()
    key = f"request:{letter_id}"

    def enqueue() -> bool:
        # The step is enqueued in the caller's transaction: the loser of the race learns it at
        # commit, from the unique key, and the caller's whole change rolls back.
        with database.session() as session:
            return enqueue_step(
                session, key=key, step="request", letter_id=letter_id, payload=_request_payload(letter_id)
            )

    outcomes = all_at_once(2, enqueue)
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert all(isinstance(error, IntegrityError) for error in errors), errors
    assert outcomes.count(True) == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxTransaction)) == 1


def test_the_nonce_store_refuses_a_replay(database: Database) -> None:
    remember = sql_nonce_store(database)
    nonce = secrets.token_hex(16)
    assert remember(2, nonce)
    assert not remember(2, nonce)
    assert remember(3, nonce)  # nonces are per sender


def test_concurrent_uses_of_one_nonce_pass_once(database: Database) -> None:
    remember = sql_nonce_store(database)
    nonce = secrets.token_hex(16)
    outcomes = all_at_once(THREADS, lambda: remember(2, nonce))
    assert sorted(outcomes, key=str) == [False] * (THREADS - 1) + [True]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PeerNonce)) == 1


# --- documents at rest -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vault() -> Vault:
    return Vault(secrets.token_bytes(32))


@pytest.fixture(scope="module")
def letter_document() -> StoredDocument:
    return StoredDocument(canonical=canonical_bytes(sample_letter()), salt=new_salt())


def test_a_sealed_document_opens(vault: Vault, letter_document: StoredDocument) -> None:
    letter_id = new_letter_id()
    assert (
        vault.open(letter_id, "letter", vault.seal(letter_id, "letter", letter_document)) == letter_document
    )
    # Letter ids are hex: their case does not matter.
    assert (
        vault.open(letter_id.upper(), "letter", vault.seal(letter_id, "letter", letter_document))
        == letter_document
    )


def test_the_letters_table_holds_only_ciphertext(
    database: Database, vault: Vault, letter_document: StoredDocument
) -> None:
    letter_id = new_letter_id()
    with database.session() as session:
        session.add(letter_row(letter_id, letter_sealed=vault.seal(letter_id, "letter", letter_document)))
    with database.engine.connect() as connection:
        raw = connection.execute(
            text("SELECT letter_sealed FROM letters WHERE letter_id = :letter_id"), {"letter_id": letter_id}
        ).scalar_one()
    stored = bytes(raw)
    plain = letter_document.canonical
    assert plain not in stored
    for fragment in ("江南精密".encode(), b"3600000.00", b"registration_code"):
        assert fragment in plain  # what the sample letter says, and the table must not
        assert fragment not in stored
    assert letter_document.salt not in stored
    assert letter_document.salt.hex().encode() not in stored
    assert vault.open(letter_id, "letter", stored) == letter_document


@pytest.mark.parametrize(("other_id", "other_kind"), [("another letter", "letter"), ("same letter", "reply")])
def test_a_sealed_document_does_not_open_elsewhere(
    vault: Vault, letter_document: StoredDocument, other_id: str, other_kind: str
) -> None:
    letter_id = new_letter_id()
    sealed = vault.seal(letter_id, "letter", letter_document)
    target = new_letter_id() if other_id == "another letter" else letter_id
    with pytest.raises(VaultError):
        vault.open(target, other_kind, sealed)


def test_a_sealed_document_does_not_open_with_another_key(
    vault: Vault, letter_document: StoredDocument
) -> None:
    letter_id = new_letter_id()
    sealed = vault.seal(letter_id, "letter", letter_document)
    with pytest.raises(VaultError):
        Vault(secrets.token_bytes(32)).open(letter_id, "letter", sealed)


def test_a_tampered_document_does_not_open(vault: Vault, letter_document: StoredDocument) -> None:
    letter_id = new_letter_id()
    sealed = bytearray(vault.seal(letter_id, "letter", letter_document))
    sealed[len(sealed) // 2] ^= 1
    with pytest.raises(VaultError):
        vault.open(letter_id, "letter", bytes(sealed))


def test_sealing_twice_gives_different_ciphertexts(vault: Vault, letter_document: StoredDocument) -> None:
    letter_id = new_letter_id()
    assert vault.seal(letter_id, "letter", letter_document) != vault.seal(
        letter_id, "letter", letter_document
    )
