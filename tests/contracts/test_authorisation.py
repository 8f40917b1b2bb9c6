"""The auditee's authorisation: EIP-712 signatures over a Merkle root of letters, mandates,
refusals, and every way a signature must fail to authorise."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_gateway.chain.authorisation import (
    LetterLeaf,
    RequestsTree,
    authorisation_typed_data,
    refusal_typed_data,
    typed_data_digest,
)
from node_gateway.chain.contracts import Authorisation, LetterStatus, Refusal, Role, status_bitmap
from node_gateway.chain.errors import (
    ConfirmationAuthorisationExpired,
    ConfirmationAuthorisationNotCovering,
    ConfirmationAuthorisationWrongFirm,
    ConfirmationInvalidMandate,
    ConfirmationInvalidSignature,
    ConfirmationSignerNotMandated,
    ConfirmationUnexpectedStatus,
    MemberRegistryWrongRole,
)
from node_gateway.chain.signers import account_signer, signer_id
from node_gateway.chain.transactions import Call

if TYPE_CHECKING:
    from conftest import Deployment, Signed

HOUR = 3600
DAY = 24 * HOUR
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

bytes32 = st.binary(min_size=32, max_size=32)
uint32 = st.integers(min_value=0, max_value=2**32 - 1)
uint64 = st.integers(min_value=0, max_value=2**64 - 1)
on_shared_deployment = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def auth_of(signed: Signed) -> Authorisation:
    assert isinstance(signed.message, Authorisation)
    return signed.message


# --- authorisations that work ------------------------------------------------------------------


def test_single_letter_authorisation_is_recorded(deployment: Deployment) -> None:
    d = deployment
    letter = d.request()
    signed = d.sign_authorisation([letter])
    assert signed.tree.root == d.confirmations.authorisation_leaf(
        letter.letter_id, letter.letter_hash, letter.bank
    )
    assert signed.proof(letter) == []
    assert d.confirmations.get_letter(letter.letter_id).auditee_ref == bytes(32)  # none until authorised
    receipt = d.send(d.stranger, d.authorise_call(letter, signed))  # anyone may relay it
    assert d.single_event(receipt, "LetterAuthorised") == {
        "letterId": letter.letter_id,
        "firm": d.firm.member_id,
        "bank": d.bank.member_id,
        "auditeeRef": d.auditee_ref,
        "signerId": signer_id(d.signer.address),
        "requestsRoot": signed.tree.root,
    }
    assert d.status(letter) == LetterStatus.AUTHORISED
    # The letter keeps the reference the signer's mandate is under: what the bank checks on arrival.
    assert d.confirmations.get_letter(letter.letter_id).auditee_ref == d.auditee_ref


def test_one_signature_authorises_a_batch_to_two_banks(deployment: Deployment) -> None:
    d = deployment
    letters = [d.request(bank=d.bank if i < 3 else d.bank2) for i in range(5)]
    signed = d.sign_authorisation(letters)
    relayers = [d.firm, d.bank, d.bank2, d.regulator, d.stranger]
    for letter, relayer in zip(letters, relayers, strict=True):
        event = d.single_event(d.send(relayer, d.authorise_call(letter, signed)), "LetterAuthorised")
        assert (event["letterId"], event["bank"], event["requestsRoot"]) == (
            letter.letter_id,
            letter.bank,
            signed.tree.root,
        )
    assert {d.status(letter) for letter in letters} == {LetterStatus.AUTHORISED}
    # The authorisation is used up letter by letter: a second relay finds the letter Authorised.
    d.assert_reverts(
        d.firm,
        d.authorise_call(letters[0], signed),
        ConfirmationUnexpectedStatus,
        letters[0].letter_id,
        LetterStatus.AUTHORISED,
        status_bitmap(LetterStatus.REQUESTED),
    )


@pytest.mark.parametrize("size", range(1, 18))
def test_every_letter_of_a_tree_of_n_authorises_in_one_multicall(deployment: Deployment, size: int) -> None:
    d = deployment
    letters = [d.plan_letter(bank=d.bank2 if i % 3 == 0 else d.bank) for i in range(size)]
    d.send(d.firm, d.confirmations.multicall([d.request_call(letter) for letter in letters]))
    signed = d.sign_authorisation(letters)
    receipt = d.send(
        d.firm, d.confirmations.multicall([d.authorise_call(letter, signed) for letter in letters])
    )
    assert [e.args["letterId"] for e in d.events(receipt)] == [letter.letter_id for letter in letters]
    assert {d.status(letter) for letter in letters} == {LetterStatus.AUTHORISED}


# --- the same signature elsewhere --------------------------------------------------------------


def test_signature_does_not_cover_another_letter(deployment: Deployment) -> None:
    d = deployment
    covered = [d.request(), d.request()]
    other = d.request()
    signed = d.sign_authorisation(covered)
    call = d.confirmations.authorise(
        other.letter_id,
        auth_of(signed),
        d.auditee_ref,
        signed.signer,
        signed.signature,
        signed.proof(covered[0]),
    )
    d.assert_reverts(d.firm, call, ConfirmationAuthorisationNotCovering, other.letter_id)
    call = d.confirmations.authorise(
        other.letter_id, auth_of(signed), d.auditee_ref, signed.signer, signed.signature, []
    )
    d.assert_reverts(d.firm, call, ConfirmationAuthorisationNotCovering, other.letter_id)
    assert d.status(other) == LetterStatus.REQUESTED


def test_signature_for_one_bank_does_not_cover_the_letter_sent_to_another(deployment: Deployment) -> None:
    d = deployment
    authorised = d.plan_letter(bank=d.bank)
    signed = d.sign_authorisation([authorised])
    # The firm sends the very letter (same id and hash) to another bank instead.
    sent = dataclasses.replace(authorised, bank=d.bank2.member_id)
    d.send(d.firm, d.request_call(sent))
    call = d.confirmations.authorise(
        sent.letter_id, auth_of(signed), d.auditee_ref, signed.signer, signed.signature, []
    )
    d.assert_reverts(d.firm, call, ConfirmationAuthorisationNotCovering, sent.letter_id)


def test_signature_for_one_letter_hash_does_not_cover_another_content(deployment: Deployment) -> None:
    d = deployment
    authorised = d.plan_letter()
    signed = d.sign_authorisation([authorised])
    sent = dataclasses.replace(authorised, letter_hash=os.urandom(32))
    d.send(d.firm, d.request_call(sent))
    call = d.confirmations.authorise(
        sent.letter_id, auth_of(signed), d.auditee_ref, signed.signer, signed.signature, []
    )
    d.assert_reverts(d.firm, call, ConfirmationAuthorisationNotCovering, sent.letter_id)


def test_authorisation_for_one_firm_does_not_serve_another(deployment: Deployment) -> None:
    d = deployment
    letter = d.request(firm=d.firm2)
    signed = d.sign_authorisation([letter], firm=d.firm.member_id)
    d.assert_reverts(
        d.firm2,
        d.authorise_call(letter, signed),
        ConfirmationAuthorisationWrongFirm,
        letter.letter_id,
        d.firm.member_id,
    )
    # Claiming the right firm without re-signing: the mandated signer did not sign that.
    forged = dataclasses.replace(auth_of(signed), firm=d.firm2.member_id)
    call = d.confirmations.authorise(
        letter.letter_id, forged, d.auditee_ref, signed.signer, signed.signature, []
    )
    d.assert_reverts(d.firm2, call, ConfirmationInvalidSignature)


@pytest.mark.parametrize("domain", ["chain_id", "registry"])
def test_signature_for_another_chain_or_deployment_is_invalid_here(
    deployment: Deployment, domain: str
) -> None:
    d = deployment
    letter = d.request()
    if domain == "chain_id":
        signed = d.sign_authorisation([letter], chain_id=d.chain.chain_id + 1)
    else:
        signed = d.sign_authorisation([letter], registry=d.members.address)
    d.assert_reverts(d.firm, d.authorise_call(letter, signed), ConfirmationInvalidSignature)


def test_refusal_signature_is_no_authorisation(deployment: Deployment) -> None:
    d = deployment
    letter = d.request()
    refusal = d.sign_refusal([letter], reason=0)
    assert isinstance(refusal.message, Refusal)
    as_auth = Authorisation(
        refusal.message.requests_root, letter.firm, refusal.message.valid_until, refusal.message.nonce
    )
    call = d.confirmations.authorise(
        letter.letter_id, as_auth, d.auditee_ref, refusal.signer, refusal.signature, []
    )
    d.assert_reverts(d.firm, call, ConfirmationInvalidSignature)


# --- expiry, mandates, malformed signatures ----------------------------------------------------


def test_expired_authorisation_reverts(deployment: Deployment) -> None:
    d = deployment
    letter = d.request()
    past = d.sign_authorisation([letter], valid_for=-1)
    d.assert_reverts(
        d.firm, d.authorise_call(letter, past), ConfirmationAuthorisationExpired, auth_of(past).valid_until
    )
    soon = d.sign_authorisation([letter], valid_for=HOUR)
    d.advance(2 * HOUR)
    d.assert_reverts(
        d.firm, d.authorise_call(letter, soon), ConfirmationAuthorisationExpired, auth_of(soon).valid_until
    )
    d.send(d.firm, d.authorise_call(letter))  # a fresh one still works
    assert d.status(letter) == LetterStatus.AUTHORISED


def test_signer_not_on_the_mandate_reverts(deployment: Deployment) -> None:
    d = deployment
    letter = d.request()
    impostor = Account.create()
    signed = d.sign_authorisation([letter], signer=impostor)
    d.assert_reverts(
        d.firm,
        d.authorise_call(letter, signed),
        ConfirmationSignerNotMandated,
        letter.letter_id,
        signer_id(impostor.address),
    )
    # Nor does naming the mandated signer beside the impostor's signature help.
    named = dataclasses.replace(signed, signer=account_signer(d.signer.address))
    d.assert_reverts(d.firm, d.authorise_call(letter, named), ConfirmationInvalidSignature)


def test_mandate_of_one_auditee_does_not_extend_to_another(deployment: Deployment) -> None:
    d = deployment
    signer = Account.create()
    mine, theirs, elsewhere = os.urandom(32), os.urandom(32), os.urandom(32)
    d.register_mandate(d.bank, mine, signer.address)
    d.register_mandate(d.bank, theirs, Account.create().address)  # another customer's signer
    d.register_mandate(d.bank2, elsewhere, signer.address)  # the signer's customer at another bank
    letter = d.request()
    signed = d.sign_authorisation([letter], signer=signer)
    # A reference the bank never used, another customer's, the signer's own at another bank.
    for reference in (os.urandom(32), theirs, elsewhere):
        d.assert_reverts(
            d.firm,
            d.authorise_call(dataclasses.replace(letter, auditee_ref=reference), signed),
            ConfirmationSignerNotMandated,
            letter.letter_id,
            signer_id(signer.address),
        )
    assert d.confirmations.get_letter(letter.letter_id).auditee_ref == bytes(32)
    d.send(d.firm, d.authorise_call(dataclasses.replace(letter, auditee_ref=mine), signed))
    assert d.confirmations.get_letter(letter.letter_id).auditee_ref == mine


def test_the_zero_reference_is_refused_even_with_a_mandate_under_it(deployment: Deployment) -> None:
    d = deployment
    # A bank registering a mandate under the zero reference by mistake lets nobody authorise with it.
    signer = Account.create()
    d.register_mandate(d.bank, bytes(32), signer.address)
    letter = d.request(auditee_ref=bytes(32))
    for call in (
        d.authorise_call(letter, d.sign_authorisation([letter], signer=signer)),
        d.refuse_call(letter, d.sign_refusal([letter], signer=signer)),
    ):
        d.assert_reverts(
            d.firm, call, ConfirmationSignerNotMandated, letter.letter_id, signer_id(signer.address)
        )
    assert d.status(letter) == LetterStatus.REQUESTED


def test_a_refusal_under_a_reference_the_signer_holds_no_mandate_for_reverts(deployment: Deployment) -> None:
    d = deployment
    letter = d.request(auditee_ref=os.urandom(32))
    d.assert_reverts(
        d.firm,
        d.refuse_call(letter),
        ConfirmationSignerNotMandated,
        letter.letter_id,
        signer_id(d.signer.address),
    )
    assert d.status(letter) == LetterStatus.REQUESTED


def test_revoked_mandate_no_longer_authorises(deployment: Deployment) -> None:
    d = deployment
    signer = Account.create()
    d.register_mandate(d.bank, d.auditee_ref, signer.address)
    first, second = d.request(), d.request()
    d.send(d.firm, d.authorise_call(first, d.sign_authorisation([first], signer=signer)))

    receipt = d.send(d.bank, d.confirmations.revoke_mandate(d.auditee_ref, signer.address))
    assert d.single_event(receipt, "MandateRevoked") == {
        "bank": d.bank.member_id,
        "auditeeRef": d.auditee_ref,
        "signerId": signer_id(signer.address),
    }
    assert d.confirmations.mandate_valid_until(d.bank.member_id, d.auditee_ref, signer.address) == 0
    signed = d.sign_authorisation([second], signer=signer)
    d.assert_reverts(
        d.firm,
        d.authorise_call(second, signed),
        ConfirmationSignerNotMandated,
        second.letter_id,
        signer_id(signer.address),
    )
    # Another signer's mandate for the same auditee is untouched.
    d.send(d.firm, d.authorise_call(second))


def test_expired_mandate_no_longer_authorises(deployment: Deployment) -> None:
    d = deployment
    signer = Account.create()
    receipt = d.register_mandate(d.bank, d.auditee_ref, signer.address, valid_for=2 * HOUR)
    event = d.single_event(receipt, "MandateRegistered")
    assert (event["bank"], event["auditeeRef"], event["signerId"]) == (
        d.bank.member_id,
        d.auditee_ref,
        signer_id(signer.address),
    )
    assert (
        d.confirmations.mandate_valid_until(d.bank.member_id, d.auditee_ref, signer.address)
        == event["validUntil"]
    )
    letter = d.request()
    d.advance(3 * HOUR)
    signed = d.sign_authorisation([letter], signer=signer)
    d.assert_reverts(
        d.firm,
        d.authorise_call(letter, signed),
        ConfirmationSignerNotMandated,
        letter.letter_id,
        signer_id(signer.address),
    )
    # Renewing the mandate lets the same signature through.
    d.register_mandate(d.bank, d.auditee_ref, signer.address, valid_for=DAY)
    d.send(d.firm, d.authorise_call(letter, signed))
    assert d.status(letter) == LetterStatus.AUTHORISED


def test_mandate_registration_rules(deployment: Deployment) -> None:
    d = deployment
    c = d.confirmations
    signer = Account.create().address
    for party in (d.firm, d.regulator, d.operator):
        d.assert_reverts(
            party,
            c.register_mandate(d.auditee_ref, signer, d.now() + DAY),
            MemberRegistryWrongRole,
            party.member_id,
            Role.BANK,
            party.role,
        )
    no_code = os.urandom(20)  # a "verifier" address without code, then a key
    for bad in (bytes(20), bytes(20) + os.urandom(64), os.urandom(19), b"", no_code + os.urandom(64)):
        # Encoded directly: the wrapper refuses a signer shorter than an address itself.
        data = c.encode_call("registerMandate", d.auditee_ref, bad, d.now() + DAY)
        raw = Call(to=c.address, data=HexBytes(data), label="registerMandate")
        d.assert_reverts(d.bank, raw, ConfirmationInvalidMandate, bad)
    with pytest.raises(ValueError, match="at least 20 bytes"):
        c.register_mandate(d.auditee_ref, os.urandom(19), d.now() + DAY)
    d.assert_reverts(
        d.bank,
        c.register_mandate(d.auditee_ref, signer, d.now()),
        ConfirmationInvalidMandate,
        account_signer(signer),
    )
    d.assert_reverts(
        d.firm,
        c.revoke_mandate(d.auditee_ref, signer),
        MemberRegistryWrongRole,
        d.firm.member_id,
        Role.BANK,
        Role.AUDIT_FIRM,
    )


def _malleated(signature: bytes) -> bytes:
    """The other valid-looking (high-s) signature of the same message."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64]), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32) + bytes([55 - v])  # 27 <-> 28


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda sig: b"", id="empty"),
        pytest.param(lambda sig: sig[:64], id="64_bytes"),
        pytest.param(lambda sig: sig + b"\x00", id="66_bytes"),
        pytest.param(lambda sig: sig[:64] + b"\x1d", id="v_29"),
        pytest.param(lambda sig: bytes(65), id="zeros"),
        pytest.param(_malleated, id="high_s"),
    ],
)
def test_malformed_signature_reverts(deployment: Deployment, mangle: Any) -> None:
    d = deployment
    letter = d.request()
    signed = d.sign_authorisation([letter])
    bad = dataclasses.replace(signed, signature=mangle(signed.signature))
    d.assert_reverts(d.firm, d.authorise_call(letter, bad), ConfirmationInvalidSignature)
    d.send(d.firm, d.authorise_call(letter, signed))


