"""The audit firm's user API: request letters, relay the auditee's authorisation, follow up,
withdraw, fetch and verify replies, close."""

from __future__ import annotations

import json

from fastapi import APIRouter, status

from node_gateway.api.deps import Auditor, AuditorOrAuditee, AuditorOrManager, Manager, NodeDep, SessionDep
from node_gateway.api.errors import GatewayRoute, error_responses
from node_gateway.api.models import (
    Accepted,
    AuthorisationAccepted,
    AuthorisationBundle,
    AuthorisationRequestIn,
    CloseLetters,
    CreateLetters,
    Evidence,
    EvidenceChain,
    FollowUpIn,
    LetterSummary,
    ReplyOut,
    SignedAuthorisation,
    WithdrawIn,
)
from node_gateway.api.routes.letters import letter_detail, summary
from node_gateway.api.types import LetterId
from node_gateway.chain.contracts import Authorisation, Refusal
from node_gateway.errors import InvalidRequest, NotFound
from node_gateway.protocol.documents import NonComplianceNotice
from node_gateway.protocol.hashing import from_hex, to_hex
from node_gateway.services import firm_review, letters
from node_gateway.services.notices import keep_refusal_words, notice_of

router = APIRouter(
    prefix="/v1",
    tags=["audit firm"],
    route_class=GatewayRoute,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
)


def _bytes(value: str, name: str) -> bytes:
    try:
        return from_hex(value)
    except ValueError as exc:
        raise InvalidRequest(f"{name} is not hex") from exc


@router.post(
    "/letters",
    response_model=list[LetterSummary],
    status_code=status.HTTP_201_CREATED,
    summary="Request one or many letters (all or none)",
)
def create_letters(
    body: CreateLetters, node: NodeDep, session: SessionDep, user: Auditor
) -> list[LetterSummary]:
    drafts = [(d.letter, d.due_at) for d in body.letters]
    rows = letters.create_letters(node, session, drafts, prepared_by=user.name)
    return [summary(row, 0) for row in rows]


@router.post(
    "/letters/approve",
    response_model=list[LetterSummary],
    summary="Approve prepared letters (审核通过), all or none: a manager, not their preparer",
)
def approve_letters(
    body: CloseLetters, node: NodeDep, session: SessionDep, user: Manager
) -> list[LetterSummary]:
    rows = firm_review.approve(node, session, body.letter_ids, user)
    return [summary(row, 0) for row in rows]


@router.post(
    "/letters/{letter_id}/recall",
    response_model=LetterSummary,
    summary="Recall a prepared letter (召回) before it goes out: its preparer or a manager",
)
def recall(letter_id: LetterId, node: NodeDep, session: SessionDep, user: AuditorOrManager) -> LetterSummary:
    return summary(firm_review.recall(node, session, letter_id, user), 0)


@router.post(
    "/authorisations/requests",
    response_model=AuthorisationBundle,
    summary="What the auditee's signer signs (EIP-712) for these letters",
)
def authorisation_request(
    body: AuthorisationRequestIn, node: NodeDep, session: SessionDep, _: Auditor
) -> AuthorisationBundle:
    bundle = letters.authorisation_request(
        node, session, body.letter_ids, valid_until=body.valid_until, refusal_reason=body.refusal_reason
    )
    return AuthorisationBundle(**bundle)


@router.post(
    "/authorisations",
    response_model=AuthorisationAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit the auditee's signed authorisation or refusal",
)
def submit_authorisation(
    body: SignedAuthorisation, node: NodeDep, session: SessionDep, _: AuditorOrAuditee
) -> AuthorisationAccepted:
    root = _bytes(body.requests_root, "requests_root")
    signed: Authorisation | Refusal = (
        Authorisation(root, body.firm, body.valid_until, body.nonce)
        if body.reason is None
        else Refusal(root, body.firm, body.reason, body.valid_until, body.nonce)
    )
    if body.reason_text is not None and body.reason is None:
        raise InvalidRequest("reason_text gives a refusal's reason in words; an authorisation has none")
    signer = letters.submit_authorisation(
        node, session, body.letter_ids, signed, _bytes(body.signature, "signature"), body.signer
    )
    if body.reason_text is not None:
        keep_refusal_words(node, session, body.letter_ids, body.reason_text)
    kind = "authorise" if body.reason is None else "refuse"
    return AuthorisationAccepted(signer=signer, letters=len(body.letter_ids), kind=kind)


