"""Users of a gateway: per-user API keys (for programs) and passwords (for people), stored hashed,
an optional TOTP second factor, and roles within the member.

A key reads ``cn_<key id>_<secret>``. The id finds the user; only a SHA-256 of the 256-bit random
secret is stored (a slow hash adds nothing for secrets that cannot be guessed). A password, which
a person can guess, is kept as an argon2id hash (argon2-cffi's defaults, RFC 9106's second
recommended setting). A password set by an admin (or the CLI) is a one-time password: the user
chooses their own at the next sign-in. A TOTP secret (RFC 6238, 30-second steps) is stored sealed
with the member's storage key and never shown again after enrolment; a code is accepted once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from node_gateway.core.config import MemberRole
from node_gateway.errors import InvalidRequest, NotAuthenticated
from node_gateway.storage.models import UserRow, utcnow

ADMIN = "admin"
# The roles a user can hold at each kind of member; "admin" holds them all and manages users.
USER_ROLES: dict[MemberRole, frozenset[str]] = {
    # "auditee": a key an audit firm gives its client's signer, good only to submit a signed
    # authorisation or refusal.
    # "manager": the engagement's project manager, who reviews (审核) letters before they go out
    # and accepts (验收) replies where the firm reviews (``firm_review_required``).
    MemberRole.AUDIT_FIRM: frozenset({"auditor", "manager", "auditee", ADMIN}),
    MemberRole.BANK: frozenset({"officer", "preparer", "reviewer", ADMIN}),
    MemberRole.REGULATOR: frozenset({"analyst", ADMIN}),
    MemberRole.OPERATOR: frozenset({"operator", ADMIN}),
}


@dataclass(frozen=True)
class User:
    id: int
    name: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles or ADMIN in self.roles


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    session: Session, member_role: MemberRole, name: str, roles: set[str], *, password: str | None = None
) -> str:
    """Adds a user and returns its API key; the key is shown once and never stored. A ``password``
    is a one-time password: the user changes it at the first sign-in."""
    unknown = roles - USER_ROLES[member_role]
    if not roles or unknown:
        allowed = ", ".join(sorted(USER_ROLES[member_role]))
        raise InvalidRequest(f"roles must be among {allowed}; got {', '.join(sorted(roles)) or 'none'}")
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise InvalidRequest(f"a user named {name!r} exists")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = UserRow(name=name, roles=" ".join(sorted(roles)), key_id=key_id, key_hash=_hash(secret))
    session.add(row)
    if password is not None:
        _set_password(row, password, one_time=True)
    return f"cn_{key_id}_{secret}"


def authenticate(session: Session, api_key: str | None) -> User:
    if not api_key:
        raise NotAuthenticated("send an API key as 'Authorization: Bearer <key>'")
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "cn":
        raise NotAuthenticated("malformed API key")
    row = session.scalar(select(UserRow).where(UserRow.key_id == parts[1]))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _hash(parts[2])):
        raise NotAuthenticated("unknown or revoked API key")
    return User(id=row.id, name=row.name, roles=frozenset(row.roles.split()))


def revoke_user(session: Session, name: str) -> None:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise InvalidRequest(f"no user named {name!r}")
    row.revoked_at = utcnow()


# --- people: passwords and TOTP ------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # argon2id
# Verified against when the name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class UserInfo:
    """A user as the admin page lists it (no secret of theirs)."""

    name: str
    roles: frozenset[str]
    has_password: bool
    password_one_time: bool
    has_totp: bool
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class SignIn:
    """A user whose password was right: what the sign-in still needs."""

    user: User
    needs_totp: bool
    must_change_password: bool


def one_time_password() -> str:
    """A password an admin hands over, good for one sign-in."""
    return secrets.token_urlsafe(12)


def _check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def _set_password(row: UserRow, password: str, *, one_time: bool) -> None:
    _check_strength(password)
    row.password_hash = _hasher.hash(password)
    row.password_one_time = one_time


def _active_row(session: Session, name: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None or row.revoked_at is not None:
        raise InvalidRequest(f"no user named {name!r}")
    return row


def _user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, roles=frozenset(row.roles.split()))


def set_password(session: Session, name: str, password: str, *, one_time: bool = True) -> None:
    """Sets a user's password: a one-time password when an admin sets it, their own otherwise."""
    _set_password(_active_row(session, name), password, one_time=one_time)