# --- refusals ----------------------------------------------------------------------------------


def test_refusal_is_recorded_and_blocks_the_letter(deployment: Deployment) -> None:
    d = deployment
    letter = d.request()
    receipt = d.send(d.bank2, d.refuse_call(letter, d.sign_refusal([letter], reason=4)))
    assert d.single_event(receipt, "AuthorisationRefused") == {
        "letterId": letter.letter_id,
        "firm": d.firm.member_id,
        "bank": d.bank.member_id,
        "auditeeRef": d.auditee_ref,
        "signerId": signer_id(d.signer.address),
        "reason": 4,
    }
    assert d.status(letter) == LetterStatus.REFUSED
    assert d.confirmations.get_letter(letter.letter_id).auditee_ref == d.auditee_ref
    assert not d.confirmations.is_overdue(letter.letter_id)
    unexpected = (letter.letter_id, LetterStatus.REFUSED, status_bitmap(LetterStatus.REQUESTED))
    d.assert_reverts(d.firm, d.authorise_call(letter), ConfirmationUnexpectedStatus, *unexpected)
    d.assert_reverts(d.firm, d.refuse_call(letter), ConfirmationUnexpectedStatus, *unexpected)
    awaiting = status_bitmap(LetterStatus.REQUESTED, LetterStatus.AUTHORISED, LetterStatus.ACCEPTED)
    d.assert_reverts(
        d.firm,
        d.confirmations.withdraw(letter.letter_id),
        ConfirmationUnexpectedStatus,
        letter.letter_id,
        LetterStatus.REFUSED,
        awaiting,
    )


