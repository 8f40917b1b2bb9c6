"""One consortium (anvil and four gateway processes) for the whole integration session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Consortium, start_consortium


@pytest.fixture(scope="session")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    yield from start_consortium(tmp_path_factory.mktemp("consortium"))