@router.post(
    "/letters/{letter_id}/follow-up",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Follow up a letter awaiting the bank (催函), with a message to the bank if given",
)
def follow_up(
    letter_id: LetterId, node: NodeDep, session: SessionDep, _: Auditor, body: FollowUpIn | None = None
) -> Accepted:
    letters.follow_up(node, session, letter_id, None if body is None else body.message)
    return Accepted(letter_id=letter_id, queued="follow_up")


@router.post(
    "/letters/{letter_id}/withdraw",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Withdraw a letter awaiting a reply (撤回), with the reason in words if given",
)
def withdraw(
    letter_id: LetterId, node: NodeDep, session: SessionDep, _: Auditor, body: WithdrawIn | None = None
) -> Accepted:
    letters.withdraw(node, session, letter_id, None if body is None else body.reason_text)
    return Accepted(letter_id=letter_id, queued="withdraw")


@router.get(
    "/letters/{letter_id}/reply",
    response_model=ReplyOut,
    summary="The bank's reply, verified against its hash on chain now",
)
def get_reply(letter_id: LetterId, node: NodeDep, session: SessionDep, _: Auditor) -> ReplyOut:
    reply, stored, reply_hash = letters.verified_reply(node, session, letter_id)
    return ReplyOut(
        letter_id=letter_id,
        reply=reply,
        salt=to_hex(stored.salt),
        reply_hash=reply_hash,
        verified=True,
    )


@router.get(
    "/letters/{letter_id}/notice",
    response_model=NonComplianceNotice,
    summary="The bank's non-compliance notice (不符合要求通知): the 函证编号 and the reason in words",
)
def get_notice(letter_id: LetterId, node: NodeDep, session: SessionDep, _: Auditor) -> NonComplianceNotice:
    row = letters.letter_row(session, letter_id)  # this firm's letter, or 404
    notice = notice_of(node, session, row.letter_id)
    if notice is None:
        raise NotFound(f"the bank has sent no notice about letter {letter_id}")
    return notice


@router.get(
    "/letters/{letter_id}/evidence",
    response_model=Evidence,
    summary="The letter, its reply, their salts, the authorisation and the chain references",
)
def evidence(letter_id: LetterId, node: NodeDep, session: SessionDep, _: Auditor) -> Evidence:
    detail = letter_detail(node, session, letter_id)
    row = letters.letter_row(session, letter_id)
    letter = node.vault.open(
        row.letter_id, "letter", letters.sealed_or_missing(row.letter_sealed, row.letter_id)
    )
    reply = node.vault.open(row.letter_id, "reply", row.reply_sealed) if row.reply_sealed else None
    network = node.network_file
    return Evidence(
        letter_id=row.letter_id,
        firm=row.firm,
        bank=row.bank,
        status=row.status,
        auditee_ref=row.auditee_ref,
        letter_hash=row.letter_hash,
        letter=json.loads(letter.canonical),
        letter_salt=to_hex(letter.salt),
        reply_hash=row.reply_hash,
        reply=json.loads(reply.canonical) if reply else None,
        reply_salt=to_hex(reply.salt) if reply else None,
        letter_canonical=letter.canonical.decode("utf-8"),
        reply_canonical=reply.canonical.decode("utf-8") if reply else None,
        auditee_salt=row.auditee_salt,
        authorisation=row.authorisation,
        chain=EvidenceChain(
            chain_id=network.chain_id,
            member_registry=network.member_registry,
            confirmation_registry=network.confirmation_registry,
            deployment_block=network.deployment_block,
        ),
        steps=detail.history,
    )


@router.post(
    "/letters/close",
    response_model=list[Accepted],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Close many letters whose replies are verified (all or none)",
)
def close_letters(
    body: CloseLetters, node: NodeDep, session: SessionDep, user: AuditorOrManager
) -> list[Accepted]:
    firm_review.check_acceptance(node, session, body.letter_ids, user)
    letters.close_many(node, session, body.letter_ids, accepted_by=user.name)
    return [Accepted(letter_id=letter_id, queued="close") for letter_id in body.letter_ids]


@router.post("/letters/{letter_id}/close", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def close(letter_id: LetterId, node: NodeDep, session: SessionDep, user: AuditorOrManager) -> Accepted:
    firm_review.check_acceptance(node, session, [letter_id], user)
    letters.close_many(node, session, [letter_id], accepted_by=user.name)
    return Accepted(letter_id=letter_id, queued="close")