def test_refusal_needs_the_same_checks_as_an_authorisation(deployment: Deployment) -> None:
    d = deployment
    letter, other = d.request(), d.request()
    impostor = Account.create()
    d.assert_reverts(
        d.firm,
        d.refuse_call(letter, d.sign_refusal([letter], signer=impostor)),
        ConfirmationSignerNotMandated,
        letter.letter_id,
        signer_id(impostor.address),
    )
    expired = d.sign_refusal([letter], valid_for=-1)
    assert isinstance(expired.message, Refusal)
    d.assert_reverts(
        d.firm, d.refuse_call(letter, expired), ConfirmationAuthorisationExpired, expired.message.valid_until
    )
    d.assert_reverts(
        d.firm,
        d.refuse_call(letter, d.sign_refusal([letter], firm=d.firm2.member_id)),
        ConfirmationAuthorisationWrongFirm,
        letter.letter_id,
        d.firm2.member_id,
    )
    signed = d.sign_refusal([other])
    assert isinstance(signed.message, Refusal)
    call = d.confirmations.refuse_authorisation(
        letter.letter_id, signed.message, d.auditee_ref, signed.signer, signed.signature, []
    )
    d.assert_reverts(d.firm, call, ConfirmationAuthorisationNotCovering, letter.letter_id)


