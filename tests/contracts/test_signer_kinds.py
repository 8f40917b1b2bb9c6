"""Every kind of auditee signer (ERC-7913) authorises and refuses on chain, and none of them can be
replayed: not on another letter, firm, chain or deployment, nor after its mandate expired or was
revoked. The signatures are made in Python as each device makes them (tests/signer_kinds.py)
and checked by the contract with OpenZeppelin's SignatureChecker and verifiers."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest
from signer_kinds import KIND_OF, KINDS, AuditeeKeyOfAnyKind, WebAuthnKey, new_key

from node_gateway.chain.authorisation import authorisation_typed_data, typed_data_digest, verified_signer
from node_gateway.chain.contracts import Authorisation, LetterStatus
from node_gateway.chain.errors import (
    ConfirmationAuthorisationNotCovering,
    ConfirmationAuthorisationWrongFirm,
    ConfirmationInvalidSignature,
    ConfirmationSignerNotMandated,
)
from node_gateway.chain.signers import signer_id, signer_text

if TYPE_CHECKING:
    from conftest import Deployment

HOUR = 3600
DAY = 24 * HOUR


def _mandated(d: Deployment, kind: str, valid_for: int = 10 * 365 * DAY) -> AuditeeKeyOfAnyKind:
    key = new_key(kind, d.network, d.operator.sender)
    d.register_mandate(d.bank, d.auditee_ref, key.signer, valid_for=valid_for)
    return key


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_authorises_and_refuses(deployment: Deployment, kind: str) -> None:
    d = deployment
    key = _mandated(d, kind)
    assert d.network.verifiers is not None
    assert d.network.verifiers.kind_of(key.signer) == KIND_OF[kind]
    letter, refused = d.request(), d.request()
    signed = d.sign_authorisation([letter], signer=key)
    receipt = d.send(d.stranger, d.authorise_call(letter, signed))
    event = d.single_event(receipt, "LetterAuthorised")
    assert event["signerId"] == signer_id(key.signer)
    assert event["letterId"] == letter.letter_id
    assert d.status(letter) == LetterStatus.AUTHORISED
    receipt = d.send(d.stranger, d.refuse_call(refused, d.sign_refusal([refused], signer=key, reason=3)))
    assert d.single_event(receipt, "AuthorisationRefused")["signerId"] == signer_id(key.signer)
    assert d.status(refused) == LetterStatus.REFUSED


@pytest.mark.parametrize("kind", KINDS)
def test_the_gateways_check_is_the_contracts(deployment: Deployment, kind: str) -> None:
    """verified_signer asks the registry's isValidAuditeeSignature: the same code as authorise."""
    d = deployment
    key = new_key(kind, d.network, d.operator.sender)
    letter = d.plan_letter()
    signed = d.sign_authorisation([letter], signer=key)
    typed = authorisation_typed_data(
        signed.message,  # type: ignore[arg-type]
        chain_id=d.chain.chain_id,
        registry=d.confirmations.address,
    )
    assert verified_signer(d.confirmations, typed, signed.signature, signer_text(key.signer)) == key.signer
    other = new_key(kind, d.network, d.operator.sender)
    with pytest.raises(ValueError, match="not the named signer"):
        verified_signer(d.confirmations, typed, signed.signature, other.signer)
    assert not d.confirmations.is_valid_auditee_signature(
        key.signer, typed_data_digest(typed)[::-1], signed.signature
    )


