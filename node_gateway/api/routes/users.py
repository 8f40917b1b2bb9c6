"""Managing the gateway's own users (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from node_gateway.api.deps import Admin, NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import UserCreated, UserIn
from node_gateway.core.security import create_user, revoke_user

router = APIRouter(
    prefix="/v1/users",
    tags=["users"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 422),
)


@router.post("", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, node: NodeDep, session: SessionDep, _: Admin) -> UserCreated:
    key = create_user(session, node.role, body.name, set(body.roles))
    return UserCreated(name=body.name, roles=sorted(body.roles), api_key=key)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def remove_user(name: str, session: SessionDep, _: Admin) -> None:
    revoke_user(session, name)
