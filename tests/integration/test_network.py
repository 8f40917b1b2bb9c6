"""The whole network over real HTTP: anvil and four gateway processes on loopback.

One consortium serves the module: the season test runs letters through every ending, then checks
the regulator's statistics, every document against the chain, and that nothing on chain reveals
a letter's data; the peer tests then attack the bank's peer API.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
from eth_account import Account
from hexbytes import HexBytes
from sqlalchemy import select

from node_gateway.core.keys import load_keys
from node_gateway.peer.signing import sign_peer_request
from node_gateway.protocol.documents import ConfirmationLetter, RefusalReason, RejectionReason
from node_gateway.protocol.envelopes import decode_public_keys, seal
from node_gateway.protocol.hashing import new_salt
from node_gateway.protocol.samples import sample_reply
from node_gateway.services.delivery import PEER_ENVELOPES_PATH, EnvelopeContent
from node_gateway.storage.db import Database
from node_gateway.storage.models import LetterRow, OutboxDelivery, utcnow
from node_gateway.storage.vault import Vault

from .flows import (
    accept_and_reply,
    chain,
    close_when_replied,
    compose,
    letter_view,
    member_id,
    new_auditee,
    ok,
    request,
    sign_and_submit,
    wait_in_inbox,
    wait_status,
)
from .harness import PASSPHRASE, Consortium, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def season(consortium: Consortium) -> dict[str, Any]:
    """An audit season in miniature: every way a letter can end, through the real gateways."""
    auditee = new_auditee(consortium, 1)
    letters = [compose(consortium, auditee) for _ in range(6)]
    created = {row["letter_id"]: row for row in request(consortium, letters)}
    closed, exception, rejected, withdrawn, refused, waiting = letters
    # One batch signature authorises five letters; the auditee refuses the sixth.
    batch = [x.letter_id for x in (closed, exception, rejected, withdrawn, waiting)]
    assert sign_and_submit(consortium, batch, auditee.signer)["letters"] == 5
    sign_and_submit(
        consortium, [refused.letter_id], auditee.signer, refusal_reason=RefusalReason.WRONG_CONTENT
    )
    wait_in_inbox(consortium, batch)
    accept_and_reply(consortium, closed, created[closed.letter_id]["letter_hash"])
    accept_and_reply(consortium, exception, created[exception.letter_id]["letter_hash"], with_exception=True)
    with consortium.bank.client("officer") as bank:
        ok(
            bank.post(
                f"/v1/letters/{rejected.letter_id}/reject", json={"reason": RejectionReason.INCOMPLETE}
            ),
            202,
        )
    with consortium.firm.client("auditor") as firm:
        ok(firm.post(f"/v1/letters/{withdrawn.letter_id}/withdraw"), 202)
        ok(firm.post(f"/v1/letters/{waiting.letter_id}/follow-up"), 202)
    replies = {x.letter_id: close_when_replied(consortium, x.letter_id) for x in (closed, exception)}
    wait_status(consortium.firm, "auditor", rejected.letter_id, "REJECTED")
    wait_status(consortium.firm, "auditor", withdrawn.letter_id, "WITHDRAWN")
    wait_status(consortium.firm, "auditor", refused.letter_id, "REFUSED")
    return {"letters": letters, "created": created, "replies": replies, "auditee": auditee}


def test_every_ending_reaches_both_parties(consortium: Consortium, season: dict[str, Any]) -> None:
    closed, exception, rejected, withdrawn, refused, waiting = season["letters"]
    expected = {
        closed: "CLOSED",
        exception: "CLOSED",
        rejected: "REJECTED",
        withdrawn: "WITHDRAWN",
        refused: "REFUSED",
        waiting: "AUTHORISED",
    }
    for letter, status in expected.items():
        wait_status(consortium.bank, "officer", letter.letter_id, status)
        assert letter_view(consortium.firm, "auditor", letter.letter_id)["status"] == status
    view = letter_view(consortium.firm, "auditor", closed.letter_id)
    assert [step["name"] for step in view["history"]] == [
        "LetterRequested",
        "LetterAuthorised",
        "LetterAccepted",
        "LetterReplied",
        "LetterClosed",
    ]
    assert letter_view(consortium.firm, "auditor", rejected.letter_id)["reason"] == RejectionReason.INCOMPLETE
    assert letter_view(consortium.firm, "auditor", refused.letter_id)["reason"] == RefusalReason.WRONG_CONTENT
    waiting_view = letter_view(consortium.firm, "auditor", waiting.letter_id)
    assert "LetterFollowedUp" in [step["name"] for step in waiting_view["history"]]
    exception_reply = season["replies"][exception.letter_id]["reply"]
    assert exception_reply["items"]["deposits"]["status"] == "exception"
    # The bank received the refused letter's request but never its document.
    assert letter_view(consortium.bank, "officer", refused.letter_id)["has_letter"] is False


def test_regulator_statistics_match_what_happened(consortium: Consortium, season: dict[str, Any]) -> None:
    bank_id = member_id(consortium.bank)
    # The bank's own list: every letter addressed to it, from every firm (the consortium is shared
    # by the integration files, and test_firm_review's second firm may have written to this bank).
    with consortium.bank.client("officer") as bank:
        statuses = [x["status"] for x in ok(bank.get("/v1/letters", params={"limit": 1000}))["items"]]
    with consortium.regulator.client("analyst") as regulator:

        def indexed() -> list[dict[str, Any]]:
            stats: list[dict[str, Any]] = ok(regulator.get("/v1/statistics", params={"bank": bank_id}))
            return stats if stats and stats[0]["letters_received"] == len(statuses) else []

        stats = wait_until(indexed, 30, "the regulator to index every letter")[0]
    assert stats["replied"] == statuses.count("CLOSED") + statuses.count("REPLIED")
    assert stats["rejected"] == statuses.count("REJECTED")
    assert stats["withdrawn"] == statuses.count("WITHDRAWN")
    assert stats["refused"] == statuses.count("REFUSED")
    assert stats["awaiting"] == statuses.count("AUTHORISED") + statuses.count("ACCEPTED")
    assert stats["overdue"] == 0
    assert stats["median_reply_seconds"] is not None


def test_every_document_verifies_against_the_chain(consortium: Consortium, season: dict[str, Any]) -> None:
    firm_keys = load_keys(consortium.firm.data_dir / "keys", PASSPHRASE)
    with consortium.regulator.client("analyst") as regulator:
        for reply in season["replies"].values():
            result = ok(
                regulator.post(
                    "/v1/verify", json={"kind": "reply", "document": reply["reply"], "salt": reply["salt"]}
                )
            )
            assert result["valid"], result
            tampered = json.loads(json.dumps(reply["reply"]))
            tampered["replied_on"] = "2025-01-09"
            bad = ok(
                regulator.post(
                    "/v1/verify", json={"kind": "reply", "document": tampered, "salt": reply["salt"]}
                )
            )
            assert not bad["valid"]
            assert bad["code"] == "hash_mismatch"
        # The firm's evidence of each letter: its document and salt, from its encrypted store.
        db = Database(f"sqlite:///{consortium.firm.data_dir / 'gateway.db'}")
        vault = Vault(firm_keys.storage_key)
        with db.session() as session:
            rows = [session.get(LetterRow, x.letter_id) for x in season["letters"]]
        db.dispose()
        for row in rows:
            assert row is not None
            assert row.letter_sealed is not None
            stored = vault.open(row.letter_id, "letter", row.letter_sealed)
            result = ok(
                regulator.post(
                    "/v1/verify",
                    json={
                        "kind": "letter",
                        "document": json.loads(stored.canonical),
                        "salt": "0x" + stored.salt.hex(),
                    },
                )
            )
            assert result["valid"], result


def _encodings(text: str) -> set[bytes]:
    forms = {text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be"), text.encode("gb18030")}
    forms |= {f.hex().encode() for f in list(forms)} | {base64.b64encode(f) for f in list(forms)}
    return {f for f in forms if len(f) >= 6}


def _amount_encodings(amount: Decimal) -> set[bytes]:
    cents = int(amount * 100)
    forms = _encodings(f"{amount:.2f}") | _encodings(str(cents))
    forms |= {cents.to_bytes(32, "big"), int(amount).to_bytes(32, "big")} if cents >= 10**6 else set()
    return forms


def _secrets_of(letter: ConfirmationLetter) -> dict[str, set[bytes]]:
    found = {
        "auditee name": _encodings(letter.auditee.name),
        "auditee code": _encodings(letter.auditee.registration_code),
    }
    for entry in letter.items.deposits.entries:
        found[f"account {entry.account_no}"] = _encodings(entry.account_no)
        if entry.balance is not None and entry.balance >= 10_000:
            found[f"amount {entry.balance}"] = _amount_encodings(entry.balance)
    for loan in letter.items.loans.entries:
        found[f"loan {loan.account_no}"] = _encodings(loan.account_no)
        if loan.principal is not None and loan.principal >= 10_000:
            found[f"amount {loan.principal}"] = _amount_encodings(loan.principal)
    return found


def test_nothing_on_chain_reveals_a_letter(consortium: Consortium, season: dict[str, Any]) -> None:
    network = chain(consortium)
    w3 = network.w3
    blobs: list[bytes] = []
    for number in range(network.deployment_block, w3.eth.block_number + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            assert not isinstance(tx, HexBytes | bytes)
            blobs.append(bytes(tx["input"]))
            for log in w3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                blobs.append(bytes(log["data"]) + b"".join(bytes(t) for t in log["topics"]))
    everything = b"\x00".join(blobs)
    assert len(blobs) > 20
    for letter in season["letters"]:
        for what, forms in _secrets_of(letter).items():
            for form in forms:
                assert form not in everything, f"{what} appears on chain as {form[:40]!r}"


# --- attacks on the bank's peer API --------------------------------------------------------------


def _peer_post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        url + PEER_ENVELOPES_PATH,
        content=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
    )


def _envelope_for(
    consortium: Consortium, letter: ConfirmationLetter, recipient: int, *, to_key_of: int
) -> bytes:
    network = chain(consortium)
    keys = decode_public_keys(network.members.get_member(to_key_of).encryption_keys)
    content = EnvelopeContent(document="{}", salt=new_salt().hex())
    envelope = seal(
        content.model_dump_json().encode(),
        next(iter(keys.values())),
        letter_id=letter.letter_id,
        step="letter",
        sender=member_id(consortium.firm),
        recipient=recipient,
    )
    return envelope.model_dump_json().encode()


def _signed(
    consortium: Consortium, body: bytes, *, key: Any = None, sender: int | None = None
) -> dict[str, str]:
    account = key or load_keys(consortium.firm.data_dir / "keys", PASSPHRASE).chain_account
    return sign_peer_request(
        account,
        sender=sender or member_id(consortium.firm),
        recipient=member_id(consortium.bank),
        method="POST",
        path=PEER_ENVELOPES_PATH,
        body=body,
    )


def _code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_peer_api_refuses_what_it_must(consortium: Consortium, season: dict[str, Any]) -> None:
    waiting: ConfirmationLetter = season["letters"][5]
    bank_id, regulator_id = member_id(consortium.bank), member_id(consortium.regulator)
    url = consortium.bank.url

    body = _envelope_for(consortium, waiting, bank_id, to_key_of=bank_id)
    assert _code(_peer_post(url, body, {})) == "peer_unsigned"
    assert _code(_peer_post(url, body, _signed(consortium, body, key=Account.create()))) == "peer_forged"

    tampered = json.loads(body)
    ciphertext = bytearray(base64.b64decode(tampered["ciphertext"]))
    ciphertext[0] ^= 1
    tampered["ciphertext"] = base64.b64encode(bytes(ciphertext)).decode()
    tampered_body = json.dumps(tampered).encode()
    response = _peer_post(url, tampered_body, _signed(consortium, tampered_body))
    assert (response.status_code, _code(response)) == (400, "envelope_tampered")

    other = _envelope_for(consortium, waiting, regulator_id, to_key_of=regulator_id)
    response = _peer_post(url, other, _signed(consortium, other))
    assert (response.status_code, _code(response)) == (421, "envelope_wrong_recipient")

    headers = _signed(consortium, tampered_body)
    _peer_post(url, tampered_body, headers)
    replayed = _peer_post(url, tampered_body, headers)
    assert (replayed.status_code, _code(replayed)) == (409, "peer_replayed")


def test_a_batch_of_envelopes_is_answered_envelope_by_envelope(
    consortium: Consortium, season: dict[str, Any]
) -> None:
    closed, waiting = season["letters"][0], season["letters"][5]
    bank_id, regulator_id = member_id(consortium.bank), member_id(consortium.regulator)
    db = Database(f"sqlite:///{consortium.firm.data_dir / 'gateway.db'}")
    try:
        with db.session() as session:
            delivered = session.scalars(
                select(OutboxDelivery.envelope).where(
                    OutboxDelivery.letter_id == closed.letter_id, OutboxDelivery.step == "letter"
                )
            ).one()
    finally:
        db.dispose()
    tampered = json.loads(_envelope_for(consortium, waiting, bank_id, to_key_of=bank_id))
    ciphertext = bytearray(base64.b64decode(tampered["ciphertext"]))
    ciphertext[0] ^= 1
    tampered["ciphertext"] = base64.b64encode(bytes(ciphertext)).decode()
    other = json.loads(_envelope_for(consortium, waiting, regulator_id, to_key_of=regulator_id))
    body = json.dumps({"envelopes": [tampered, delivered, other]}).encode()
    response = _peer_post(consortium.bank.url, body, _signed(consortium, body))
    assert response.status_code == 200, response.text
    first, second, third = response.json()["results"]
    assert (first["error"]["status"], first["error"]["code"]) == (400, "envelope_tampered")
    assert second == {"result": "duplicate"}  # received before: acknowledged, nothing changes
    assert (third["error"]["status"], third["error"]["code"]) == (421, "envelope_wrong_recipient")


def test_an_envelope_the_recipient_cannot_open_is_sealed_again_to_its_keys(
    consortium: Consortium, season: dict[str, Any]
) -> None:
    # As if the bank had rotated its envelope keys after the firm sealed: the bank cannot open the
    # envelope, the firm seals it again to the keys the bank publishes now, and it lands.
    closed = season["letters"][0]
    bank_id, regulator_id = member_id(consortium.bank), member_id(consortium.regulator)
    stale = json.loads(_envelope_for(consortium, closed, bank_id, to_key_of=regulator_id))
    db = Database(f"sqlite:///{consortium.firm.data_dir / 'gateway.db'}")

    def delivery() -> OutboxDelivery:
        with db.session() as session:
            row = session.scalars(
                select(OutboxDelivery).where(
                    OutboxDelivery.letter_id == closed.letter_id, OutboxDelivery.step == "letter"
                )
            ).one()
            session.expunge(row)
            return row

    try:
        with db.session() as session:
            row = session.get_one(OutboxDelivery, delivery().id)
            row.envelope, row.state, row.attempts, row.reseals = stale, "pending", 0, 0
            row.next_attempt_at, row.done_at = utcnow(), None
        wait_until(lambda: delivery().state != "pending", 60, "the redelivery")
        settled = delivery()
        assert (settled.state, settled.reseals) == ("done", 1), settled.last_error  # refused once
        assert settled.envelope != stale
    finally:
        db.dispose()


def _reply_verified(consortium: Consortium, letter_id: str) -> bool:
    return bool(letter_view(consortium.firm, "auditor", letter_id)["reply_verified"])


def test_a_firm_closes_many_letters_in_one_call(consortium: Consortium) -> None:
    auditee = new_auditee(consortium, 3)
    letters = [compose(consortium, auditee) for _ in range(3)]
    created = {row["letter_id"]: row for row in request(consortium, letters)}
    ids = [x.letter_id for x in letters]
    sign_and_submit(consortium, ids, auditee.signer)
    wait_in_inbox(consortium, ids)
    for letter in letters[:2]:
        accept_and_reply(consortium, letter, created[letter.letter_id]["letter_hash"])
    for letter_id in ids[:2]:
        wait_until(partial(_reply_verified, consortium, letter_id), 60, "the reply")
    with consortium.firm.client("auditor") as firm:
        refused = firm.post("/v1/letters/close", json={"letter_ids": ids})
        assert (refused.status_code, _code(refused)) == (409, "conflict")  # the third has no reply
        steps = letter_view(consortium.firm, "auditor", ids[0])["pending_steps"]
        assert all(step["step"] != "close" for step in steps)  # all or none
        upper = ["0x" + letter_id[2:].upper() for letter_id in ids[:2]]
        queued = ok(firm.post("/v1/letters/close", json={"letter_ids": upper}), 202)
    assert [x["letter_id"] for x in queued] == ids[:2]
    for letter_id in ids[:2]:
        wait_status(consortium.firm, "auditor", letter_id, "CLOSED")
    assert letter_view(consortium.firm, "auditor", ids[2])["status"] == "AUTHORISED"


def test_a_suspended_member_cannot_call_peers(consortium: Consortium, season: dict[str, Any]) -> None:
    firm_id = member_id(consortium.firm)
    network = chain(consortium)
    body = _envelope_for(
        consortium, season["letters"][5], member_id(consortium.bank), to_key_of=member_id(consortium.bank)
    )
    with consortium.operator.client("operator") as operator:
        ok(operator.post(f"/v1/members/{firm_id}/suspend"), 202)
        wait_until(lambda: network.members.get_member(firm_id).status.name == "SUSPENDED", 30, "suspension")
        try:
            response = _peer_post(consortium.bank.url, body, _signed(consortium, body))
            assert (response.status_code, _code(response)) == (403, "peer_not_active")
        finally:
            ok(operator.post(f"/v1/members/{firm_id}/reinstate"), 202)
            wait_until(
                lambda: network.members.get_member(firm_id).status.name == "ACTIVE", 30, "reinstatement"
            )


def test_users_need_their_role(consortium: Consortium, season: dict[str, Any]) -> None:
    letter_id = season["letters"][5].letter_id
    with consortium.bank.client("preparer") as preparer:
        response = preparer.post(f"/v1/letters/{letter_id}/accept")
        assert (response.status_code, _code(response)) == (403, "forbidden")
    response = httpx.post(
        f"{consortium.bank.url}/v1/letters/{letter_id}/accept",
        headers={"Authorization": f"Bearer {consortium.firm.api_keys['auditor']}"},
    )
    assert (response.status_code, _code(response)) == (401, "not_authenticated")
    response = httpx.get(f"{consortium.bank.url}/v1/inbox")
    assert (response.status_code, _code(response)) == (401, "not_authenticated")


def test_evidence_holds_documents_salts_and_chain_references(
    consortium: Consortium, season: dict[str, Any]
) -> None:
    closed = season["letters"][0]
    with consortium.firm.client("auditor") as firm:
        evidence = ok(firm.get(f"/v1/letters/{closed.letter_id}/evidence"))
    assert evidence["letter"]["letter_id"] == closed.letter_id
    assert evidence["reply"]["letter_id"] == closed.letter_id
    assert evidence["authorisation"]["kind"] == "authorise"
    assert [step["name"] for step in evidence["steps"]][-1] == "LetterClosed"
    assert evidence["chain"]["confirmation_registry"] == chain(consortium).confirmations.address
    with consortium.regulator.client("analyst") as regulator:
        for kind in ("letter", "reply"):
            result = ok(
                regulator.post(
                    "/v1/verify",
                    json={"kind": kind, "document": evidence[kind], "salt": evidence[f"{kind}_salt"]},
                )
            )
            assert result["valid"], result


def test_only_its_reviewer_records_a_reply(consortium: Consortium, season: dict[str, Any]) -> None:
    waiting: ConfirmationLetter = season["letters"][5]
    letter_hash = season["created"][waiting.letter_id]["letter_hash"]
    reply = sample_reply(waiting, letter_hash=bytes.fromhex(letter_hash[2:]))
    body = {"reply": reply.model_dump(mode="json", by_alias=True)}
    with consortium.bank.client("officer") as officer:
        response = officer.post(f"/v1/letters/{waiting.letter_id}/reply", json=body)
        assert (response.status_code, _code(response)) == (403, "forbidden")
    with consortium.bank.client("reviewer") as reviewer:
        # A reviewer cannot record a reply that names somebody else as its reviewer.
        response = reviewer.post(f"/v1/letters/{waiting.letter_id}/reply", json=body)
        assert (response.status_code, _code(response)) == (403, "forbidden")


def test_the_operator_refuses_what_the_chain_would_refuse(consortium: Consortium) -> None:
    # Once queued, such a step used to stop every operator step behind it, for good.
    firm_id = member_id(consortium.firm)
    network = chain(consortium)
    with consortium.operator.client("operator") as operator:
        for path, status, code in [
            ("/v1/members/999/reinstate", 404, "not_found"),
            (f"/v1/members/{firm_id}/reinstate", 409, "conflict"),  # it is active
        ]:
            response = operator.post(path)
            assert (response.status_code, _code(response)) == (status, code), path
        assert operator.post("/v1/members/-1/suspend").status_code in (404, 422)
        ok(operator.post(f"/v1/members/{firm_id}/suspend"), 202)
        ok(operator.post(f"/v1/members/{firm_id}/reinstate"), 202)  # follows the queued suspension
        wait_until(lambda: operator.get("/health").json()["pending_transactions"] == 0, 30, "the outbox")
        health = operator.get("/health").json()
    assert (health["status"], health["stuck_transactions"], health["failed_transactions"]) == ("ok", 0, 0)
    assert network.members.get_member(firm_id).status.name == "ACTIVE"


def test_the_firm_relays_only_under_the_one_reference_the_signer_holds_at_the_bank(
    consortium: Consortium,
) -> None:
    """The auditor gives no salt: the firm finds the reference by the signer's mandates. A signer
    the bank never mandated is refused; so is one the bank mandated for two customers (the firm
    cannot tell which one the letter is about: the bank must give each customer its own signer).
    Nothing is relayed: the letter stays requested, with no reference."""
    auditee = new_auditee(consortium, 60)
    letter = compose(consortium, auditee)
    request(consortium, [letter])
    stranger = sign_and_submit(consortium, [letter.letter_id], Account.create(), status=422)
    assert stranger["error"]["code"] == "invalid_request"
    assert "holds no valid mandate" in stranger["error"]["message"]
    new_auditee(consortium, 61, signer=auditee.signer)  # a second customer's mandate, same signer
    ambiguous = sign_and_submit(consortium, [letter.letter_id], auditee.signer, status=409)
    assert ambiguous["error"]["code"] == "signer_mandate_ambiguous"
    view = letter_view(consortium.firm, "auditor", letter.letter_id)
    assert (view["status"], view["auditee_ref"], view["authorisation"]) == ("REQUESTED", None, None)
