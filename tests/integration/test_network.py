"""The whole network over real HTTP: anvil and four gateway processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from node_gateway.protocol.documents import AuditFirm, Bank
from node_gateway.protocol.samples import sample_letter, sample_reply

from .harness import Consortium, Gateway, start_consortium, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    yield from start_consortium(tmp_path_factory.mktemp("consortium"))


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _member_id(gateway: Gateway) -> int:
    member_id: int = gateway.identity()["member_id"]
    return member_id


def _letter_status(gateway: Gateway, user: str, letter_id: str) -> str:
    with gateway.client(user) as client:
        status: str = _ok(client.get(f"/v1/letters/{letter_id}"))["status"]
        return status


def _mandated_signer(consortium: Consortium, registration_code: str) -> tuple[LocalAccount, str]:
    """A signer of the auditee on the bank's mandate, and the auditee's reference salt."""
    signer: LocalAccount = Account.create()
    with consortium.bank.client("officer") as bank:
        reference = _ok(bank.get(f"/v1/customers/{registration_code}/reference"))
        _ok(
            bank.post(
                "/v1/mandates",
                json={
                    "registration_code": registration_code,
                    "signer": signer.address,
                    "valid_until": int(time.time()) + 86400 * 365,
                },
            ),
            202,
        )
    wait_until(lambda: _mandate_on_chain(consortium, reference["auditee_ref"], signer.address), 30, "mandate")
    salt: str = reference["salt"]
    return signer, salt


def _mandate_on_chain(consortium: Consortium, auditee_ref: str, signer: str) -> bool:
    from node_gateway.chain.network import Network, NetworkFile, connect

    network_file = NetworkFile.load(consortium.network_file)
    network = Network.attach(connect(network_file.rpc_url), network_file)
    bank = _member_id(consortium.bank)
    return network.confirmations.mandate_valid_until(bank, bytes.fromhex(auditee_ref[2:]), signer) > 0


def test_a_letter_from_request_to_close(consortium: Consortium) -> None:
    firm_id, bank_id = _member_id(consortium.firm), _member_id(consortium.bank)
    letter = sample_letter(
        audit_firm=AuditFirm(member_no=firm_id, name=consortium.firm.name),
        bank=Bank(member_no=bank_id, name=consortium.bank.name),
    )
    signer, salt = _mandated_signer(consortium, letter.auditee.registration_code)
    with consortium.firm.client("auditor") as firm:
        created = _ok(
            firm.post(
                "/v1/letters",
                json={
                    "letters": [
                        {"letter": letter.model_dump(mode="json", by_alias=True), "auditee_salt": salt}
                    ]
                },
            ),
            201,
        )
        letter_id = created[0]["letter_id"]
        wait_until(
            lambda: _letter_status(consortium.firm, "auditor", letter_id) == "REQUESTED", 30, "request"
        )
        bundle = _ok(firm.post("/v1/authorisations/requests", json={"letter_ids": [letter_id]}))
        typed = bundle["typed_data"]
        signature = signer.sign_message(encode_typed_data(full_message=typed)).signature
        message = typed["message"]
        _ok(
            firm.post(
                "/v1/authorisations",
                json={
                    "letter_ids": [letter_id],
                    "requests_root": message["requestsRoot"],
                    "firm": message["firm"],
                    "valid_until": message["validUntil"],
                    "nonce": message["nonce"],
                    "signature": "0x" + signature.hex(),
                },
            ),
            202,
        )
    with consortium.bank.client("officer") as bank:
        wait_until(
            lambda: any(x["letter_id"] == letter_id for x in _ok(bank.get("/v1/inbox"))), 60, "delivery"
        )
        _ok(bank.post(f"/v1/letters/{letter_id}/accept"), 202)
        reply = sample_reply(letter, letter_hash=bytes.fromhex(created[0]["letter_hash"][2:]))
        _ok(
            bank.post(
                f"/v1/letters/{letter_id}/reply", json={"reply": reply.model_dump(mode="json", by_alias=True)}
            ),
            202,
        )
    with consortium.firm.client("auditor") as firm:
        wait_until(lambda: _ok(firm.get(f"/v1/letters/{letter_id}"))["reply_verified"], 60, "reply delivered")
        fetched = _ok(firm.get(f"/v1/letters/{letter_id}/reply"))
        assert fetched["verified"] is True
        assert fetched["reply"]["letter_id"] == letter_id
        _ok(firm.post(f"/v1/letters/{letter_id}/close"), 202)
        wait_until(lambda: _letter_status(consortium.firm, "auditor", letter_id) == "CLOSED", 30, "close")
        history = [step["name"] for step in _ok(firm.get(f"/v1/letters/{letter_id}"))["history"]]
    assert history == [
        "LetterRequested",
        "LetterAuthorised",
        "LetterAccepted",
        "LetterReplied",
        "LetterClosed",
    ]
