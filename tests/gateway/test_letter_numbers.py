"""The 函证编号: the firm's gateway numbers each letter it creates (prefix, year, sequence), unique
per firm; the number is part of the stored (and hashed) document and is listed beside the letter id.

On a firm's gateway over the in-process chain through the user API (no workers run: a created
letter's request stays queued).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from node_gateway.core.config import MemberRole
from node_gateway.protocol.documents import AuditFirm, Bank, ConfirmationLetter, parse_letter
from node_gateway.protocol.hashing import as_salt, document_hash, to_hex
from node_gateway.protocol.samples import sample_letter
from node_gateway.services.letters import create_letters
from node_gateway.storage.models import LetterNumberRow, LetterRow

from .api_apps import Gateway, client, gateway
from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain, Deployment


@pytest.fixture(scope="module")
def deployed(in_process: Chain) -> Deployment:
    return in_process.deploy()


@pytest.fixture(scope="module")
def firm(deployed: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    built = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("numbers"))
    yield built
    built.node.db.dispose()


def _letter(deployed: Deployment, **changes: Any) -> ConfirmationLetter:
    return sample_letter(
        audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=deployed.bank.member_id, name="东海银行股份有限公司"),
        **changes,
    )


def _draft(letter: ConfirmationLetter) -> dict[str, Any]:
    return {"letter": letter.model_dump(mode="json", by_alias=True)}


def _create(firm: Gateway, *letters: ConfirmationLetter) -> list[str]:
    body = {"letters": [_draft(letter) for letter in letters]}
    response = client(firm.app).post("/v1/letters", json=body, headers=firm.auth("auditor"))
    assert response.status_code == 201, response.text
    return [summary["confirmation_no"] for summary in response.json()]


def test_each_letter_is_numbered_by_the_firm_s_gateway_in_sequence_per_year(
    firm: Gateway, deployed: Deployment
) -> None:
    prefix = f"F{deployed.firm.member_id}"
    first = _letter(deployed, issued_on=date(2025, 1, 6))
    second = _letter(deployed, issued_on=date(2025, 1, 7))
    next_year = _letter(deployed, reference_date=date(2025, 12, 31), issued_on=date(2026, 1, 5))
    assert first.confirmation_no is None  # a draft has none
    assert _create(firm, first, second, next_year) == [
        f"{prefix}-2025-000001",
        f"{prefix}-2025-000002",
        f"{prefix}-2026-000001",
    ]
    assert _create(firm, _letter(deployed)) == [f"{prefix}-2025-000003"]  # the next request goes on

    http = client(firm.app)
    listed = http.get("/v1/letters", headers=firm.auth("auditor")).json()["items"]
    numbers = {item["letter_id"]: item["confirmation_no"] for item in listed}
    assert numbers[first.letter_id] == f"{prefix}-2025-000001"
    assert len(set(numbers.values())) == len(numbers)  # unique per firm
    # The number is part of the document the gateway stores, hashes and sends.
    detail = http.get(f"/v1/letters/{second.letter_id}", headers=firm.auth("auditor")).json()
    assert detail["confirmation_no"] == detail["letter"]["confirmation_no"] == f"{prefix}-2025-000002"
    assert {k: v for k, v in detail["letter"].items() if k != "confirmation_no"} == {
        k: v for k, v in second.model_dump(mode="json", by_alias=True).items() if k != "confirmation_no"
    }


def test_a_draft_that_brings_its_own_number_is_refused_and_uses_none_up(
    firm: Gateway, deployed: Deployment
) -> None:
    http = client(firm.app)
    own = _letter(deployed, issued_on=date(2024, 3, 1), confirmation_no="XX-2024-000009")
    response = http.post("/v1/letters", json={"letters": [_draft(own)]}, headers=firm.auth("auditor"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert "函证编号" in response.json()["error"]["message"]
    assert http.get(f"/v1/letters/{own.letter_id}", headers=firm.auth("auditor")).status_code == 404
    prefix = f"F{deployed.firm.member_id}"
    assert _create(firm, _letter(deployed, issued_on=date(2024, 3, 1))) == [f"{prefix}-2024-000001"]


def test_the_firm_s_configured_prefix(deployed: Deployment, tmp_path: Any) -> None:
    node = gateway_node(deployed, deployed.firm, tmp_path, letter_number_prefix="MJ")
    try:
        with node.db.session() as session:
            (row,) = create_letters(node, session, [(_letter(deployed, issued_on=date(2025, 2, 1)), None)])
            assert row.confirmation_no == "MJ-2025-000001"
    finally:
        node.db.dispose()


def test_the_numbered_letter_is_the_draft_with_its_number(firm: Gateway, deployed: Deployment) -> None:
    """Numbering checks the number alone: the stored document reads back as the same letter, and
    its hash on the row is that document's."""
    draft = _letter(deployed, issued_on=date(2023, 5, 2))
    [number] = _create(firm, draft)
    with firm.node.db.session() as session:
        row = session.get(LetterRow, draft.letter_id)
        assert row is not None
        stored = firm.node.vault.open(row.letter_id, "letter", row.letter_sealed or b"")
        letter_hash = row.letter_hash
    assert parse_letter(stored.canonical) == draft.model_copy(update={"confirmation_no": number})
    assert to_hex(document_hash(parse_letter(stored.canonical), as_salt(stored.salt))) == letter_hash


def test_a_number_beyond_the_years_sequence_is_refused(firm: Gateway, deployed: Deployment) -> None:
    with firm.node.db.session() as session:
        session.add(LetterNumberRow(year=2022, last=999_999))
    late = _letter(deployed, issued_on=date(2022, 12, 30))
    response = client(firm.app).post(
        "/v1/letters", json={"letters": [_draft(late)]}, headers=firm.auth("auditor")
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_document"
    assert (
        client(firm.app).get(f"/v1/letters/{late.letter_id}", headers=firm.auth("auditor")).status_code == 404
    )
