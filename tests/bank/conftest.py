"""Fixtures of the bank adapter's tests: the reference core bank on SQLite and on PostgreSQL.

``database_url`` and ``postgres_cluster`` are the gateway tests' (one empty database per test, on
each backend); the core bank takes such a URL as its own database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from gateway.conftest import database, database_url, postgres_cluster

from bank_adapter.core_sql import CoreBank
from bank_adapter.generator import dataset_from_letter
from node_gateway.chain.contracts import LetterStatus
from node_gateway.node import Node
from node_gateway.protocol.documents import ConfirmationLetter
from node_gateway.protocol.hashing import canonical_bytes, document_hash, new_salt, to_hex
from node_gateway.protocol.samples import sample_letter
from node_gateway.services import letters
from node_gateway.storage.models import LetterRow, utcnow
from node_gateway.storage.vault import StoredDocument

__all__ = ["core", "database", "database_url", "letter", "postgres_cluster", "store_received"]


@pytest.fixture
def core(database_url: str) -> Iterator[CoreBank]:
    """An empty reference core bank on each backend."""
    bank = CoreBank(database_url)
    yield bank
    bank.dispose()


@pytest.fixture
def letter() -> ConfirmationLetter:
    """The sample format-one letter."""
    return sample_letter()


@pytest.fixture
def sample_core(tmp_path_factory: pytest.TempPathFactory, letter: ConfirmationLetter) -> Iterator[CoreBank]:
    """A core bank (SQLite) whose records make every figure of the sample letter right."""
    bank = CoreBank(f"sqlite:///{tmp_path_factory.mktemp('core') / 'core.db'}")
    bank.load(dataset_from_letter(letter))
    yield bank
    bank.dispose()


def store_received(node: Node, letter: ConfirmationLetter, status: LetterStatus) -> str:
    """Stores ``letter`` in ``status`` as its bank's gateway holds a letter it received, authorised
    under the bank's own reference for the auditee (so the bank may answer it); its letter hash."""
    salt = new_salt()
    letter_hash = to_hex(document_hash(letter, salt))
    with node.db.session() as session:
        session.add(
            LetterRow(
                letter_id=letter.letter_id,
                firm=letter.audit_firm.member_no,
                bank=letter.bank.member_no,
                auditee_ref=letters.customer_reference(node, letter.auditee.registration_code)[1],
                letter_hash=letter_hash,
                due_at=int(time.time()) + 30 * 86400,
                status=status.name,
                letter_sealed=node.vault.seal(
                    letter.letter_id, "letter", StoredDocument(canonical_bytes(letter), salt)
                ),
                received_at=utcnow(),
            )
        )
    return letter_hash
