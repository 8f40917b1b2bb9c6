"""The regulator's user API: statistics from chain events only, and document verification."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from node_gateway.api.deps import Analyst, NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import VerifyIn
from node_gateway.api.types import MemberId
from node_gateway.chain.verification import VerificationResult, verify_document
from node_gateway.errors import InvalidRequest
from node_gateway.protocol.hashing import from_hex
from node_gateway.services.statistics import (
    BankStatistics,
    NetworkSummary,
    bank_statistics,
    network_summary,
    period,
)

router = APIRouter(
    prefix="/v1",
    tags=["regulator"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 422, 502, 503),
)


# The letters requested from this day to that one, both included, in Beijing time (UTC+8).
From = Annotated[date | None, Query(alias="from", description="first day (Beijing time), included")]
To = Annotated[date | None, Query(description="last day (Beijing time), included")]


@router.get("/statistics", response_model=list[BankStatistics], summary="Per bank, from chain events only")
def statistics(
    session: SessionDep, _: Analyst, bank: MemberId | None = None, first: From = None, to: To = None
) -> list[BankStatistics]:
    since, until = period(first, to)
    return bank_statistics(session, now=int(time.time()), bank=bank, since=since, until=until)


@router.get("/statistics/summary", response_model=NetworkSummary, summary="The whole network together")
def summary(session: SessionDep, _: Analyst, first: From = None, to: To = None) -> NetworkSummary:
    since, until = period(first, to)
    return network_summary(session, now=int(time.time()), since=since, until=until)


@router.post(
    "/verify", response_model=VerificationResult, summary="Check a document and its salt against the chain"
)
def verify(body: VerifyIn, node: NodeDep, _: Analyst) -> VerificationResult:
    try:
        salt = from_hex(body.salt)
    except ValueError as exc:
        raise InvalidRequest("salt is not hex") from exc
    return verify_document(
        node.network.confirmations,
        node.network.members,
        kind=body.kind,
        document_json=body.document,
        salt=salt,
        from_block=node.network.deployment_block,
    )
