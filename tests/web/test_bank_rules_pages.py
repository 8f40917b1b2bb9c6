"""The composer shows each bank's business rules before a letter is written, as the firm's gateway
keeps them (checked against the bank's signature); a bank without published rules says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gateway.test_bank_rules import _rules
from gateway.test_firm_review import Firm, _firm

from node_gateway.protocol.bank_rules import sign_rules
from node_gateway.services.bank_rules import keep_rules, refresh_all
from web.test_firm_review_pages import _signed_in, _with_passwords

if TYPE_CHECKING:
    from conftest import Chain


@pytest.fixture
def firm(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    for built in _firm(in_process, tmp_path):
        yield _with_passwords(built)


def test_the_composer_shows_the_banks_rules_first(firm: Firm) -> None:
    bank, bank2 = firm.deployed.bank, firm.deployed.bank2
    with firm.node.db.session() as session:
        keep_rules(session, bank.member_id, sign_rules(_rules(bank.member_id), bank.sender.account))
    assert refresh_all(firm.node) == 1  # the kept copy is fresh; bank2 publishes none and is left out
    page = _signed_in(firm, "assistant").get("/web/firm/compose")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.index('data-testid="bank-rules"') < html.index('data-testid="compose-form"')
    shown = html[html.index(f'data-testid="bank-rules-{bank.member_id}"') :]
    shown = shown[: shown.index("</details>")]
    assert "1 银行存款、2 银行借款" in shown
    assert "格式一" in shown
    assert "每份 150.00 元" in shown
    assert "函证中心 · 周敏 021-6888 1234" in shown
    assert "2026-11-30 17:00 · ✓ 银行签名已核验" in shown  # Beijing time
    missing = html[html.index(f'data-testid="bank-rules-{bank2.member_id}"') :]
    assert "尚未取得该行发布的业务规则" in missing[: missing.index("</details>")]