def test_authorised_letter_can_no_longer_be_refused(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.AUTHORISED)
    d.assert_reverts(
        d.firm,
        d.refuse_call(letter),
        ConfirmationUnexpectedStatus,
        letter.letter_id,
        LetterStatus.AUTHORISED,
        status_bitmap(LetterStatus.REQUESTED),
    )


# --- Python and Solidity agree -----------------------------------------------------------------


@on_shared_deployment
@given(root=bytes32, firm=uint32, valid_until=uint64, nonce=st.integers(min_value=0, max_value=2**256 - 1))
def test_python_authorisation_digest_equals_the_contracts(
    deployment: Deployment, root: bytes, firm: int, valid_until: int, nonce: int
) -> None:
    d = deployment
    auth = Authorisation(root, firm, valid_until, nonce)
    typed = authorisation_typed_data(auth, chain_id=d.chain.chain_id, registry=d.confirmations.address)
    assert typed_data_digest(typed) == d.confirmations.authorisation_digest(auth)


@on_shared_deployment
@given(
    root=bytes32,
    firm=uint32,
    reason=st.integers(min_value=0, max_value=2**16 - 1),
    valid_until=uint64,
    nonce=st.integers(min_value=0, max_value=2**256 - 1),
)
def test_python_refusal_digest_equals_the_contracts(
    deployment: Deployment, root: bytes, firm: int, reason: int, valid_until: int, nonce: int
) -> None:
    d = deployment
    refusal = Refusal(root, firm, reason, valid_until, nonce)
    typed = refusal_typed_data(refusal, chain_id=d.chain.chain_id, registry=d.confirmations.address)
    assert typed_data_digest(typed) == d.confirmations.refusal_digest(refusal)


