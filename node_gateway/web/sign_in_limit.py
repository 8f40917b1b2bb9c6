"""The sign-in limit: failed sign-ins (a wrong password, a wrong TOTP code) for one user name, and
from one client address, are slowed and then refused for a while.

Each failure is counted in the gateway's database (``sign_in_failures``), so the limit holds across
the gateway's workers and restarts. After ``Policy.free`` failures every attempt waits a little
longer (1, 2, 4… seconds after the last failure, ``MAX_WAIT`` at most); after ``Policy.refuse_at``
failures the name or address is refused for ``Policy.lockout``. An attempt refused meanwhile is not
checked and not counted (a stranger's hammering cannot lengthen it). Failures are forgotten
``FORGET`` after the last one, and a name's when its user signs in fully (after the TOTP code when
the user has TOTP: the password alone does not wipe the failed codes). An address's failures only
age away: one person's success does not clear the names someone else tried from the same address.

A name is counted whether or not such a user exists, so the answer is the same either way (no user
enumeration); the keys are SHA-256 digests, so nothing anyone typed is stored.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node_gateway.errors import TooManyAttempts
from node_gateway.storage.models import SignInFailures, utcnow

FORGET = timedelta(minutes=15)
MAX_WAIT = timedelta(minutes=1)


@dataclass(frozen=True)
class Policy:
    free: int  # failures without any wait
    refuse_at: int  # failures after which the key is refused for ``lockout``
    lockout: timedelta

    def wait(self, failures: int) -> timedelta:
        """How long after the last failure the next attempt must wait."""
        if failures < self.free:
            return timedelta(0)
        if failures >= self.refuse_at:
            return self.lockout
        return min(timedelta(seconds=2 ** (failures - self.free)), MAX_WAIT)


# An office signs in from behind one address: it gets more failures than one name does.
BY_NAME = Policy(free=3, refuse_at=10, lockout=FORGET)
BY_ADDRESS = Policy(free=10, refuse_at=50, lockout=FORGET)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def name_key(name: str) -> str:
    return _key("name", name.strip().casefold())


def address_key(address: str) -> str:
    return _key("address", address)


def _count(session: Session, key: str, now: datetime) -> bool:
    """Adds a failure to ``key``'s count; False when it has none yet."""
    counted = session.execute(
        update(SignInFailures)
        .where(SignInFailures.key == key)
        .values(failures=SignInFailures.failures + 1, last_failed_at=now)
    )
    return bool(counted.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SignInLimit:
    """The limit, with the clock it reads (tests give their own)."""

    clock: Callable[[], datetime] = utcnow

    def check(self, session: Session, name: str, address: str) -> None:
        """Raises TooManyAttempts while ``name`` or ``address`` must wait."""
        policies = {name_key(name): BY_NAME, address_key(address): BY_ADDRESS}
        found = session.execute(
            select(SignInFailures.key, SignInFailures.failures, SignInFailures.last_failed_at).where(
                SignInFailures.key.in_(policies)
            )
        )
        now = self.clock()
        until = max([now, *(last + policies[key].wait(failures) for key, failures, last in found)])
        if until > now:
            seconds = math.ceil((until - now).total_seconds())
            raise TooManyAttempts(f"too many failed sign-ins: try again in {seconds} s", seconds)

    def failed(self, session: Session, name: str, address: str) -> None:
        """Counts a failure for ``name`` and for ``address`` (stale counts forgotten first)."""
        now = self.clock()
        session.execute(delete(SignInFailures).where(SignInFailures.last_failed_at <= now - FORGET))
        for key in (name_key(name), address_key(address)):
            if _count(session, key, now):
                continue
            try:
                with session.begin_nested():  # another worker may count the same key meanwhile
                    session.add(SignInFailures(key=key, failures=1, last_failed_at=now))
            except IntegrityError:
                _count(session, key, now)

    def succeeded(self, session: Session, name: str) -> None:
        """``name`` signed in fully: its failures are forgotten."""
        session.execute(delete(SignInFailures).where(SignInFailures.key == name_key(name)))


def default_limit() -> SignInLimit:
    """The pages' dependency (tests override it with their clock)."""
    return SignInLimit()