@pytest.mark.parametrize("kind", KINDS)
def test_no_kind_replays_on_another_letter_firm_chain_or_deployment(
    deployment: Deployment, kind: str
) -> None:
    d = deployment
    key = _mandated(d, kind)
    covered, other = d.request(), d.request()
    signed = d.sign_authorisation([covered], signer=key)
    # Another letter: the signed root does not cover it.
    assert isinstance(signed.message, Authorisation)
    call = d.confirmations.authorise(
        other.letter_id, signed.message, d.auditee_ref, signed.signer, signed.signature, []
    )
    d.assert_reverts(d.firm, call, ConfirmationAuthorisationNotCovering, other.letter_id)
    # Another firm: named in the signature; changing it unsigned breaks the signature.
    theirs = d.request(firm=d.firm2)
    for_firm = d.sign_authorisation([theirs], signer=key, firm=d.firm.member_id)
    d.assert_reverts(
        d.firm2,
        d.authorise_call(theirs, for_firm),
        ConfirmationAuthorisationWrongFirm,
        theirs.letter_id,
        d.firm.member_id,
    )
    moved = dataclasses.replace(
        for_firm, message=dataclasses.replace(for_firm.message, firm=d.firm2.member_id)
    )
    d.assert_reverts(d.firm2, d.authorise_call(theirs, moved), ConfirmationInvalidSignature)
    # Another chain, another deployment: the EIP-712 domain differs, so the signature does not hold here.
    for elsewhere in (
        d.sign_authorisation([covered], signer=key, chain_id=d.chain.chain_id + 1),
        d.sign_authorisation([covered], signer=key, registry=d.members.address),
    ):
        d.assert_reverts(d.firm, d.authorise_call(covered, elsewhere), ConfirmationInvalidSignature)
    # The same signature by another signer of the kind (its mandate held) does not pass either.
    stranger = _mandated(d, kind)
    borrowed = dataclasses.replace(signed, signer=stranger.signer)
    d.assert_reverts(d.firm, d.authorise_call(covered, borrowed), ConfirmationInvalidSignature)
    d.send(d.firm, d.authorise_call(covered, signed))
    assert d.status(covered) == LetterStatus.AUTHORISED


@pytest.mark.parametrize("kind", KINDS)
def test_no_kind_signs_on_an_expired_or_revoked_mandate(deployment: Deployment, kind: str) -> None:
    d = deployment
    expiring, revoked = _mandated(d, kind, valid_for=2 * HOUR), _mandated(d, kind)
    first, second = d.request(), d.request()
    by_expiring = d.sign_authorisation([first], signer=expiring, valid_for=2 * DAY)
    by_revoked = d.sign_authorisation([second], signer=revoked)
    d.send(d.bank, d.confirmations.revoke_mandate(d.auditee_ref, revoked.signer))
    assert d.confirmations.mandate_valid_until(d.bank.member_id, d.auditee_ref, revoked.signer) == 0
    d.assert_reverts(
        d.firm,
        d.authorise_call(second, by_revoked),
        ConfirmationSignerNotMandated,
        second.letter_id,
        signer_id(revoked.signer),
    )
    d.advance(3 * HOUR)
    for letter, key in ((first, expiring), (second, revoked)):
        d.assert_reverts(
            d.firm,
            d.refuse_call(letter, d.sign_refusal([letter], signer=key)),
            ConfirmationSignerNotMandated,
            letter.letter_id,
            signer_id(key.signer),
        )
    # The expired signature itself, and again once another bank mandates the signer: that mandate
    # does not count at this bank.
    for other_bank_mandates in (False, True):
        if other_bank_mandates:
            d.register_mandate(d.bank2, d.auditee_ref, expiring.signer)
        d.assert_reverts(
            d.firm,
            d.authorise_call(first, by_expiring),
            ConfirmationSignerNotMandated,
            first.letter_id,
            signer_id(expiring.signer),
        )


def test_a_passkey_assertion_without_user_verification_is_refused(deployment: Deployment) -> None:
    """OpenZeppelin's WebAuthn verifier requires UV (a PIN or biometrics), not presence alone."""
    d = deployment
    key = _mandated(d, "webauthn")
    assert isinstance(key, WebAuthnKey)
    letter = d.request()
    present_only = dataclasses.replace(key, flags=0x01)
    d.assert_reverts(
        d.firm,
        d.authorise_call(letter, d.sign_authorisation([letter], signer=present_only)),
        ConfirmationInvalidSignature,
    )
    d.send(d.firm, d.authorise_call(letter, d.sign_authorisation([letter], signer=key)))
