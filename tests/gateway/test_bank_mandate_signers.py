"""A bank mandates signers of every ERC-7913 kind through its API (POST /v1/mandates): an account,
or a key for one of the network's verifiers (a passkey here), each registered on chain by the
outbox and revoked the same way; a key for any other verifier, or no signer at all, is refused
with invalid_request. A bank's gateway on the in-process chain, its outbox run by hand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from node_gateway.chain.signers import key_signer, signer_text
from node_gateway.core.config import MemberRole
from node_gateway.protocol.hashing import from_hex
from node_gateway.services.outbox import TransactionOutbox

from .api_apps import client, gateway

if TYPE_CHECKING:
    from conftest import Chain

CODE = "91310000MA1FL0TE5Q"
YEAR = 365 * 24 * 3600


def test_a_bank_mandates_and_revokes_a_passkey_and_refuses_other_keys(
    in_process: Chain, tmp_path: Path
) -> None:
    deployed = in_process.deploy()
    bank = gateway(deployed, MemberRole.BANK, tmp_path)
    http, officer = client(bank.app), bank.auth("officer")
    verifiers = deployed.network.verifiers
    assert verifiers is not None
    passkey = signer_text(key_signer(verifiers.webauthn, os.urandom(64)))
    until = deployed.now() + YEAR
    created = http.post(
        "/v1/mandates",
        json={"registration_code": CODE, "signer": passkey, "valid_until": until},
        headers=officer,
    )
    assert created.status_code == 202, created.text
    assert created.json()["signer"] == passkey
    reference = from_hex(created.json()["auditee_ref"])
    outbox = TransactionOutbox(bank.node)
    while outbox.run_once():
        pass
    on_chain = deployed.confirmations.mandate_valid_until
    assert on_chain(deployed.bank.member_id, reference, passkey) == until
    listed = http.get("/v1/mandates", headers=officer).json()
    assert [(m["signer"], m["revoked"]) for m in listed] == [(passkey, False)]

    unknown_verifier = signer_text(key_signer(deployed.stranger.address, os.urandom(64)))
    for bad in (unknown_verifier, "0x" + "ab" * 19, "0x" + "ab" * 1025):
        refused = http.post(
            "/v1/mandates",
            json={"registration_code": CODE, "signer": bad, "valid_until": until},
            headers=officer,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "invalid_request"

    revoked = http.delete(f"/v1/mandates/{CODE}/{passkey}", headers=officer)
    assert revoked.status_code == 202, revoked.text
    while outbox.run_once():
        pass
    assert on_chain(deployed.bank.member_id, reference, passkey) == 0
    bank.node.db.dispose()
