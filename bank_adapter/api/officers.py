"""The bank's officers as its replies name them: each user's name and title (职务).

A reply names its 经办 and 复核 by the person, never by the user name they sign in with, so an admin
records both for every user who signs off replies before they do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select

from bank_adapter.api.deps import AnyBankUser
from node_gateway.api.deps import SessionDep, require
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.core.security import User, set_person
from node_gateway.storage.models import UserRow

router = APIRouter(
    prefix="/v1/bank", tags=["bank"], route_class=GatewayRoute, responses=error_responses(401, 403, 422)
)

Admin = Annotated[User, Depends(require("admin"))]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    title: Text


class OfficerOut(BaseModel):
    user: str
    roles: list[str]
    name: str | None
    title: str | None
    signs_off: bool  # name and title recorded: the user may sign off a reply


def _out(row: UserRow) -> OfficerOut:
    return OfficerOut(
        user=row.name,
        roles=sorted(row.roles.split()),
        name=row.display_name,
        title=row.title,
        signs_off=bool(row.display_name and row.title),
    )


@router.get(
    "/officers", response_model=list[OfficerOut], summary="The bank's users with their names and titles"
)
def list_officers(session: SessionDep, _: AnyBankUser) -> list[OfficerOut]:
    rows = session.scalars(select(UserRow).where(UserRow.revoked_at.is_(None)).order_by(UserRow.name))
    return [_out(row) for row in rows]


@router.put(
    "/officers/{name}",
    response_model=OfficerOut,
    summary="Record the name and title of the person behind a user (an admin)",
)
def record_officer(name: str, body: PersonIn, session: SessionDep, _: Admin) -> OfficerOut:
    set_person(session, name, body.name, body.title)
    session.flush()
    row = session.scalars(select(UserRow).where(UserRow.name == name)).one()
    return _out(row)
