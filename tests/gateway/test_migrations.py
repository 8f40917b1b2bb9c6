"""Upgrading a gateway's database from before the plugins' migration branches, on SQLite and on
PostgreSQL.

Until the bank adapter became a plugin, the gateway's migrations were one chain: 0001 → 0002 (the
bank adapter's tables) → 0003. Now the core's revisions are 0001 → 0003, and the bank adapter's
branch ``bank`` holds 0002, on 0001. ``legacy_schema/`` holds those three revisions as they were
(copied unchanged from git). A database migrated by them, with rows in it, upgrades with the
current code: every table and row stays, the bank's revision is recorded beside the core's head,
and the schema is the models'. A gateway without the plugin leaves the bank's tables alone; the
plugin installed later adopts them.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, insert, inspect, select, text

from bank_adapter.approval import Action, DraftStatus
from bank_adapter.models import ComplianceCheckRow, DecisionRow, DraftRow
from node_gateway.core.config import MemberRole
from node_gateway.plugins import installed
from node_gateway.protocol.documents import new_letter_id
from node_gateway.storage.db import Database, alembic_config, schema_metadata
from node_gateway.storage.models import (
    ChainEventRow,
    LetterRow,
    MandateRow,
    OutboxTransaction,
)

LEGACY = Path(__file__).parent / "legacy_schema"
CORE_HEAD = "0012"  # the core's newest revision (0005: failed sign-ins; 0006: people's names, notices; 0007: 函证编号; 0008: the firm's review, returns; 0009: banks' rules; 0010: notices' ordinals; 0011: signers as keys; 0012: the auditee reference at authorisation, its salt with the reply)
BANK_TABLES = {"bank_compliance_checks", "bank_drafts", "bank_decisions"}
NOW = datetime(2025, 1, 6, 1, 30, 15, tzinfo=UTC)


def _legacy_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(LEGACY))
    return config


def _run(db: Database, config: Config, action: str, target: str) -> None:
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, target)


def _versions(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _models() -> MetaData:
    merged = MetaData()
    for metadata in schema_metadata():
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged


def _order(row: dict[str, Any]) -> str:
    return repr(sorted(row.items()))


def _contents(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but Alembic's, as the database holds it, in a stable order."""
    reflected = MetaData()
    reflected.reflect(connection)
    return {
        name: sorted((dict(row._mapping) for row in connection.execute(select(table))), key=_order)
        for name, table in reflected.tables.items()
        if name != "alembic_version"
    }


def _seed(db: Database, revision: str) -> None:
    """Rows in every table the schema at ``revision`` has (the users' included)."""
    letter_id = new_letter_id()
    with db.session() as session:
        # The users' table as that revision has it (the models' has the columns of later revisions).
        users = Table("users", MetaData(), autoload_with=session.connection())
        session.execute(
            users.insert().values(
                name="liu", roles="reviewer", key_id="a1b2c3", key_hash="0" * 64, created_at=NOW
            )
        )
        # Only the columns every revision's letters table has (not 0007's confirmation_no).
        session.execute(
            insert(LetterRow).values(
                letter_id=letter_id,
                firm=2,
                bank=3,
                auditee_ref="0x" + "ab" * 32,
                letter_hash="0x" + "cd" * 32,
                due_at=1_767_139_200,
                status="ACCEPTED",
                letter_sealed=secrets.token_bytes(80),
                authorisation={"kind": "authorise", "signer": "0x" + "11" * 20, "proof": []},
                received_at=NOW,
            )
        )
        session.add(
            ChainEventRow(
                block_number=9,
                log_index=0,
                transaction_hash="0x" + "03" * 32,
                block_timestamp=1_736_150_400,
                name="LetterAccepted",
                letter_id=letter_id,
                bank=3,
                args={"letterId": letter_id, "amount": 2**255 + 1},
            )
        )
        session.add(
            OutboxTransaction(
                key=f"accept:{letter_id}",
                step="accept",
                letter_id=letter_id,
                payload={"letter_id": letter_id},
            )
        )
        session.add(
            MandateRow(auditee_ref="0x" + "ab" * 32, signer="0x" + "22" * 20, valid_until=1_800_000_000)
        )
        if revision >= "0002":
            session.add(
                ComplianceCheckRow(
                    letter_id=letter_id,
                    received_at=NOW,
                    compliance_due=date(2025, 1, 9),
                    reply_due=date(2025, 1, 20),
                    outcome="passed",
                    detail="checked",
                    decided_by="system:compliance",
                    checked_at=NOW,
                )
            )
            draft = DraftRow(
                letter_id=letter_id,
                version=1,
                status=DraftStatus.PENDING_REVIEW,
                letter_hash="0x" + "cd" * 32,
                bank_member_no=3,
                content_sealed=secrets.token_bytes(120),
                exceptions=1,
                attention=0,
                preparer_id="chen",
                preparer_name="陈晓明",
                created_at=NOW,
            )
            session.add(draft)
            session.flush()
            session.add(
                DecisionRow(
                    letter_id=letter_id,
                    draft_id=draft.id,
                    action=Action.DRAFTED,
                    actor_id="chen",
                    actor_name="陈晓明",
                )
            )
        if revision >= "0003":  # as the table was then (not 0010's ordinal)
            deliveries = Table("outbox_deliveries", MetaData(), autoload_with=session.connection())
            session.execute(
                deliveries.insert().values(
                    letter_id=letter_id,
                    step="letter",
                    recipient=3,
                    envelope={"suite": "x25519"},
                    state="pending",
                    attempts=0,
                    reseals=2,
                    next_attempt_at=NOW,
                    created_at=NOW,
                )
            )


