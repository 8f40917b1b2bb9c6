"""The firm's pages show each letter by its 函证编号 (the letter id stays in the link and its title):
the letters table and its CSV export, the authorisation picker, a letter's page. On a firm's
gateway over the in-process chain, letters created through the API (no workers run)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from gateway.api_apps import Gateway, client, gateway

from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.protocol.documents import AuditFirm, Bank
from node_gateway.protocol.samples import sample_letter
from web.test_bank_pages import PASSWORD, sign_in

if TYPE_CHECKING:
    from conftest import Chain


@pytest.fixture(scope="module")
def firm(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, list[str]]]:
    deployed = in_process.deploy()
    built = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("firm-numbers"))
    with built.node.db.session() as session:
        create_user(session, MemberRole.AUDIT_FIRM, "wang", {"auditor"}, password=PASSWORD)
        set_password(session, "wang", PASSWORD, one_time=False)
    letters = [
        sample_letter(
            audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
            bank=Bank(member_no=deployed.bank.member_id, name="东海银行股份有限公司"),
        )
        for _ in range(2)
    ]
    body = {"letters": [{"letter": letter.model_dump(mode="json", by_alias=True)} for letter in letters]}
    created = client(built.app).post("/v1/letters", json=body, headers=built.auth("auditor"))
    assert created.status_code == 201, created.text
    yield built, [letter.letter_id for letter in letters]
    built.node.db.dispose()


def test_the_letters_are_listed_by_their_numbers(firm: tuple[Gateway, list[str]]) -> None:
    built, ids = firm
    prefix = f"F{built.deployment.firm.member_id}-2025-"
    http = sign_in(built, "wang")
    page = http.get("/web/firm/letters").text
    for number, letter_id in enumerate(ids, start=1):
        assert f'title="{letter_id}"><code>{prefix}{number:06d}</code></a>' in page
        assert f'<code title="{letter_id}">{prefix}{number:06d}</code>' in page  # the authorisation picker
    exported = http.get("/web/firm/letters", params={"export": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert "函证编号" in rows[0]
    column = rows[0].index("函证编号")
    assert sorted(row[column] for row in rows[1:]) == [f"{prefix}000001", f"{prefix}000002"]
    letter_page = http.get(f"/web/firm/letters/{ids[1]}").text
    assert f"<title>询证函 {prefix}000002" in letter_page
