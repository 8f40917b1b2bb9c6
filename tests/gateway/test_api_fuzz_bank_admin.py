"""Schemathesis against the bank's gateway, with its bank adapter, with its admin's key
(how: tests/gateway/api_fuzz.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from node_gateway.core.config import MemberRole
from node_gateway.core.security import ADMIN

from .api_fuzz import fuzz_the_gateway

if TYPE_CHECKING:
    from conftest import Chain


@pytest.mark.slow
def test_no_server_error_nor_undocumented_answer(in_process: Chain, tmp_path: Path) -> None:
    fuzz_the_gateway(MemberRole.BANK, in_process, tmp_path, [ADMIN])
