"""A customer's signer enrols a passkey at the bank, and another officer approves the mandate.

1. An officer opens **登记通行密钥** for a customer (its registration code, the mandate's last day);
   the customer's signer, at the counter or on the bank's customer page, creates a passkey there
   (WebAuthn ``navigator.credentials.create``: ES256, user verification and a discoverable
   credential required, the relying-party id of the network file, so the one passkey signs at every
   member's pages). The page posts the public key (``getPublicKey()``, SPKI) and nothing else.
2. The enrolment waits for a second officer (four-eyes, as the bank's other approvals): it is a
   link holding the customer's code, the signer (the network's WebAuthn verifier ‖ the key), the
   mandate's end, the enrolling officer and when, authenticated with an HMAC under a key derived
   from the bank's storage key (nothing is stored until approved; a link expires after 7 days).
3. Another officer opens it, checks it and approves: the mandate goes on chain through the API's
   own ``POST /v1/mandates`` (``bank_adapter.api.mandates``), as a WebAuthn signer. Several
   signers per customer, each with its validity, are the mandates' own model.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time as clock
from datetime import date, datetime, time
from hashlib import sha256
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import TypeAdapter

from bank_adapter.api import mandates
from bank_adapter.errors import SameOfficer
from bank_adapter.web.routes import BANK, OfficerPerson, _t, _valid
from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.models import MandateIn
from node_gateway.api.types import RegistrationCode
from node_gateway.chain.passkeys import spki_key
from node_gateway.chain.signers import key_signer, signer_text
from node_gateway.errors import InvalidRequest
from node_gateway.node import Node
from node_gateway.protocol.documents import CHINA_TIME
from node_gateway.web.firm import beijing
from node_gateway.web.pages import PageRoute, flash, redirect, render

ENROL = f"{BANK}/mandates/passkey"
ENROLMENT_VALIDITY_S = 7 * 86400
router = APIRouter(route_class=PageRoute, include_in_schema=False)

_CODE: TypeAdapter[str] = TypeAdapter(RegistrationCode)


class EnrolmentInvalid(InvalidRequest):
    """An enrolment link that was altered, has expired, or a public key that is no passkey's."""

    code = "enrolment_invalid"


def _key(node: Node) -> bytes:
    return hmac.new(node.keys.storage_key, b"confirmnet bank: passkey enrolments", sha256).digest()


def seal_enrolment(node: Node, enrolment: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(enrolment, sort_keys=True).encode()).decode().rstrip("=")
    tag = hmac.new(_key(node), body.encode(), sha256).hexdigest()
    return f"{body}.{tag}"


def open_enrolment(node: Node, token: str) -> dict[str, Any]:
    """The enrolment a link holds, if this bank made it and it has not expired."""
    body, _, tag = token.partition(".")
    if not hmac.compare_digest(hmac.new(_key(node), body.encode(), sha256).hexdigest(), tag):
        raise EnrolmentInvalid("this enrolment link was not made by this bank or was altered")
    try:
        enrolment: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise EnrolmentInvalid("this enrolment link is damaged") from exc
    if enrolment["at"] + ENROLMENT_VALIDITY_S < clock.time():
        raise EnrolmentInvalid("this enrolment has expired: enrol the passkey again")
    return enrolment


@router.get(ENROL)
def enrol_page(request: Request, node: NodeDep, person: OfficerPerson, code: str = "") -> Response:
    """Where a customer's signer creates a passkey."""
    context = {"code": code, "rp_id": node.network_file.rp_id or request.url.hostname}
    return render(request, "bank/enrol_passkey.html", context, person=person)


@router.post(ENROL)
def enrol(
    request: Request,
    node: NodeDep,
    person: OfficerPerson,
    registration_code: Annotated[str, Form(max_length=40)],
    valid_until: Annotated[date, Form()],
    public_key: Annotated[str, Form(max_length=400)],
) -> Response:
    """The passkey's public key becomes an enrolment awaiting another officer's approval."""
    code = _valid(lambda: _CODE.validate_python(registration_code.strip()))
    verifiers = node.network.verifiers
    if verifiers is None:
        raise EnrolmentInvalid("this network names no WebAuthn verifier in its network file")
    try:
        spki = base64.urlsafe_b64decode(public_key + "=" * (-len(public_key) % 4))
        key = spki_key(spki)
    except (binascii.Error, ValueError) as exc:
        raise EnrolmentInvalid(f"the passkey's public key is unusable: {exc}") from exc
    end_of_day = datetime.combine(valid_until, time.max, CHINA_TIME)
    enrolment = {
        "code": code,
        "signer": signer_text(key_signer(verifiers.webauthn, key)),
        "valid_until": int(end_of_day.timestamp()),
        "by": person.user.name,
        "at": int(clock.time()),
    }
    return redirect(f"{ENROL}/approve?e={seal_enrolment(node, enrolment)}")


def _shown(enrolment: dict[str, Any]) -> dict[str, Any]:
    until = datetime.fromtimestamp(enrolment["valid_until"], CHINA_TIME).strftime("%Y-%m-%d")
    return enrolment | {"until": until, "when": beijing(enrolment["at"])}


@router.get(f"{ENROL}/approve")
def approval_page(request: Request, node: NodeDep, person: OfficerPerson, e: str = "") -> Response:
    """The enrolment as its approver checks it, with the link to hand to them."""
    enrolment = open_enrolment(node, e)
    context = {
        "enrolment": _shown(enrolment),
        "token": e,
        "link": str(request.url),
        "may_approve": enrolment["by"] != person.user.name,
    }
    return render(request, "bank/enrol_approve.html", context, person=person)


@router.post(f"{ENROL}/approve")
def approve(
    request: Request,
    node: NodeDep,
    session: SessionDep,
    person: OfficerPerson,
    e: Annotated[str, Form(max_length=4000)],
) -> Response:
    """A second officer approves: the mandate is registered (queued for the chain)."""
    enrolment = open_enrolment(node, e)
    if enrolment["by"] == person.user.name:
        raise SameOfficer("the officer who enrolled the passkey may not approve it: another officer does")
    body = _valid(
        lambda: MandateIn(
            registration_code=enrolment["code"],
            signer=enrolment["signer"],
            valid_until=enrolment["valid_until"],
        )
    )
    mandates.register_mandate(body, node, session, person.user)
    flash(person, _t(request)("enrol.done"))
    return redirect(f"{BANK}/mandates?code={enrolment['code']}")
