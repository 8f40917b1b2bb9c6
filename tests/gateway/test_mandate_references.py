"""The auditee reference the firm relays with an authorisation or refusal: found on chain from the
signer's mandates at the letters' bank (no salt from the auditor). One valid mandate there: its
reference goes on chain and into the letter's view; none: refused as not mandated; mandates for two
customers at one bank: refused as ambiguous (the bank must give each its own signer); a revoked
mandate is no candidate. A firm's gateway on the in-process chain, its outbox and indexer run by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from node_gateway.protocol.hashing import from_hex, to_hex

from .api_apps import signed_authorisation
from .test_firm_review import Firm, _firm

if TYPE_CHECKING:
    from conftest import Chain


@pytest.fixture
def firm(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    yield from _firm(in_process, tmp_path)


def _submit(firm: Firm, letter_ids: list[str], signer: LocalAccount, reason: int | None = None) -> Any:
    """POST /v1/authorisations with the bundle the gateway prepares, signed by ``signer``."""
    request: dict[str, Any] = {"letter_ids": letter_ids, "refusal_reason": reason}
    bundle = firm.http.post("/v1/authorisations/requests", json=request, headers=firm.as_("assistant"))
    assert bundle.status_code == 200, bundle.text
    assert all("auditee_ref" not in x for x in bundle.json()["letters"])  # the signer signs no reference
    body = signed_authorisation(bundle.json(), signer, reason)
    return firm.http.post("/v1/authorisations", json=body, headers=firm.as_("assistant"))


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _requested(firm: Firm, count: int = 1) -> list[str]:
    letter_ids = [x["letter_id"] for x in firm.prepare(count=count)]
    firm.settle()
    return letter_ids


def test_the_one_mandate_at_the_bank_gives_the_reference_on_chain(firm: Firm) -> None:
    d = firm.deployed
    letter_ids = _requested(firm, count=2)
    assert {firm.letter(x)["auditee_ref"] for x in letter_ids} == {None}  # none before the authorisation
    # The signer holds mandates at two banks (d.bank2 too): only the letters' bank counts.
    assert _submit(firm, letter_ids, d.signer).status_code == 202
    firm.settle()
    for letter_id in letter_ids:
        view = firm.letter(letter_id)
        assert (view["status"], view["auditee_ref"]) == ("AUTHORISED", to_hex(firm.reference))
        assert view["history"][-1]["args"]["auditeeRef"] == to_hex(firm.reference)
        assert d.confirmations.get_letter(from_hex(letter_id)).auditee_ref == firm.reference


def test_a_signer_without_a_mandate_at_the_bank_is_refused_as_before(firm: Firm) -> None:
    d = firm.deployed
    [letter_id] = _requested(firm)
    stranger = Account.create()
    d.register_mandate(d.bank2, os.urandom(32), stranger.address)  # at another bank only
    for reason in (None, 2):
        error = _error(_submit(firm, [letter_id], stranger, reason), 422)
        assert error["code"] == "invalid_request"
        assert f"holds no valid mandate of bank {d.bank.member_id}" in error["message"]
    assert firm.letter(letter_id)["auditee_ref"] is None


def test_mandates_for_two_customers_at_one_bank_are_ambiguous_until_one_is_revoked(firm: Firm) -> None:
    d = firm.deployed
    [letter_id] = _requested(firm)
    group_cfo = Account.create()  # mandated for two subsidiaries at the letters' bank
    first, second = os.urandom(32), os.urandom(32)
    d.register_mandate(d.bank, first, group_cfo.address)
    d.register_mandate(d.bank, second, group_cfo.address)
    for reason in (None, 2):
        error = _error(_submit(firm, [letter_id], group_cfo, reason), 409)
        assert error["code"] == "signer_mandate_ambiguous"
        assert f"several customers at bank {d.bank.member_id}" in error["message"]
    assert firm.letter(letter_id)["status"] == "REQUESTED"
    # A revoked mandate is no candidate: the remaining one's reference is relayed.
    d.send(d.bank, d.confirmations.revoke_mandate(first, group_cfo.address))
    assert _submit(firm, [letter_id], group_cfo).status_code == 202
    firm.settle()
    view = firm.letter(letter_id)
    assert (view["status"], view["auditee_ref"]) == ("AUTHORISED", to_hex(second))
