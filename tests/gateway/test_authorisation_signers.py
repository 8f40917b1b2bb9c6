"""POST /v1/authorisations with signers that are not ordinary keys (ERC-7913): the firm's gateway
checks the signature by the registry's own isValidAuditeeSignature (an eth_call) before it queues
it, and the letter is then authorised on chain. A firm's gateway on the in-process chain, its
outbox and indexer run by hand; the signers sign in Python as their devices do (tests/signer_kinds.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signer_kinds import AuditeeKeyOfAnyKind, new_key

from node_gateway.chain.authorisation import typed_data_digest
from node_gateway.chain.signers import signer_text
from node_gateway.protocol.hashing import from_hex, to_hex

from .test_firm_review import Firm, _firm

if TYPE_CHECKING:
    from conftest import Chain


def _signed(firm: Firm, letter_ids: list[str], key: AuditeeKeyOfAnyKind) -> dict[str, Any]:
    """The body of POST /v1/authorisations: the bundle the gateway prepares, signed by ``key``."""
    bundle = firm.http.post(
        "/v1/authorisations/requests", json={"letter_ids": letter_ids}, headers=firm.as_("assistant")
    )
    assert bundle.status_code == 200, bundle.text
    typed = bundle.json()["typed_data"]
    message = typed["message"]
    # The digest as the contract computes it, from the document the signer is shown.
    document = {**typed, "message": {**message, "requestsRoot": from_hex(message["requestsRoot"])}}
    return {
        "letter_ids": letter_ids,
        "requests_root": message["requestsRoot"],
        "firm": message["firm"],
        "valid_until": message["validUntil"],
        "nonce": message["nonce"],
        "signature": to_hex(key.sign_digest(typed_data_digest(document))),
        "signer": to_hex(key.signer),
    }


@pytest.fixture
def firm(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    yield from _firm(in_process, tmp_path)  # the review's firm, without the review


@pytest.mark.parametrize("kind", ["multisig", "webauthn", "rsa"])
def test_a_signer_that_is_no_ordinary_key_authorises_through_the_gateway(firm: Firm, kind: str) -> None:
    d = firm.deployed
    key = new_key(kind, d.network, d.operator.sender)
    d.register_mandate(d.bank, firm.reference, key.signer)
    letter_ids = [x["letter_id"] for x in firm.prepare(count=2)]
    firm.settle()
    body = _signed(firm, letter_ids, key)
    # Another key's claim to the same signature, and the signature with no signer named (an
    # ordinary key's recovery then finds an account with no mandate), are refused before the chain.
    other = new_key(kind, d.network, d.operator.sender)
    for wrong in ({**body, "signer": to_hex(other.signer)}, {**body, "signer": None}):
        refused = firm.http.post("/v1/authorisations", json=wrong, headers=firm.as_("assistant"))
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "invalid_request"
    accepted = firm.http.post("/v1/authorisations", json=body, headers=firm.as_("assistant"))
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["signer"] == signer_text(key.signer)
    firm.settle()
    for letter_id in letter_ids:
        view = firm.http.get(f"/v1/letters/{letter_id}", headers=firm.as_("assistant")).json()
        assert view["status"] == "AUTHORISED"
        assert view["authorisation"]["signer"] == signer_text(key.signer)
        assert view["history"][-1]["name"] == "LetterAuthorised"
