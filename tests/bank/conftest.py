"""Fixtures of the bank adapter's tests: the reference core bank on SQLite and on PostgreSQL.

``database_url`` and ``postgres_cluster`` are the gateway tests' (one empty database per test, on
each backend); the core bank takes such a URL as its own database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway.conftest import database, database_url, postgres_cluster

from bank_adapter.core_sql import CoreBank
from bank_adapter.generator import dataset_from_letter
from node_gateway.protocol.documents import ConfirmationLetter
from node_gateway.protocol.samples import sample_letter

__all__ = ["core", "database", "database_url", "letter", "postgres_cluster"]


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
