"""Users of a gateway's user API: per-user API keys, stored hashed, and roles within the member.

A key reads ``cn_<key id>_<secret>``. The id finds the user; only a SHA-256 of the 256-bit random
secret is stored (a slow hash adds nothing for secrets that cannot be guessed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

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
    MemberRole.AUDIT_FIRM: frozenset({"auditor", "auditee", ADMIN}),
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


def create_user(session: Session, member_role: MemberRole, name: str, roles: set[str]) -> str:
    """Adds a user and returns its API key; the key is shown once and never stored."""
    unknown = roles - USER_ROLES[member_role]
    if not roles or unknown:
        allowed = ", ".join(sorted(USER_ROLES[member_role]))
        raise InvalidRequest(f"roles must be among {allowed}; got {', '.join(sorted(roles)) or 'none'}")
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise InvalidRequest(f"a user named {name!r} exists")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session.add(UserRow(name=name, roles=" ".join(sorted(roles)), key_id=key_id, key_hash=_hash(secret)))
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
