"""The steps people take, through the gateways' user APIs, for integration tests."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from node_gateway.chain.network import Network, NetworkFile, connect
from node_gateway.protocol.documents import (
    Auditee,
    AuditFirm,
    Bank,
    ConfirmationLetter,
    ConfirmationReply,
    Officer,
    uscc,
)
from node_gateway.protocol.samples import sample_letter, sample_reply

from .harness import Consortium, Gateway, wait_until


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def member_id(gateway: Gateway) -> int:
    value: int = gateway.identity()["member_id"]
    return value


def chain(consortium: Consortium) -> Network:
    network_file = NetworkFile.load(consortium.network_file)
    return Network.attach(connect(network_file.rpc_url), network_file)


def letter_view(gateway: Gateway, user: str, letter_id: str) -> dict[str, Any]:
    with gateway.client(user) as client:
        view: dict[str, Any] = ok(client.get(f"/v1/letters/{letter_id}"))
        return view


def wait_status(gateway: Gateway, user: str, letter_id: str, status: str, timeout_s: float = 60) -> None:
    wait_until(
        lambda: letter_view(gateway, user, letter_id)["status"] == status,
        timeout_s,
        f"{letter_id[:10]} to be {status} at {gateway.name}",
    )


@dataclass
class Customer:
    """An audited company: its registration code, its signer on the bank's mandate (under the
    company's reference at the bank, which the bank computes: nobody hands it a salt)."""

    registration_code: str
    name: str
    signer: LocalAccount


def new_auditee(consortium: Consortium, index: int, signer: LocalAccount | None = None) -> Customer:
    """A customer of the consortium's bank with ``signer`` (default a new key) on its mandate."""
    code = uscc(f"91310000MA1G{index:05d}")
    signer = signer or Account.create()
    with consortium.bank.client("officer") as bank:
        reference = ok(bank.get(f"/v1/customers/{code}/reference"))
        until = int(time.time()) + 365 * 86400
        ok(
            bank.post(
                "/v1/mandates",
                json={"registration_code": code, "signer": signer.address, "valid_until": until},
            ),
            202,
        )
    network, bank_id = chain(consortium), member_id(consortium.bank)
    ref = bytes.fromhex(reference["auditee_ref"][2:])
    wait_until(
        lambda: network.confirmations.mandate_valid_until(bank_id, ref, signer.address) > 0, 30, "mandate"
    )
    return Customer(code, f"苏州测试{index}号精密制造有限公司", signer)


def compose(consortium: Consortium, auditee: Customer) -> ConfirmationLetter:
    return sample_letter(
        audit_firm=AuditFirm(member_no=member_id(consortium.firm), name=consortium.firm.name),
        bank=Bank(member_no=member_id(consortium.bank), name=consortium.bank.name),
        auditee=Auditee(name=auditee.name, registration_code=auditee.registration_code),
    )


def request(consortium: Consortium, letters: list[ConfirmationLetter]) -> list[dict[str, Any]]:
    """The firm requests ``letters``: no salt, no reference; the auditee's signer brings its own."""
    body = {"letters": [{"letter": x.model_dump(mode="json", by_alias=True)} for x in letters]}
    with consortium.firm.client("auditor") as firm:
        created: list[dict[str, Any]] = ok(firm.post("/v1/letters", json=body), 201)
    for row in created:
        wait_status(consortium.firm, "auditor", row["letter_id"], "REQUESTED")
    return created


def sign_and_submit(
    consortium: Consortium,
    letter_ids: list[str],
    signer: LocalAccount,
    *,
    refusal_reason: int | None = None,
    firm_gateway: Gateway | None = None,
    status: int = 202,
) -> dict[str, Any]:
    """The auditee's signer signs what the firm (the consortium's, or ``firm_gateway``) asks; the
    firm's answer, of HTTP ``status``."""
    with (firm_gateway or consortium.firm).client("auditor") as firm:
        bundle = ok(
            firm.post(
                "/v1/authorisations/requests",
                json={"letter_ids": letter_ids, "refusal_reason": refusal_reason},
            )
        )
        typed = bundle["typed_data"]
        signature = signer.sign_message(encode_typed_data(full_message=typed)).signature
        message = typed["message"]
        body = {
            "letter_ids": letter_ids,
            "requests_root": message["requestsRoot"],
            "firm": message["firm"],
            "valid_until": message["validUntil"],
            "nonce": message["nonce"],
            "signature": "0x" + signature.hex(),
            "reason": refusal_reason,
        }
        result: dict[str, Any] = ok(firm.post("/v1/authorisations", json=body), status)
        return result