@pytest.mark.parametrize("revision", ["0003", "0002", "0001"])
def test_a_database_of_the_linear_schema_upgrades_with_its_data(database_url: str, revision: str) -> None:
    """0003 was the head: every gateway's database is there. 0002 and 0001 are older gateways'."""
    db = Database(database_url)
    try:
        _run(db, _legacy_config(), "upgrade", revision)
        _seed(db, revision)
        with db.engine.connect() as connection:
            before = _contents(connection)

        db.migrate()

        assert _versions(db) == {CORE_HEAD, "0002"}  # the core's head and the bank branch's
        assert _tables(db) == {*_models().tables, "alembic_version"}
        with db.engine.connect() as connection:
            after = _contents(connection)
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), _models()
            )
        assert differences == []
        for name, rows in before.items():  # every row as it was, in the columns it had
            columns = set().union(*rows)
            assert sorted(({c: row[c] for c in columns} for row in after[name]), key=_order) == rows, name
        assert sum(len(rows) for rows in before.values()) >= (5 if revision == "0001" else 8)
        if revision < "0003":
            assert {"reseals"} <= {c["name"] for c in inspect(db.engine).get_columns("outbox_deliveries")}
        db.migrate()
        assert _versions(db) == {CORE_HEAD, "0002"}
    finally:
        db.dispose()


def test_a_gateway_without_the_plugin_leaves_the_bank_tables_and_the_plugin_adopts_them(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        _run(db, _legacy_config(), "upgrade", "0003")
        _seed(db, "0003")
        db.migrate(plugins=[])
        assert _versions(db) == {CORE_HEAD}
        with db.engine.connect() as connection:
            before = _contents(connection)
        db.migrate()  # the bank adapter installed: its tables are adopted as they are
        assert _versions(db) == {CORE_HEAD, "0002"}
        with db.engine.connect() as connection:
            assert _contents(connection) == before
    finally:
        db.dispose()


def test_the_bank_branch_comes_and_goes_on_its_own(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate(plugins=[])
        assert _versions(db) == {CORE_HEAD}
        assert not _tables(db) & BANK_TABLES
        db.migrate()
        assert _versions(db) == {CORE_HEAD, "0002"}
        assert _tables(db) >= BANK_TABLES
        _run(db, alembic_config(), "downgrade", "bank@-1")
        assert _versions(db) == {CORE_HEAD}
        assert not _tables(db) & BANK_TABLES
        assert "letters" in _tables(db)
    finally:
        db.dispose()


def test_the_bank_adapter_is_an_installed_plugin_with_its_branch() -> None:
    (bank,) = [plugin for plugin in installed() if plugin.name == "bank"]
    assert bank.roles == frozenset({MemberRole.BANK})
    branch = bank.migrations()
    assert branch is not None
    assert branch.label == "bank"
    assert set(branch.metadata.tables) == BANK_TABLES


def test_the_auditee_reference_is_empty_until_authorised_and_its_salt_is_kept(database_url: str) -> None:
    """0012: a letter's auditee reference may be empty (not yet authorised) and a column keeps the
    salt the bank sends with its reply; letters of before keep their reference. Downgraded, a
    letter without a reference gets the zero one the old schema wants, and the salts go."""
    db = Database(database_url)
    before, after = new_letter_id(), new_letter_id()
    row = {
        "firm": 2,
        "bank": 3,
        "letter_hash": "0x" + "cd" * 32,
        "due_at": 1_767_139_200,
        "status": "REQUESTED",
    }
    try:
        db.migrate(plugins=[])
        _run(db, alembic_config(plugins=[]), "downgrade", "0011")
        with db.engine.begin() as connection:  # the columns of 0011 only, with the models' defaults
            connection.execute(
                insert(LetterRow).values(letter_id=before, auditee_ref="0x" + "ab" * 32, **row)
            )
        db.migrate(plugins=[])
        assert _versions(db) == {CORE_HEAD}
        salt = "0x" + "5a" * 32
        with db.session() as session:
            session.add(LetterRow(letter_id=after, auditee_ref=None, auditee_salt=salt, **row))
        with db.engine.connect() as connection:
            found = dict(connection.execute(select(LetterRow.letter_id, LetterRow.auditee_ref)).all())
            salts = set(connection.execute(select(LetterRow.auditee_salt)).scalars())
        assert found == {before: "0x" + "ab" * 32, after: None}
        assert salts == {None, salt}

        _run(db, alembic_config(plugins=[]), "downgrade", "0011")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("letters")}
            rows = connection.execute(text("SELECT letter_id, auditee_ref FROM letters")).all()
            references = {str(letter_id): reference for letter_id, reference in rows}
        assert "auditee_salt" not in columns
        assert references == {before: "0x" + "ab" * 32, after: "0x" + "00" * 32}
    finally:
        db.dispose()
