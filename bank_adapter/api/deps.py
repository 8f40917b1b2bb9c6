"""The bank's user roles as route dependencies, and the officer a user signs as.

Every bank user reads the workflow; a ``preparer`` drafts; a ``reviewer`` approves or returns, never
a draft they prepared, and records a reply; an ``officer`` accepts and rejects letters and manages
customers' mandates. An officer is the user behind the API key: their user name is the officer id
a reply records, and the user records hold the name and title a reply names them by. Names starting with ``system:`` belong to the system's own sign-offs and are
refused to people.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from bank_adapter import approval
from bank_adapter.errors import OfficerUnnamed
from node_gateway.api.deps import require
from node_gateway.core.security import User
from node_gateway.errors import Forbidden
from node_gateway.protocol.documents import Officer

AnyBankUser = Annotated[User, Depends(require("officer", "preparer", "reviewer"))]
Preparer = Annotated[User, Depends(require("preparer"))]
Reviewer = Annotated[User, Depends(require("reviewer"))]
BankOfficer = Annotated[User, Depends(require("officer"))]


def officer(user: User, session: Session) -> Officer:
    """The officer a user acts as, by the name and title the user records hold for them (their
    user name where none is recorded yet: a reply refuses that, see ``approval.person``); the
    system's names are not for people."""
    if user.name.casefold().startswith(approval.SYSTEM_PREFIX):
        raise Forbidden(f"user {user.name!r} has a name reserved for the system's sign-offs")
    if len(user.name) > 64:
        raise Forbidden(f"user name {user.name!r} is longer than an officer id may be (64)")
    try:
        return approval.person(session, user.name)
    except OfficerUnnamed:
        return Officer(officer_id=user.name, name=user.name)
