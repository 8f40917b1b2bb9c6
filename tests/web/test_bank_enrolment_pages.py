"""The bank's passkey enrolment without a browser (the browser's part, ``navigator.credentials``,
is tests/web/test_passkey_browser.py's): a P-256 public key posted by an officer's page becomes an
enrolment awaiting a second officer; its enroller is refused, another officer approves it and the
mandate is queued as a WebAuthn signer; a key that is not P-256 and an altered link are refused."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from node_gateway.chain.signers import key_signer, p256_key, signer_text
from node_gateway.services.facade import Letters
from node_gateway.web.pages import LANG_COOKIE

from .test_bank_pages import BankPages, _csrf, bank, sign_in

__all__ = ["bank"]  # the fixture, shared with the bank's page tests

CODE = "91310000MA1FL8XQ3T"
ENROL = "/web/bank/mandates/passkey"


def _public_key(curve: ec.EllipticCurve) -> tuple[str, ec.EllipticCurvePublicKey]:
    key = ec.generate_private_key(curve).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(spki).decode().rstrip("="), key


def test_a_passkey_is_enrolled_by_one_officer_and_approved_by_another(bank: BankPages) -> None:
    gw = bank.gateway
    officer = sign_in(gw, "zhao")
    page = officer.get(f"{ENROL}?code={CODE}")
    assert page.status_code == 200
    assert "创建通行密钥并提交复核" in page.text
    csrf = _csrf(page.text)
    encoded, key = _public_key(ec.SECP256R1())
    form = {"csrf_token": csrf, "registration_code": CODE, "valid_until": "2030-12-31", "public_key": encoded}
    posted = officer.post(ENROL, data=form, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    approval = posted.headers["location"]
    numbers = key.public_numbers()
    verifiers = gw.node.network.verifiers
    assert verifiers is not None
    signer = signer_text(key_signer(verifiers.webauthn, p256_key(numbers.x, numbers.y)))
    pending = officer.get(approval).text
    assert signer in pending
    assert "2030-12-31" in pending
    assert "复核通过,登记上链" not in pending  # its enroller is offered no approval
    token = approval.split("e=", 1)[1]
    own = officer.post(f"{ENROL}/approve", data={"csrf_token": csrf, "e": token})
    assert own.status_code == 403
    assert "same_officer" in own.text
    with gw.node.db.session() as session:
        assert signer not in {m.signer for m in Letters(gw.node).mandates(session)}  # nothing yet

    other = sign_in(gw, "root")  # an admin holds the officer's role
    shown = other.get(approval).text
    assert "复核通过,登记上链" in shown
    done = other.post(f"{ENROL}/approve", data={"csrf_token": _csrf(shown), "e": token})
    assert done.status_code == 200
    assert "通行密钥签字人已登记" in done.text
    with gw.node.db.session() as session:
        registered = [m for m in Letters(gw.node).mandates(session) if m.signer == signer]
    assert len(registered) == 1
    assert not registered[0].revoked

    officer.cookies.set(LANG_COOKIE, "en")
    assert "Enrol a passkey signer" in officer.get(ENROL).text


def test_a_key_that_is_no_passkeys_and_an_altered_link_are_refused(bank: BankPages) -> None:
    officer = sign_in(bank.gateway, "zhao")
    csrf = _csrf(officer.get(ENROL).text)
    encoded, _ = _public_key(ec.SECP384R1())
    form = {"csrf_token": csrf, "registration_code": CODE, "valid_until": "2030-12-31", "public_key": encoded}
    refused = officer.post(ENROL, data=form)
    assert refused.status_code == 422
    assert "enrolment_invalid" in refused.text
    garbage = officer.post(ENROL, data=form | {"public_key": "not a key!"})
    assert garbage.status_code == 422
    assert "enrolment_invalid" in garbage.text
    altered = officer.get(f"{ENROL}/approve?e=eyJjb2RlIjoiIn0.00")
    assert altered.status_code == 422
    assert "enrolment_invalid" in altered.text
