"""The auditee's signing page, behind the link the auditor copies (``/web/authorise/{token}``): what
the signature covers (each letter's 函证编号, bank, items and amounts, the Merkle root and the
EIP-712 digest), signed with a passkey in the browser (WebAuthn ``navigator.credentials.get`` with
the digest as its challenge), or refused the same way with a reason code and words.

The page posts the assertion (authenticator data, client data, DER signature); the gateway
encodes it as the WebAuthn verifier's ``WebAuthnAuth`` (``chain.signers``), finds the passkey's
signer by ECDSA key recovery among the keys the letters' banks mandated on chain
(``chain.passkeys``), and relays it through the API's own ``POST /v1/authorisations``, whose checks
(the root, the firm, the expiry, the registry's ``isValidAuditeeSignature``, the mandates) decide.
The page never sees a private key: the authenticator keeps it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.routes import firm as firm_api
from node_gateway.chain.authorisation import refusal_typed_data, typed_data_digest
from node_gateway.chain.contracts import Refusal
from node_gateway.chain.passkeys import assertion_keys
from node_gateway.chain.signers import key_signer, signer_text, webauthn_signature
from node_gateway.errors import InvalidRequest
from node_gateway.node import Node
from node_gateway.protocol.documents import ConfirmationLetter, RefusalReason
from node_gateway.protocol.hashing import LETTER_DOMAIN, from_hex, to_hex
from node_gateway.protocol.wire import SignedAuthorisation
from node_gateway.services import letters as letter_service
from node_gateway.web.firm import AUTHORISE, SignerPerson, _bundle_context, _t, item_tables, token_letters
from node_gateway.web.pages import MemberNames, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


class PasskeyInvalid(InvalidRequest):
    """The assertion the page posted does not decode (or the network has no WebAuthn verifier)."""

    code = "passkey_invalid"


class PasskeyNotMandated(InvalidRequest):
    """No key the assertion can have been made with holds the banks' mandates for these letters."""

    code = "passkey_not_mandated"


