"""One network for the browser modules of this directory (the bank's pages, the banks' rules above
the composer, the composer and the bulk upload): each adds its own letters, for an auditee of its
own, and counts only what it added, so they share it. Starting anvil and the gateways is most of
such a module's time; the network is package-scoped, and one worker takes this directory's files
together (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from integration.harness import Consortium

from confirmnet.launcher import LocalNetwork, MemberSpec

from ..conftest import PASSWORD, add_user

AUDITOR = "王审计"  # the firm's auditor


@dataclass
class CoreBankNetwork:
    """An operator, an audit firm with its auditor (``AUDITOR``) and a bank whose gateway reads a
    core bank (the SQLite database at ``core_url``: the bank adapter drafts replies from it, and a
    draft with an exception waits for people)."""

    consortium: Consortium
    core_url: str

    @property
    def password_file(self) -> Path:
        """The web users' password (``PASSWORD``), for ``add_user``."""
        return self.consortium.network.base / "password.txt"


@pytest.fixture(scope="package")
def core_bank_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreBankNetwork]:
    base = tmp_path_factory.mktemp("web-core-bank")
    core_url = f"sqlite:///{base / 'core.db'}"
    members = [
        MemberSpec("operator", "中国银行业协会", "51100000500000074H"),
        MemberSpec("audit_firm", "明鉴会计师事务所", "91310000MA1FL0TE5Q"),
        MemberSpec("bank", "东海银行", "91310000132206210U", env={"CONFIRMNET_CORE_BANKING_URL": core_url}),
    ]
    local = LocalNetwork(base, members, passphrase="browser tests' passphrase, used nowhere else")
    try:
        local.start()
        network = CoreBankNetwork(Consortium(local), core_url)
        network.password_file.write_text(PASSWORD + "\n")
        add_user(network.consortium.firm, AUDITOR, "auditor", network.password_file)
        yield network
    finally:
        local.stop()
