"""The auditee's authorisation off chain: Merkle trees of letters and EIP-712 signatures.

Mirrors ConfirmationRegistry exactly: the leaf of a letter, the tree (OpenZeppelin's sorted-pair
MerkleProof), and the EIP-712 domain and types, so that what a signer signs here verifies there.
A signer is an ERC-7913 key (node_gateway.chain.signers); :func:`verified_signer` checks a
signature as the contract does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from node_gateway.chain.contracts import Authorisation, ConfirmationRegistry, Refusal
from node_gateway.chain.signers import Signer, account_signer, as_signer
from node_gateway.protocol.hashing import keccak256

DOMAIN_NAME = "confirmnet ConfirmationRegistry"
DOMAIN_VERSION = "1"

_AUTHORISATION_FIELDS = [
    {"name": "requestsRoot", "type": "bytes32"},
    {"name": "firm", "type": "uint32"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
]
_REFUSAL_FIELDS = [
    {"name": "requestsRoot", "type": "bytes32"},
    {"name": "firm", "type": "uint32"},
    {"name": "reason", "type": "uint16"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
]


@dataclass(frozen=True)
class LetterLeaf:
    """What one leaf of a requests tree binds: the letter, its hash and its bank. The auditee's
    reference is not in it: the relaying firm supplies the one the signer is mandated under."""

    letter_id: bytes
    letter_hash: bytes
    bank: int

    def hash(self) -> bytes:
        # Hashed twice so that a leaf can never be mistaken for an inner node of the tree. The ABI
        # encoding of (bytes32, bytes32, uint32), written out: eth-abi's encoder took most of the
        # time of a verifier's check of a proof.
        if len(self.letter_id) != 32 or len(self.letter_hash) != 32 or not 0 <= self.bank < 2**32:
            raise ValueError("a leaf binds a 32-byte letter id and hash and a uint32 bank")
        inner = bytes(self.letter_id) + bytes(self.letter_hash) + self.bank.to_bytes(32, "big")
        return keccak256(keccak256(inner))


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak256(a + b) if a < b else keccak256(b + a)


class RequestsTree:
    """A Merkle tree over letter leaves, compatible with OpenZeppelin's MerkleProof."""

    def __init__(self, leaves: Sequence[LetterLeaf]) -> None:
        if not leaves:
            raise ValueError("a requests tree needs at least one letter")
        self.leaves = list(leaves)
        self._index = {leaf.letter_id: i for i, leaf in enumerate(self.leaves)}
        if len(self._index) != len(self.leaves):
            raise ValueError("a letter appears twice in the requests tree")
        self._levels: list[list[bytes]] = [[leaf.hash() for leaf in self.leaves]]
        while len(self._levels[-1]) > 1:
            level = self._levels[-1]
            # An unpaired last node moves up unchanged.
            self._levels.append(
                [
                    _pair(*level[i : i + 2]) if i + 1 < len(level) else level[i]
                    for i in range(0, len(level), 2)
                ]
            )

    @property
    def root(self) -> bytes:
        return self._levels[-1][0]

    def proof(self, letter_id: bytes) -> list[bytes]:
        """The sibling hashes from the letter's leaf up to the root."""
        index = self._index[letter_id]
        proof: list[bytes] = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


def process_proof(leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from a leaf's hash (OpenZeppelin's ``MerkleProof.processProof``)."""
    computed = leaf_hash
    for sibling in proof:
        computed = _pair(computed, sibling)
    return computed


def _typed_data(
    primary: str, fields: list[dict[str, str]], message: dict[str, Any], chain_id: int, registry: str
) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary: fields,
        },
        "primaryType": primary,
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": registry,
        },
        "message": message,
    }


def authorisation_typed_data(auth: Authorisation, *, chain_id: int, registry: str) -> dict[str, Any]:
    """The EIP-712 document a signer's wallet shows and signs for ``auth``."""
    message = {
        "requestsRoot": auth.requests_root,
        "firm": auth.firm,
        "validUntil": auth.valid_until,
        "nonce": auth.nonce,
    }
    return _typed_data("Authorisation", _AUTHORISATION_FIELDS, message, chain_id, registry)


def refusal_typed_data(refusal: Refusal, *, chain_id: int, registry: str) -> dict[str, Any]:
    """The EIP-712 document a signer's wallet shows and signs for ``refusal``."""
    message = {
        "requestsRoot": refusal.requests_root,
        "firm": refusal.firm,
        "reason": refusal.reason,
        "validUntil": refusal.valid_until,
        "nonce": refusal.nonce,
    }
    return _typed_data("Refusal", _REFUSAL_FIELDS, message, chain_id, registry)


def sign_typed_data(signer: LocalAccount, typed_data: dict[str, Any]) -> bytes:
    """A 65-byte signature over an EIP-712 document."""
    return bytes(signer.sign_message(encode_typed_data(full_message=typed_data)).signature)


def recover_signer(typed_data: dict[str, Any], signature: bytes) -> ChecksumAddress:
    """The account whose key made ``signature`` over an EIP-712 document, as the contract's ECDSA
    recovery finds it; ValueError if the signature does not decode."""
    return recover_signer_from_digest(typed_data_digest(typed_data), signature)


def recover_signer_from_digest(digest: bytes, signature: bytes) -> ChecksumAddress:
    """:func:`recover_signer` from the document's :func:`typed_data_digest`, for a caller that
    needs the digest too: encoding the document is most of the cost of a recovery."""
    try:
        # What Account.recover_message does once it has hashed the message.
        signer = Account._recover_hash(digest, signature=signature)
    except Exception as exc:  # eth-account raises several kinds for a malformed signature
        raise ValueError(f"the signature does not decode: {exc}") from exc
    return ChecksumAddress(signer)


def typed_data_digest(typed_data: dict[str, Any]) -> bytes:
    """The EIP-712 digest of a document, as the contract computes it."""
    signable = encode_typed_data(full_message=typed_data)
    return keccak256(b"\x19" + signable.version + signable.header + signable.body)


def verified_signer(
    registry: ConfirmationRegistry, typed_data: dict[str, Any], signature: bytes, signer: Signer | None = None
) -> bytes:
    """The ERC-7913 signer whose ``signature`` is over an EIP-712 document; ValueError if none.

    Without ``signer`` the signature is an ordinary key's, and the account it recovers to is the
    signer. With ``signer`` (a contract account, a passkey, a P-256 or RSA key, or an account too)
    the registry's ``isValidAuditeeSignature`` decides in an ``eth_call``: the very check
    ``authorise`` and ``refuseAuthorisation`` make.
    """
    if signer is None:
        return account_signer(recover_signer(typed_data, signature))
    raw = as_signer(signer)
    if not registry.is_valid_auditee_signature(raw, typed_data_digest(typed_data), signature):
        raise ValueError("the signature is not the named signer's over this authorisation")
    return raw
