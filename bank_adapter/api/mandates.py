"""The bank's customers and their mandates: a customer's auditee reference, and which signers may
authorise its letters, one at a time or imported in bulk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bank_adapter.api.deps import BankOfficer
from bank_adapter.mandates import MandateRecord, register_mandates
from node_gateway.api.deps import NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import CustomerReference, MandateIn, MandateOut
from node_gateway.api.types import INT64_MAX, RegistrationCode, Signer
from node_gateway.protocol.hashing import to_hex
from node_gateway.services.facade import Letters

router = APIRouter(
    prefix="/v1",
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
)


def _storable(record: MandateRecord) -> MandateRecord:
    if not 0 <= record.valid_until <= INT64_MAX:
        raise ValueError(f"valid_until {record.valid_until} is out of range (0 to {INT64_MAX})")
    return record


class MandateImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mandates: list[Annotated[MandateRecord, AfterValidator(_storable)]] = Field(
        min_length=1, max_length=10_000
    )


@router.get(
    "/customers/{registration_code}/reference",
    tags=["bank"],
    response_model=CustomerReference,
    summary="The customer's auditee reference and its salt: the bank's own lookup (a reply carries "
    "the salt to the firm; no one else needs it)",
)
def customer_reference(
    registration_code: RegistrationCode, node: NodeDep, _: BankOfficer
) -> CustomerReference:
    salt, ref = Letters(node).customer_reference(registration_code)
    return CustomerReference(registration_code=registration_code, salt=to_hex(salt), auditee_ref=ref)


@router.post(
    "/mandates",
    tags=["bank"],
    response_model=MandateOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Let a signer authorise letters for a customer",
)
def register_mandate(body: MandateIn, node: NodeDep, session: SessionDep, _: BankOfficer) -> MandateOut:
    ref = Letters(node).register_mandate(session, body.registration_code, body.signer, body.valid_until)
    return MandateOut(auditee_ref=ref, signer=body.signer, valid_until=body.valid_until)


@router.delete(
    "/mandates/{registration_code}/{signer}",
    tags=["bank"],
    response_model=MandateOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def revoke_mandate(
    registration_code: RegistrationCode, signer: Signer, node: NodeDep, session: SessionDep, _: BankOfficer
) -> MandateOut:
    ref = Letters(node).revoke_mandate(session, registration_code, signer)
    return MandateOut(auditee_ref=ref, signer=signer, revoked=True)


@router.get("/mandates", tags=["bank"], response_model=list[MandateOut])
def list_mandates(node: NodeDep, session: SessionDep, _: BankOfficer) -> list[MandateOut]:
    return [
        MandateOut(auditee_ref=m.auditee_ref, signer=m.signer, valid_until=m.valid_until, revoked=m.revoked)
        for m in Letters(node).mandates(session)
    ]


@router.post(
    "/bank/mandates/import",
    tags=["bank workflow"],
    response_model=list[MandateOut],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Register many mandate signers at once: all of them, or none if any is wrong",
)
def import_mandates(
    body: MandateImport, node: NodeDep, session: SessionDep, _: BankOfficer
) -> list[MandateOut]:
    references = register_mandates(node, session, body.mandates)
    return [
        MandateOut(auditee_ref=ref, signer=m.signer, valid_until=m.valid_until)
        for ref, m in zip(references, body.mandates, strict=True)
    ]