def check_password(session: Session, name: str, password: str) -> SignIn:
    """The user ``name`` if ``password`` is theirs; NotAuthenticated, saying no more, otherwise."""
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    stored = row.password_hash if row is not None and row.revoked_at is None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        stored = None
    if row is None or stored is None:
        raise NotAuthenticated("wrong name or password")
    if _hasher.check_needs_rehash(stored):
        row.password_hash = _hasher.hash(password)
    return SignIn(
        _user(row), needs_totp=row.totp_sealed is not None, must_change_password=row.password_one_time
    )


def change_password(session: Session, user_id: int, current: str, new: str) -> None:
    """A user's own new password, given their current one."""
    row = session.get(UserRow, user_id)
    if row is None or row.password_hash is None:
        raise NotAuthenticated("no such user")
    try:
        _hasher.verify(row.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidRequest("the current password is wrong") from exc
    if new == current:
        raise InvalidRequest("the new password is the current one")
    _set_password(row, new, one_time=False)


def user_by_id(session: Session, user_id: int) -> User | None:
    """The user, unless revoked."""
    row = session.get(UserRow, user_id)
    return None if row is None or row.revoked_at is not None else _user(row)


def _info(row: UserRow) -> UserInfo:
    return UserInfo(
        name=row.name,
        roles=frozenset(row.roles.split()),
        has_password=row.password_hash is not None,
        password_one_time=row.password_one_time,
        has_totp=row.totp_sealed is not None,
        created_at=row.created_at,
        revoked=row.revoked_at is not None,
    )


def list_users(session: Session) -> list[UserInfo]:
    return [_info(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]


def user_info(session: Session, user_id: int) -> UserInfo:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotAuthenticated("no such user")
    return _info(row)


def _totp_aad(user_id: int) -> bytes:
    return f"confirmnet totp secret of user {user_id}".encode()


def _seal_totp(storage_key: bytes, user_id: int, secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(storage_key).encrypt(nonce, secret.encode(), _totp_aad(user_id))


def _open_totp(storage_key: bytes, user_id: int, sealed: bytes) -> str:
    try:
        return AESGCM(storage_key).decrypt(sealed[:12], sealed[12:], _totp_aad(user_id)).decode()
    except InvalidTag as exc:
        raise NotAuthenticated("the TOTP secret does not open with this gateway's storage key") from exc


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user_name: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app takes (typed in, or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user_name, issuer_name=issuer)


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The 30-second step (now, or one either side for clock drift) whose code is ``code``, if it
    comes after ``after`` (a code is good once)."""
    totp, now = pyotp.TOTP(secret), time.time()
    code = code.strip().replace(" ", "")
    for drift in (0, -1, 1):
        step = int(now // totp.interval) + drift
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enrol_totp(session: Session, storage_key: bytes, user_id: int, secret: str, code: str) -> None:
    """Turns TOTP on for a user, once they show a code of ``secret`` from their app."""
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotAuthenticated("no such user")
    step = _matching_step(secret, code, None)
    if step is None:
        raise InvalidRequest("the code does not match: check the app's clock and type the current code")
    row.totp_sealed = _seal_totp(storage_key, user_id, secret)
    row.totp_last_step = step


def check_totp(session: Session, storage_key: bytes, user_id: int, code: str) -> None:
    """Accepts a user's current TOTP code, once; NotAuthenticated otherwise."""
    row = session.get(UserRow, user_id)
    if row is None or row.totp_sealed is None:
        raise NotAuthenticated("no TOTP for this user")
    step = _matching_step(_open_totp(storage_key, user_id, row.totp_sealed), code, row.totp_last_step)
    if step is None:
        raise NotAuthenticated("wrong or already used code")
    row.totp_last_step = step


def remove_totp(session: Session, name: str) -> None:
    """Turns a user's TOTP off (an admin does it for a user who lost their device)."""
    row = _active_row(session, name)
    row.totp_sealed = None
    row.totp_last_step = None


def set_person(session: Session, name: str, display_name: str, title: str) -> None:
    """Records the person behind a user: their name and title (职务) as documents name them (a
    bank reply's 经办 and 复核), which the user name, an account, is not."""
    display_name, title = display_name.strip(), title.strip()
    if not display_name or not title or len(display_name) > 200 or len(title) > 200:
        raise InvalidRequest("a person's name and title are each 1 to 200 characters")
    row = _active_row(session, name)
    row.display_name, row.title = display_name, title
