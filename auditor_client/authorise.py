"""The auditee's signer: review exactly what a bundle asks it to sign, then sign or refuse.

A bundle (``POST /v1/authorisations/requests`` at the audit firm's gateway) holds the EIP-712
document and, for every letter it covers, the letter itself and its salt. Nothing in it is
trusted: :func:`review_bundle` re-hashes every letter, checks it names the firm and bank the leaf
commits to (and, given the signer's registration codes, that it names the signer's company as its
auditee: the bank checks on arrival that the letter's auditee is the customer the signer's mandate
is for), rebuilds the Merkle root over the leaves and rebuilds the EIP-712 document
from its parts. :func:`sign_review` then signs that rebuilt document, never the bundle's own
JSON, and refuses if any check failed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount

from auditor_client.errors import AuditorClientError
from node_gateway.chain.authorisation import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    LetterLeaf,
    RequestsTree,
    authorisation_typed_data,
    refusal_typed_data,
    sign_typed_data,
)
from node_gateway.chain.contracts import Authorisation, Refusal
from node_gateway.chain.network import NetworkFile
from node_gateway.protocol import (
    ConfirmationLetter,
    InvalidDocument,
    as_salt,
    document_hash,
    from_hex,
    parse_letter,
    to_hex,
)
from node_gateway.protocol.wire import AuthorisationBundle, SignedAuthorisation

MAX_VALIDITY_S = 180 * 86400  # the mandate practice: an authorisation holds for 180 days
PASSPHRASE_ENV = "CONFIRMNET_SIGNER_PASSPHRASE"  # noqa: S105 - the variable's name, no secret
PASSPHRASE_FILE_ENV = "CONFIRMNET_SIGNER_PASSPHRASE_FILE"  # noqa: S105

MAX_REFUSAL_WORDS = 500  # as POST /v1/authorisations takes a refusal's reason_text

Kind = Literal["authorise", "refuse"]


class AuthoriseError(AuditorClientError):
    """The bundle cannot be reviewed at all, the key cannot be opened, or signing is refused."""


@dataclass(frozen=True)
class Finding:
    """One check of the review; ``letter_id`` is None for checks of the whole bundle."""

    name: str
    ok: bool
    detail: str
    letter_id: str | None = None


@dataclass(frozen=True)
class CoveredLetter:
    letter_id: str
    letter: ConfirmationLetter | None
    letter_hash: str
    bank: int


@dataclass
class Review:
    """What a bundle asks the signer to sign, and whether every part of it holds."""

    primary_type: str
    chain_id: int
    registry: str
    requests_root: str
    firm: int
    valid_until: int
    nonce: int
    reason: int | None
    letters: list[CoveredLetter] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def note(self, name: str, ok: bool, detail: str, letter_id: str | None = None) -> None:
        self.findings.append(Finding(name, ok, detail, letter_id))

    def typed_data(self, kind: Kind, reason: int | None = None) -> dict[str, Any]:
        """The EIP-712 document to sign, rebuilt from the reviewed parts."""
        root = from_hex(self.requests_root)
        if kind == "authorise":
            auth = Authorisation(root, self.firm, self.valid_until, self.nonce)
            return authorisation_typed_data(auth, chain_id=self.chain_id, registry=self.registry)
        if reason is None:
            raise AuthoriseError("a refusal needs a reason")
        refusal = Refusal(root, self.firm, reason, self.valid_until, self.nonce)
        return refusal_typed_data(refusal, chain_id=self.chain_id, registry=self.registry)


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise AuthoriseError(f"the bundle's {name} is not a number")
    try:
        return int(value, 0) if isinstance(value, str) else value
    except ValueError as exc:
        raise AuthoriseError(f"the bundle's {name} is not a number") from exc


def _hex32(value: Any, name: str) -> str:
    try:
        raw = from_hex(str(value))
    except ValueError as exc:
        raise AuthoriseError(f"the bundle's {name} is not hex") from exc
    if len(raw) != 32:
        raise AuthoriseError(f"the bundle's {name} is not 32 bytes")
    return to_hex(raw)


def load_bundle(path: Path) -> AuthorisationBundle:
    try:
        return AuthorisationBundle.model_validate_json(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise AuthoriseError(f"{path} is not an authorisation bundle: {exc}") from exc


def _normalised(typed: dict[str, Any]) -> dict[str, Any]:
    message = {k: (to_hex(v) if isinstance(v, bytes) else v) for k, v in typed["message"].items()}
    domain = {**typed["domain"], "verifyingContract": str(typed["domain"]["verifyingContract"]).lower()}
    return {**typed, "message": message, "domain": domain}


def review_bundle(
    bundle: AuthorisationBundle,
    *,
    auditee_codes: Sequence[str] = (),
    network: NetworkFile | None = None,
    now: int | None = None,
) -> Review:
    """Re-checks everything a bundle claims, from its documents and salts alone.

    ``auditee_codes`` are the signer's company's registration codes (canonical spelling); with them
    the review also checks that each letter names one of them as its auditee (the bank checks on
    arrival that it is the customer the signer's mandate is for). ``network`` pins the chain and
    contract the signature may be valid on; without it they are taken from the bundle and shown.
    """
    now = int(time.time()) if now is None else now
    typed = bundle.typed_data
    try:
        domain, message = typed["domain"], typed["message"]
        review = Review(
            primary_type=str(typed["primaryType"]),
            chain_id=_int(domain["chainId"], "chain id"),
            registry=str(domain["verifyingContract"]),
            requests_root=_hex32(message["requestsRoot"], "requests root"),
            firm=_int(message["firm"], "firm"),
            valid_until=_int(message["validUntil"], "expiry"),
            nonce=_int(message["nonce"], "nonce"),
            reason=_int(message["reason"], "reason") if "reason" in message else None,
        )
    except (KeyError, TypeError) as exc:
        raise AuthoriseError(f"the bundle's EIP-712 document lacks {exc}") from exc
    _review_domain(review, typed, network)
    _review_expiry(review, now)
    leaves = [_review_letter(review, entry, auditee_codes) for entry in bundle.letters]
    _review_root(review, leaves)
    return review


def _review_domain(review: Review, typed: dict[str, Any], network: NetworkFile | None) -> None:
    if review.primary_type not in ("Authorisation", "Refusal"):
        review.note("document", False, f"asks to sign a {review.primary_type!r}, not an authorisation")
        return
    domain = typed["domain"]
    if (domain.get("name"), domain.get("version")) != (DOMAIN_NAME, DOMAIN_VERSION):
        review.note("domain", False, f"the EIP-712 domain is {domain.get('name')!r} v{domain.get('version')}")
    kind: Kind = "authorise" if review.primary_type == "Authorisation" else "refuse"
    rebuilt = _normalised(review.typed_data(kind, review.reason))
    if _normalised(typed) != rebuilt:
        review.note("document", False, "the EIP-712 document has fields or types other than the protocol's")
    else:
        review.note("document", True, f"a standard EIP-712 {review.primary_type} of the protocol")
    if network is None:
        review.note(
            "network",
            True,
            f"chain {review.chain_id}, ConfirmationRegistry {review.registry} (from the bundle; "
            "pass the network file to pin them)",
        )
    elif (network.chain_id, network.confirmation_registry.lower()) != (
        review.chain_id,
        review.registry.lower(),
    ):
        review.note(
            "network",
            False,
            f"the bundle is for chain {review.chain_id} at {review.registry}; the network file says "
            f"chain {network.chain_id} at {network.confirmation_registry}",
        )
    else:
        review.note("network", True, f"chain {review.chain_id}, ConfirmationRegistry {review.registry}")


def _review_expiry(review: Review, now: int) -> None:
    if review.valid_until <= now:
        review.note("expiry", False, "the authorisation would already have expired")
    elif review.valid_until > now + MAX_VALIDITY_S + 86400:
        days = (review.valid_until - now) // 86400
        review.note("expiry", False, f"valid for {days} days; an authorisation holds for 180 days at most")
    else:
        review.note("expiry", True, f"valid for {(review.valid_until - now) // 86400} more days")


def _review_letter(review: Review, entry: dict[str, Any], auditee_codes: Sequence[str]) -> LetterLeaf | None:
    letter_id = str(entry.get("letter_id", "")).lower()
    try:
        letter_hash = _hex32(entry.get("letter_hash"), "letter hash")
        bank = _int(entry.get("bank"), "bank")
        salt = as_salt(from_hex(str(entry.get("salt", ""))))
        letter = parse_letter(entry.get("document") or {})
    except (AuthoriseError, ValueError, InvalidDocument) as exc:
        review.note("letter", False, f"cannot be read: {exc}", letter_id)
        return None
    review.letters.append(CoveredLetter(letter_id, letter, letter_hash, bank))
    problems = []
    if letter.letter_id != letter_id:
        problems.append(f"the document is letter {letter.letter_id}")
    if to_hex(document_hash(letter, salt)) != letter_hash:
        problems.append("the document and its salt do not give the letter hash")
    if letter.bank.member_no != bank:
        problems.append(f"the document is addressed to bank {letter.bank.member_no}, the leaf to {bank}")
    if letter.audit_firm.member_no != review.firm:
        problems.append(
            f"the document is from firm {letter.audit_firm.member_no}, the authorisation for {review.firm}"
        )
    if problems:
        review.note("letter", False, "; ".join(problems), letter_id)
    else:
        review.note(
            "letter", True, "the document hashes to the letter hash and names its bank and firm", letter_id
        )
    if auditee_codes:
        code = letter.auditee.registration_code
        if code in auditee_codes:
            review.note("auditee", True, f"the letter's auditee is {code}", letter_id)
        else:
            review.note("auditee", False, f"the letter's auditee is {code}, not your company", letter_id)
    return LetterLeaf(bytes.fromhex(letter_id[2:]), bytes.fromhex(letter_hash[2:]), bank)


def _review_root(review: Review, leaves: Sequence[LetterLeaf | None]) -> None:
    if not leaves:
        review.note("root", False, "the bundle covers no letter")
        return
    if any(leaf is None for leaf in leaves):
        review.note("root", False, "not every letter could be read, so the root cannot be rebuilt")
        return
    try:
        tree = RequestsTree([leaf for leaf in leaves if leaf is not None])
    except ValueError as exc:
        review.note("root", False, str(exc))
        return
    if to_hex(tree.root) != review.requests_root:
        review.note(
            "root",
            False,
            f"the letters give the root {to_hex(tree.root)}, the bundle asks for {review.requests_root}",
        )
    else:
        review.note("root", True, f"the {len(leaves)} letters give exactly the requests root")


def refusal_words(text: str | None) -> str | None:
    """A refusal's reason in words as the firm's gateway takes it (trimmed, 1 to 500 characters)."""
    if text is None:
        return None
    words = text.strip()
    if not 1 <= len(words) <= MAX_REFUSAL_WORDS:
        raise AuthoriseError(
            f"the reason in words is 1 to {MAX_REFUSAL_WORDS} characters; it has {len(words)}"
        )
    return words


def sign_review(
    review: Review,
    account: LocalAccount,
    *,
    kind: Kind,
    reason: int | None = None,
    reason_text: str | None = None,
) -> SignedAuthorisation:
    """Signs the rebuilt EIP-712 document of a review that passed every check. A refusal may give
    its reason in words (``reason_text``, ISA 505 ¶8): sent beside the signature, never signed
    nor put on chain; the firm keeps it with each letter."""
    if not review.ok:
        failed = "; ".join(f"{f.name}: {f.detail}" for f in review.failures)
        raise AuthoriseError(f"refusing to sign: {failed}")
    if kind == "refuse" and reason is None:
        raise AuthoriseError("a refusal needs a reason")
    if kind == "authorise" and reason_text is not None:
        raise AuthoriseError("a reason in words goes with a refusal; an authorisation has none")
    words = refusal_words(reason_text)
    signature = sign_typed_data(account, review.typed_data(kind, reason))
    return SignedAuthorisation(
        letter_ids=[letter.letter_id for letter in review.letters],
        requests_root=review.requests_root,
        firm=review.firm,
        valid_until=review.valid_until,
        nonce=review.nonce,
        signature=to_hex(signature),
        reason=reason if kind == "refuse" else None,
        reason_text=words,
    )


# --- the signer's keystore (Ethereum keystore v3, as wallets write it) -------------------------


def read_passphrase(passphrase_file: Path | None) -> str | None:
    """The keystore passphrase from a file, ``CONFIRMNET_SIGNER_PASSPHRASE(_FILE)``, or None."""
    path = passphrase_file or (
        Path(os.environ[PASSPHRASE_FILE_ENV]) if os.environ.get(PASSPHRASE_FILE_ENV) else None
    )
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise AuthoriseError(f"cannot read the passphrase file: {exc}") from exc
    return os.environ.get(PASSPHRASE_ENV)


def create_keystore(path: Path, passphrase: str) -> LocalAccount:
    """A new signer key, written encrypted to ``path`` (never overwriting a file)."""
    if len(passphrase) < 8:
        raise AuthoriseError("choose a passphrase of at least 8 characters")
    account: LocalAccount = Account.create()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise AuthoriseError(f"{path} exists; a keystore is never overwritten") from exc
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(Account.encrypt(account.key, passphrase), handle)
    return account


def open_keystore(path: Path, passphrase: str) -> LocalAccount:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuthoriseError(f"{path} is not a keystore: {exc}") from exc
    try:
        account: LocalAccount = Account.from_key(Account.decrypt(document, passphrase))
    except ValueError as exc:
        raise AuthoriseError(f"the passphrase does not open {path}") from exc
    return account