def wait_in_inbox(consortium: Consortium, letter_ids: list[str], timeout_s: float = 60) -> None:
    def arrived() -> bool:
        with consortium.bank.client("officer") as bank:
            inbox = {x["letter_id"] for x in ok(bank.get("/v1/inbox"))}
        return set(letter_ids) <= inbox

    wait_until(arrived, timeout_s, f"{len(letter_ids)} letters in the bank's inbox")


# The people behind a bank's provisioned users, as its admin records them: replies name them so.
BANK_PEOPLE = {
    "admin": ("李华", "运营管理部经理"),
    "preparer": ("陈晓明", "对公业务经办"),
    "reviewer": ("刘建国", "运营主管"),
}


def bank_officer(user: str) -> Officer:
    name, title = BANK_PEOPLE[user]
    return Officer(officer_id=user, name=name, title=title)


def name_officers(bank: Gateway) -> None:
    """The bank's admin records who its users are (``PUT /v1/bank/officers/{user}``); idempotent."""
    with bank.client("admin") as client:
        for user, (name, title) in BANK_PEOPLE.items():
            ok(client.put(f"/v1/bank/officers/{user}", json={"name": name, "title": title}))


def reviewed(reply: ConfirmationReply) -> ConfirmationReply:
    """The reply as the bank's user "reviewer" approves it (the API records the caller as checker)."""
    return reply.model_copy(update={"reviewer": bank_officer("reviewer")})


def prepared(bank: Gateway, reply: ConfirmationReply) -> ConfirmationReply:
    """The maker's half: the bank's user "preparer" drafts ``reply`` (the letter accepted); the
    reply as it then names them, and "reviewer" as the checker who posts it to
    ``/v1/letters/{id}/reply``."""
    name_officers(bank)
    body = {"items": reply.items.model_dump(mode="json"), "remarks": reply.remarks}
    with bank.client("preparer") as client:
        ok(client.post(f"/v1/bank/letters/{reply.letter_id}/draft", json=body), 201)
        # The reply quotes the 函证编号 the firm's gateway gave the letter.
        number = ok(client.get(f"/v1/bank/letters/{reply.letter_id}"))["letter"]["confirmation_no"]
    update = {"preparer": bank_officer("preparer"), "confirmation_no": number or reply.letter_id}
    return reviewed(reply.model_copy(update=update))


def accept_and_reply(
    consortium: Consortium, letter: ConfirmationLetter, letter_hash: str, **kwargs: Any
) -> None:
    with consortium.bank.client("officer") as bank:
        ok(bank.post(f"/v1/letters/{letter.letter_id}/accept"), 202)
    reply = prepared(
        consortium.bank, sample_reply(letter, letter_hash=bytes.fromhex(letter_hash[2:]), **kwargs)
    )
    with consortium.bank.client("reviewer") as bank:
        ok(
            bank.post(
                f"/v1/letters/{letter.letter_id}/reply",
                json={"reply": reply.model_dump(mode="json", by_alias=True)},
            ),
            202,
        )


def close_when_replied(consortium: Consortium, letter_id: str) -> dict[str, Any]:
    wait_until(
        lambda: letter_view(consortium.firm, "auditor", letter_id)["reply_verified"], 60, "reply delivered"
    )
    with consortium.firm.client("auditor") as firm:
        reply: dict[str, Any] = ok(firm.get(f"/v1/letters/{letter_id}/reply"))
        ok(firm.post(f"/v1/letters/{letter_id}/close"), 202)
    wait_status(consortium.firm, "auditor", letter_id, "CLOSED")
    return reply