def _b64url(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PasskeyInvalid(f"the passkey's {what} is not base64url") from exc


def _for_page(typed: dict[str, Any]) -> dict[str, Any]:
    """An EIP-712 document as the page's script reads it: integers as decimal text (a nonce is
    128 bits, beyond JavaScript's numbers), bytes as hex."""
    message = {
        k: str(v) if isinstance(v, int) else to_hex(v) if isinstance(v, bytes) else v
        for k, v in typed["message"].items()
    }
    return {**typed, "message": message}


def _refusals(node: Node, message: dict[str, Any]) -> list[dict[str, Any]]:
    """A refusal document per reason code, over the same letters (root) and validity as the
    authorisation, each with a fresh nonce: the page signs the one whose reason is chosen."""
    chain_id, registry = node.sender.chain_id, node.network.confirmations.address
    found = []
    for reason in RefusalReason:
        refusal = Refusal(
            from_hex(message["requestsRoot"]),
            int(message["firm"]),
            int(reason),
            int(message["validUntil"]),
            int.from_bytes(secrets.token_bytes(16), "big"),
        )
        typed = refusal_typed_data(refusal, chain_id=chain_id, registry=registry)
        found.append(
            {"reason": int(reason), "digest": to_hex(typed_data_digest(typed)), "typed": _for_page(typed)}
        )
    return found


_SCRIPT_WORDS = ("verified", "mismatch", "no_webauthn", "waiting", "sending", "cancelled")


@router.get(f"{AUTHORISE}/{{token}}")
def signing_page(
    request: Request, token: str, node: NodeDep, session: SessionDep, person: SignerPerson
) -> Response:
    """What the signature covers, and the passkey's buttons to sign or refuse it. The page's script
    (static/signing.js) recomputes the hashes, the root and the digests from the same data."""
    t = _t(request)
    bundle = letter_service.authorisation_request(node, session, token_letters(token))
    typed = bundle["typed_data"]
    names = MemberNames(node)
    letters = []
    for x in bundle["letters"]:
        letter = ConfirmationLetter.model_validate(x["document"])
        letters.append(
            {
                "letter_id": x["letter_id"],
                "confirmation_no": letter.confirmation_no or x["letter_id"],
                "bank": names(x["bank"]),
                "letter_hash": x["letter_hash"],
                "tables": item_tables(t, letter, None),
            }
        )
    message = typed["message"]
    refusals = _refusals(node, message)
    script = {
        "letters": bundle["letters"],  # the documents and salts, as the CLI's bundle holds them
        "letter_domain": to_hex(LETTER_DOMAIN),
        "authorisation": _for_page(typed),
        "refusals": [x["typed"] for x in refusals],
        "rp_id": node.network_file.rp_id or request.url.hostname,
        "words": {key: t(f"sign.{key}") for key in _SCRIPT_WORDS},
    }
    context = _bundle_context(bundle, names) | {
        "token": token,
        "signed": letters,
        "message": message,
        "digest": to_hex(typed_data_digest(typed)),
        "refusals": refusals,
        "script": script,
    }
    return render(request, "firm/sign.html", context, person=person)


def _passkey_signer(node: Node, session: Session, letter_ids: list[str], keys: list[bytes]) -> str:
    """The passkey signer (WebAuthn verifier ‖ key) among ``keys`` that every letter's bank
    mandates, under exactly one customer's reference, read from the chain (the references the
    authorisation then relays). Where a key is mandated under several at a bank, and no key
    serves, SignerMandateAmbiguous says so."""
    verifiers = node.network.verifiers
    if verifiers is None:
        raise PasskeyInvalid("this network names no WebAuthn verifier in its network file")
    banks = sorted({row.bank for row in letter_service.letter_rows(session, letter_ids).values()})
    ambiguous: letter_service.SignerMandateAmbiguous | None = None
    for key in keys:
        signer = signer_text(key_signer(verifiers.webauthn, key))
        try:
            letter_service.mandate_references(node, signer, banks)
        except letter_service.SignerNotMandated:
            continue
        except letter_service.SignerMandateAmbiguous as exc:
            ambiguous = exc
            continue
        return signer
    if ambiguous is not None:
        raise ambiguous
    raise PasskeyNotMandated(
        "this passkey holds no valid mandate of the letters' banks for this auditee: enrol it at the bank"
    )


Field64 = Annotated[str, Form(max_length=200)]
Blob = Annotated[str, Form(max_length=8000)]


@router.post(f"{AUTHORISE}/{{token}}/sign")
def sign(
    request: Request,
    token: str,
    node: NodeDep,
    session: SessionDep,
    person: SignerPerson,
    requests_root: Field64,
    firm: Annotated[int, Form()],
    valid_until: Annotated[int, Form()],
    nonce: Field64,
    authenticator_data: Blob,
    client_data_json: Blob,
    signature: Field64,
    reason: Annotated[int | None, Form()] = None,
    reason_text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Relays the passkey's assertion as an authorisation (or, with a reason, a refusal)."""
    letter_ids = token_letters(token)
    if reason is not None and not reason_text.strip():
        # The API takes a refusal without words; the page asks for them (ISA 505 ¶8: why in words).
        raise InvalidRequest("a refusal gives its reason in words (1 to 500 characters)")
    authenticator, client_data = (
        _b64url(authenticator_data, "authenticator data"),
        _b64url(client_data_json, "client data"),
    )
    der = _b64url(signature, "signature")
    try:
        encoded = webauthn_signature(authenticator, client_data, der)
        keys = assertion_keys(authenticator, client_data, der)
    except ValueError as exc:
        raise PasskeyInvalid(str(exc)) from exc
    signer = _passkey_signer(node, session, letter_ids, keys)
    try:
        body = SignedAuthorisation(
            letter_ids=letter_ids,
            requests_root=requests_root,
            firm=firm,
            valid_until=valid_until,
            nonce=int(nonce),
            signature=to_hex(encoded),
            signer=signer,
            reason=reason,
            reason_text=reason_text.strip() if reason is not None else None,
        )
    except ValidationError as exc:
        raise InvalidRequest("; ".join(str(error["msg"]) for error in exc.errors())) from exc
    except ValueError as exc:  # the nonce is not a number
        raise InvalidRequest(f"the nonce is not a number: {nonce!r}") from exc
    accepted = firm_api.submit_authorisation(body, node, session, person.user)
    context = {"accepted": accepted, "token": token, "reason": reason, "reason_text": body.reason_text}
    return render(request, "firm/signed.html", context, person=person, status=202)
