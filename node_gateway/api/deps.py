"""Request dependencies: the node, a database session per request, the authenticated user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from node_gateway.core.security import User, authenticate
from node_gateway.errors import Forbidden
from node_gateway.node import Node


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


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


def require(*roles: str) -> Callable[[User], User]:
    """A dependency that lets through only users holding one of ``roles`` (or admin)."""

    def check(user: CurrentUser) -> User:
        if not any(user.has(role) for role in roles):
            raise Forbidden(f"user {user.name!r} lacks the role {' or '.join(map(repr, roles))}")
        return user

    return check


Auditor = Annotated[User, Depends(require("auditor"))]
AuditorOrAuditee = Annotated[User, Depends(require("auditor", "auditee"))]
Officer = Annotated[User, Depends(require("officer"))]
Reviewer = Annotated[User, Depends(require("reviewer"))]
Analyst = Annotated[User, Depends(require("analyst"))]
OperatorUser = Annotated[User, Depends(require("operator"))]
Admin = Annotated[User, Depends(require("admin"))]