@on_shared_deployment
@given(letter_id=bytes32, letter_hash=bytes32, bank=uint32)
def test_python_leaf_equals_the_contracts(
    deployment: Deployment, letter_id: bytes, letter_hash: bytes, bank: int
) -> None:
    leaf = LetterLeaf(letter_id, letter_hash, bank)
    assert leaf.hash() == deployment.confirmations.authorisation_leaf(letter_id, letter_hash, bank)


def _oz_process_proof(proof: list[bytes], leaf: bytes) -> bytes:
    """OpenZeppelin's MerkleProof.processProof, written out independently of RequestsTree."""
    computed = leaf
    for sibling in proof:
        computed = keccak(min(computed, sibling) + max(computed, sibling))
    return computed


leaves = st.lists(
    st.builds(LetterLeaf, bytes32, bytes32, uint32),
    min_size=1,
    max_size=17,
    unique_by=lambda leaf: leaf.letter_id,
)


@settings(max_examples=200, deadline=None)
@given(leaves=leaves)
def test_python_merkle_proofs_verify_as_openzeppelin_does(leaves: list[LetterLeaf]) -> None:
    tree = RequestsTree(leaves)
    for leaf in leaves:
        proof = tree.proof(leaf.letter_id)
        assert len(proof) <= max(1, len(leaves) - 1).bit_length()
        assert _oz_process_proof(proof, leaf.hash()) == tree.root
    # And no leaf verifies with another leaf's proof (unless the trees are trivially equal).
    if len(leaves) > 1:
        first, second = leaves[0], leaves[1]
        assert _oz_process_proof(tree.proof(first.letter_id), second.hash()) != tree.root


def test_requests_tree_refuses_empty_and_duplicate_letters() -> None:
    leaf = LetterLeaf(b"\x01" * 32, b"\x02" * 32, 4)
    with pytest.raises(ValueError, match="at least one"):
        RequestsTree([])
    with pytest.raises(ValueError, match="twice"):
        RequestsTree([leaf, leaf])
