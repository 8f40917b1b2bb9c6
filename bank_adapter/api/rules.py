"""The bank's business rules for confirmations, as its admin publishes them to the network: the
items it confirms, the formats it accepts, its fee and whom to contact.

``PUT /v1/bank/rules`` (admin) signs and keeps them; the gateway serves them at
``GET /peer/v1/rules``, where audit firms fetch them and check the signature against the registry
(``node_gateway.services.bank_rules``). ``GET /v1/bank/rules`` shows what is published.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from bank_adapter.api.deps import AnyBankUser
from node_gateway.api.deps import NodeDep, SessionDep, require
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.core.security import User
from node_gateway.errors import NotFound
from node_gateway.protocol.bank_rules import BankRules, Department, Fee, SignedBankRules
from node_gateway.protocol.documents import Contact, ItemKey, LetterFormat, Note
from node_gateway.services.bank_rules import kept_rules, publish_rules
from node_gateway.storage.models import utcnow

router = APIRouter(
    prefix="/v1/bank", tags=["bank"], route_class=GatewayRoute, responses=error_responses(401, 403, 404, 422)
)

Admin = Annotated[User, Depends(require("admin"))]


class RulesIn(BaseModel):
    """The rules as the admin states them; the gateway adds the bank's number and the time."""

    model_config = ConfigDict(extra="forbid")

    items: list[ItemKey] = Field(min_length=1)
    formats: list[LetterFormat] = Field(min_length=1)
    fee: Fee
    department: Department
    contact: Contact
    notes: Note | None = None


@router.put("/rules", response_model=SignedBankRules, summary="Publish the bank's business rules (signed)")
def put_rules(body: RulesIn, node: NodeDep, session: SessionDep, _: Admin) -> SignedBankRules:
    rules = BankRules(
        bank_member_no=node.member_id(),
        published_at=utcnow().replace(microsecond=0),
        items=sorted(set(body.items), key=list(ItemKey).index),
        formats=sorted(set(body.formats), key=list(LetterFormat).index),
        fee=body.fee,
        department=body.department,
        contact=body.contact,
        notes=body.notes,
    )
    return publish_rules(node, session, rules)


@router.get("/rules", response_model=SignedBankRules, summary="The bank's published business rules")
def get_rules(node: NodeDep, session: SessionDep, _: AnyBankUser) -> SignedBankRules:
    signed = kept_rules(session, node.member_id())
    if signed is None:
        raise NotFound("this bank has published no business rules; an admin sets them (PUT /v1/bank/rules)")
    return signed
