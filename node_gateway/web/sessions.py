"""Signed-in people: server-side sessions in the gateway's database, and their CSRF tokens.

The cookie holds a random token (HttpOnly, SameSite=Strict, Secure when the gateway's public URL is
https); the ``web_sessions`` row holds only its SHA-256, the user, the session's CSRF token and the
step of the sign-in still due (``pending``: "totp", then "password" for a one-time password). A
session ends after ``IDLE`` without a request, after ``LIFETIME`` in any case, at sign-out, and
when its user is revoked.

Every form posts the session's CSRF token (a hidden ``csrf_token`` field; htmx sends it as the
``X-CSRF-Token`` header); the sign-in form, before any session, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from node_gateway.core.security import User, user_by_id
from node_gateway.storage.models import WebSession, utcnow

COOKIE = "cn_session"
SIGN_IN_COOKIE = "cn_sign_in"  # the sign-in form's double-submit CSRF token
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)

PENDING_TOTP = "totp"
PENDING_PASSWORD = "password"  # noqa: S105 (a step of the sign-in, not a password)


@dataclass
class Person:
    """Who is signed in through this request's session."""

    user: User
    row: WebSession
    flash: str | None = None

    @property
    def csrf_token(self) -> str:
        return self.row.csrf_token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(created_at: datetime, now: datetime) -> datetime:
    return min(created_at + LIFETIME, now + IDLE)


def start(session: Session, user: User, pending: str | None) -> str:
    """A new session for ``user`` (its token, for the cookie); expired sessions are swept."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            pending=pending,
            created_at=now,
            last_seen_at=now,
            expires_at=_expiry(now, now),
        )
    )
    return token


def load(session: Session, token: str | None) -> Person | None:
    """The person of a live session, its idle time reset; None if there is none."""
    if not token:
        return None
    row = session.get(WebSession, _digest(token))
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    user = user_by_id(session, row.user_id)
    if user is None:  # revoked since
        session.delete(row)
        return None
    row.last_seen_at, row.expires_at = now, _expiry(row.created_at, now)
    return Person(user, row)


def end(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(32)
