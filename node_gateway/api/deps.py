"""Request dependencies: the node, a database session per request, the authenticated user.

Every user route names the roles it serves with one of the aliases below (``require``); none takes
just any signed-in user, so a key handed out for one purpose (the firm's ``auditee`` key) opens
nothing else. ``tests/gateway/test_api_roles.py`` holds every route against a table of its roles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from node_gateway.core.security import ADMIN, USER_ROLES, User, authenticate
from node_gateway.errors import Forbidden
from node_gateway.node import Node


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def _request_node(request: Request) -> Node:
    """``get_node`` as a coroutine: FastAPI runs a plain function dependency in a worker thread,
    a hand-off and back for every request, for what only reads the application's state."""
    return get_node(request)


NodeDep = Annotated[Node, Depends(_request_node)]


def get_session(node: NodeDep) -> Iterator[Session]:
    """A unit of work per request; the workers are woken once it has committed."""
    with node.db.session() as session:
        yield session
    node.notify()


# "function" scope: commit when the route returns, before the response goes out, so a client that
# acts on the response (the next step of the same letter) always finds this one stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A user API key: `Authorization: Bearer cn_…`")


def get_user(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    return authenticate(session, credentials.credentials if credentials else None)


CurrentUser = Annotated[User, Depends(get_user)]


def require(*roles: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through only users holding one of ``roles`` (or admin)."""
    known = set().union(*USER_ROLES.values())
    if not roles or not known.issuperset(roles):
        raise ValueError(f"unknown roles {sorted(set(roles) - known)}; roles are among {sorted(known)}")

    async def check(user: CurrentUser) -> User:  # a coroutine: no thread hand-off (``_request_node``)
        if not any(user.has(role) for role in roles):
            raise Forbidden(f"user {user.name!r} lacks the role {' or '.join(map(repr, roles))}")
        return user

    return check


Auditor = Annotated[User, Depends(require("auditor"))]
AuditorOrAuditee = Annotated[User, Depends(require("auditor", "auditee"))]
# The engagement's project manager: approves (审核) prepared letters; a manager is usually an
# auditor too, and only an auditor prepares.
Manager = Annotated[User, Depends(require("manager"))]
# Recalls a prepared letter: its preparer (an auditor) or a manager.
AuditorOrManager = Annotated[User, Depends(require("auditor", "manager"))]
# The member's letters: the firm's auditors and the bank's staff, never the firm's auditee key.
LetterReader = Annotated[User, Depends(require("auditor", "manager", "officer", "preparer", "reviewer"))]
Analyst = Annotated[User, Depends(require("analyst"))]
OperatorUser = Annotated[User, Depends(require("operator"))]
# The registry, as the operator manages it and as a firm's auditors address letters to its banks.
MemberReader = Annotated[User, Depends(require("auditor", "operator"))]
Admin = Annotated[User, Depends(require(ADMIN))]
