"""The bank's workflow: from a received letter to a submitted reply, and the worker that drives it.

For each letter that arrives (stored, authorised on chain, not yet decided) the worker runs the
compliance check and records ``reject(reason)`` or ``accept``; it then drafts the reply from the
core bank as the system drafter, and applies the approval policy: a draft the policy lets
through is approved by the system reviewer and the reply submitted at once; any other waits for
a person (see ``api``). Drafts of letters that ended otherwise (withdrawn, answered by hand) are
marked superseded. A round handles its letters in one database transaction, each under a row
lock, so the officers' API and the worker never act on a letter at the same time; a letter that
passes the check is drafted in the same transaction, so its accept and its reply reach the chain
together. A round works in passes (check every letter, draft every passed one, approve every
draft the policy lets through), and each pass's rows go to the database together, one statement
of many rows per table, rather than one flush per object. If one letter fails (the core is down),
the round is done again one letter per transaction, and the failing letter is retried with a
growing pause.

The operations are functions of (node, session, …) so the API uses the same ones. Every reply
is made by ``approved_reply`` (then submitted at once, or by a round with all its replies),
whose approval checks who signs it off (see ``approval``): the reviewer's reply route
(``approve_posted_reply``) included. The letters are the
gateway's, read and acted on through its facade (``node_gateway.services.facade.Letters``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import cast

from hexbytes import HexBytes
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from bank_adapter.approval import (
    STRAIGHT_THROUGH,
    SYSTEM_COMPLIANCE,
    SYSTEM_DRAFTER,
    SYSTEM_WORKFLOW,
    Action,
    ApprovalPolicy,
    Decision,
    DraftStatus,
    NewDraft,
    approve,
    check_preparer,
    check_reviewer,
    current_draft,
    log_decision,
    log_decisions,
    open_content,
    reply_of,
    save_draft,
    save_first_drafts,
    signatories,
    straight_through_control,
    supersede,
)
from bank_adapter.compliance import LetterFacts, check_letter
from bank_adapter.core_sql import CoreBank
from bank_adapter.deadlines import Deadlines, business_date, today
from bank_adapter.drafting import MATCH_KEYS, Draft, answer_item, draft_reply
from bank_adapter.errors import CoreUnavailable, NotReadyToDraft, PreparerDidNotAct
from bank_adapter.models import ComplianceCheckRow, DraftRow
from bank_adapter.port import CoreBankingError, CoreBankingPort, CoreSnapshot
from node_gateway.chain.contracts import LetterStatus, Member, MemberStatus, Role
from node_gateway.chain.signers import as_signer
from node_gateway.chain.transactions import Call, call_view
from node_gateway.errors import Conflict, InvalidRequest
from node_gateway.node import Node
from node_gateway.protocol.documents import (
    ConfirmationLetter,
    ConfirmationReply,
    LetterFormat,
    NonComplianceNotice,
    Officer,
    RejectionReason,
    ReplyItems,
    quoted_number,
)
from node_gateway.protocol.hashing import from_hex
from node_gateway.services.bank_rules import kept_rules
from node_gateway.services.facade import LetterRecord, Letters, Mandate
from node_gateway.services.notices import send_notice
from node_gateway.storage.models import LetterRow

log = logging.getLogger(__name__)

PASSED, REJECTED = "passed", "rejected"
_BATCH = 64  # letters per round and per database transaction, as the outbox bundles steps
_MAX_PAUSE_S = 60.0
_CHECKS = cast(Table, ComplianceCheckRow.__table__)
# The chain steps queued on each of a round's letters (``Letters.queued_steps``), read at once.
Queued = Mapping[str, Collection[str]]


@functools.cache
def _core_bank(url: str) -> CoreBank:
    return CoreBank(url)


def core_for(url: str | None) -> CoreBank | None:
    """The core bank at ``url`` (one engine per process and URL), or None when there is none."""
    return None if url is None else _core_bank(url)


def policy_of(node: Node) -> ApprovalPolicy:
    """The node's approval policy; straight-through only with the person accountable for the
    control named in the settings, since every automated reply names them."""
    settings = node.settings
    control = straight_through_control(
        settings.straight_through_accountable_name, settings.straight_through_accountable_title
    )
    if settings.approval_policy == "straight_through" and control is None:
        log.warning(
            "approval_policy is straight_through but straight_through_accountable_name and _title are "
            "not both set: every draft is reviewed by a person"
        )
        return ApprovalPolicy()
    return ApprovalPolicy(
        mode=settings.approval_policy, limit=settings.straight_through_limit, control=control
    )


def _accepting(row: LetterRecord, queued: Queued) -> bool:
    """Whether the letter is accepted, on chain or with its accept queued (``queued``: the steps
    queued on the round's letters, read in this transaction)."""
    return row.status == LetterStatus.ACCEPTED.name or "accept" in queued.get(row.letter_id, ())


@dataclass
class RoundReads:
    """What the letters of one round share, read once: a firm's record and the signers' mandates
    from the chain (fresh when the round starts), each letter's signer, this bank's own record of
    the mandates and its published rules, each letter's parsed document and deadlines, and what
    the core holds on the letters' customers (asked for the round's letters together)."""

    node: Node
    _members: dict[int, Member] = field(default_factory=dict)
    _mandates: dict[tuple[int, str, str], int] = field(default_factory=dict)
    _signers: dict[str, str | None] = field(default_factory=dict)
    _kept_mandates: dict[str, dict[str, Mandate]] = field(default_factory=dict)  # by reference, signer
    _formats: dict[int, tuple[LetterFormat, ...] | None] = field(default_factory=dict)  # by bank
    _deadlines: dict[date, Deadlines] = field(default_factory=dict)
    _letters: dict[str, ConfirmationLetter] = field(default_factory=dict)
    _known: dict[str, bool] = field(default_factory=dict)
    _snapshots: dict[tuple[str, date], CoreSnapshot | None] = field(default_factory=dict)

    def member(self, member_id: int) -> Member:
        if member_id not in self._members:
            self._members[member_id] = self.node.member(member_id, fresh=True)
        return self._members[member_id]

    def mandate_valid_until(self, bank: int, auditee_ref: str, signer: str) -> int:
        key = (bank, auditee_ref.lower(), signer)
        if key not in self._mandates:
            self._mandates[key] = self.node.network.confirmations.mandate_valid_until(
                bank, from_hex(auditee_ref), signer
            )
        return self._mandates[key]

    def read_mandates(self, session: Session, rows: Sequence[LetterRecord]) -> None:
        """Reads what the letters' checks ask about their signers and mandates: the signers and
        this bank's record of the mandates in a query each, the mandates on chain in one
        ``eth_call`` (a Multicall of them), rather than each for each letter."""
        desk = Letters(self.node)
        unread = [row.letter_id for row in rows if row.letter_id not in self._signers]
        signers = desk.authorising_signers(session, unread)
        self._signers |= {letter_id: signers.get(letter_id) for letter_id in unread}
        refs = {row.auditee_ref for row in rows if row.auditee_ref is not None} - set(self._kept_mandates)
        self._kept_mandates |= {ref: {} for ref in refs}
        for mandate in desk.mandates(session, sorted(refs)):
            self._kept_mandates[mandate.auditee_ref][mandate.signer] = mandate
        keys: dict[tuple[int, str, str], None] = {}
        for row in rows:
            signer = self.signer(session, row.letter_id)
            if signer is not None and row.auditee_ref:
                key = (row.bank, row.auditee_ref.lower(), signer)
                if key not in self._mandates:
                    keys[key] = None
        if not keys:
            return
        registry = self.node.network.confirmations
        calls = [
            registry.encode_call("mandateValidUntil", bank, from_hex(ref), as_signer(signer))
            for bank, ref, signer in keys
        ]
        multicall = Call(registry.address, HexBytes(registry.encode_call("multicall", calls)), "mandates")
        (results,) = registry.decode_result("multicall", call_view(self.node.w3, multicall))
        for key, result in zip(keys, results, strict=True):
            self._mandates[key] = int(registry.decode_result("mandateValidUntil", bytes(result))[0])

    def kept_mandate(self, session: Session, auditee_ref: str, signer: str) -> Mandate | None:
        """This bank's record of the mandate (``Letters.mandate``)."""
        if auditee_ref not in self._kept_mandates:
            return Letters(self.node).mandate(session, auditee_ref, signer)
        return self._kept_mandates[auditee_ref].get(signer)

    def formats_accepted(self, session: Session) -> tuple[LetterFormat, ...] | None:
        """The formats this bank's published rules accept, None if it published none."""
        bank = self.node.member_id()
        if bank not in self._formats:
            published = kept_rules(session, bank)
            self._formats[bank] = None if published is None else tuple(published.rules.formats)
        return self._formats[bank]

    def deadlines(self, received_at: datetime) -> Deadlines:
        received_on = business_date(received_at)
        if received_on not in self._deadlines:
            self._deadlines[received_on] = Deadlines.for_receipt(received_at)
        return self._deadlines[received_on]

    def signer(self, session: Session, letter_id: str) -> str | None:
        """The letter's authorising signer (``Letters.authorising_signer``)."""
        if letter_id not in self._signers:
            self._signers[letter_id] = Letters(self.node).authorising_signer(session, letter_id)
        return self._signers[letter_id]

    def letter(self, session: Session, letter_id: str) -> ConfirmationLetter:
        if letter_id not in self._letters:
            self._letters[letter_id] = Letters(self.node).document(session, letter_id)
        return self._letters[letter_id]

    # The core is asked for all the round's letters at once; if it fails, nothing is kept and each
    # letter asks again on its own, so that one customer's bad record fails only that letter.

    def read_customers(self, session: Session, core: CoreBankingPort, rows: Sequence[LetterRecord]) -> None:
        """Finds out in one question to the core which of the letters' auditees it knows."""
        codes = {self.letter(session, row.letter_id).auditee.registration_code for row in rows} - set(
            self._known
        )
        if not codes:
            return
        try:
            found = core.customers(codes)
        except CoreBankingError:
            return
        self._known |= {code: code in found for code in codes}

    def customer_known(self, core: CoreBankingPort, code: str) -> bool:
        if code not in self._known:
            self._known[code] = core.customer(code) is not None
        return self._known[code]

    def read_snapshots(self, session: Session, core: CoreBankingPort, rows: Sequence[LetterRecord]) -> None:
        """Reads the snapshots the letters ask for, one question to the core per reference date."""
        by_date: dict[date, set[str]] = {}
        for row in rows:
            letter = self.letter(session, row.letter_id)
            code, as_of = letter.auditee.registration_code, letter.reference_date
            if (code, as_of) not in self._snapshots:
                by_date.setdefault(as_of, set()).add(code)
        for as_of, codes in sorted(by_date.items()):
            try:
                found = core.snapshots(codes, as_of)
            except CoreBankingError:
                continue
            self._snapshots |= {(code, as_of): found.get(code) for code in codes}

    def snapshot(self, core: CoreBankingPort, code: str, as_of: date) -> CoreSnapshot | None:
        """The customer's snapshot as of the date, None for a customer the core does not know."""
        if (code, as_of) not in self._snapshots:
            self._snapshots[(code, as_of)] = core.snapshots([code], as_of).get(code)
        return self._snapshots[(code, as_of)]


# --- compliance ---------------------------------------------------------------------------------


def letter_facts(
    node: Node,
    session: Session,
    row: LetterRecord,
    letter: ConfirmationLetter,
    core: CoreBankingPort,
    reads: RoundReads,
) -> LetterFacts | None:
    """The facts about a received letter, or None until this gateway has indexed its authorisation."""
    desk = Letters(node)
    signer = reads.signer(session, row.letter_id)
    if signer is None or row.auditee_ref is None:
        return None  # its authorisation (which names both) is not indexed yet
    requester = reads.member(row.firm)
    code = letter.auditee.registration_code
    mandate = reads.kept_mandate(session, row.auditee_ref, signer)
    try:
        known = reads.customer_known(core, code)
    except CoreBankingError as exc:
        raise CoreUnavailable(str(exc)) from exc
    return LetterFacts(
        bank_member_no=node.member_id(),
        requested_by=row.firm,
        requester_is_active_firm=requester.role == Role.AUDIT_FIRM
        and requester.status == MemberStatus.ACTIVE,
        auditee_ref=row.auditee_ref,
        bank_auditee_ref=desk.customer_reference(code)[1],
        customer_known=known,
        signer=signer,
        mandate_valid_until=reads.mandate_valid_until(row.bank, row.auditee_ref, signer),
        mandate_revoked=mandate is not None and mandate.revoked,
        now=int(time.time()),
        today=today(),
        formats_accepted=reads.formats_accepted(session),  # by the rules this bank published, if any
    )


def _check_record(
    row: LetterRecord,
    *,
    outcome: str,
    reason: int | None,
    detail: str,
    by: Officer,
    deadlines: Deadlines | None = None,
) -> dict[str, object]:
    """The check's row (``_record_checks``); ``deadlines``: the letter's, if known (a round's
    letters share them by day)."""
    deadlines = deadlines or Deadlines.for_receipt(row.arrived_at)
    return {
        "letter_id": row.letter_id,
        "received_at": row.arrived_at,
        "compliance_due": deadlines.compliance_due,
        "reply_due": deadlines.reply_due,
        "outcome": outcome,
        "reason": reason,
        "detail": detail,
        "decided_by": by.officer_id,
        "checked_at": datetime.now(UTC),
    }


def _record_checks(session: Session, checks: Sequence[dict[str, object]]) -> None:
    """Writes the checks now, in one statement (a round's together, not an ORM object each)."""
    if checks:
        session.execute(_CHECKS.insert(), checks)


def reject_letter(
    node: Node, session: Session, row: LetterRecord, reason: RejectionReason, *, by: Officer, detail: str
) -> None:
    """Records the rejection on chain (through the outbox), the check and the decision, and sends
    the firm the notice (不符合要求通知) quoting the 函证编号 with the reason in words and ``detail``."""
    if session.get(ComplianceCheckRow, row.letter_id) is not None:
        raise Conflict(f"letter {row.letter_id} was checked already; an accepted letter is answered")
    desk = Letters(node)
    desk.reject(session, row.letter_id, int(reason))
    letter = desk.document(session, row.letter_id) if row.has_letter else None
    notice = NonComplianceNotice(
        letter_id=row.letter_id,
        confirmation_no=row.letter_id if letter is None else quoted_number(letter),
        bank_member_no=row.bank,
        issued_on=today(),
        reason=reason,
        detail=detail,
        decided_by=by,
    )
    send_notice(node, session, notice)
    _record_checks(session, [_check_record(row, outcome=REJECTED, reason=int(reason), detail=detail, by=by)])
    log_decision(
        session,
        node.vault,
        letter_id=row.letter_id,
        action=Action.REJECTED,
        actor=by,
        reason=int(reason),
        note=detail,
    )


@dataclass
class _CheckPass:
    """What a round's checks decided, written together: the letters to accept, the checks and the
    log's entries."""

    accepts: list[str] = field(default_factory=list)
    checks: list[dict[str, object]] = field(default_factory=list)
    log: list[Decision] = field(default_factory=list)


def check_arrivals(
    node: Node, session: Session, rows: Sequence[LetterRecord], core: CoreBankingPort, reads: RoundReads
) -> list[LetterRecord]:
    """Checks received letters (read under their locks in this transaction) and accepts or rejects
    each; those it decided (one that cannot be decided yet is left). The accepts, the checks and
    their log entries are written together; one letter is a round of one."""
    queued = Letters(node).queued_steps(session, [row.letter_id for row in rows])
    done = _CheckPass()
    decided = [row for row in rows if _check_arrival(node, session, row, core, reads, queued, done)]
    Letters(node).accept_many(session, done.accepts)
    _record_checks(session, done.checks)
    log_decisions(session, node.vault, done.log)
    return decided


def _check_arrival(
    node: Node,
    session: Session,
    row: LetterRecord,
    core: CoreBankingPort,
    reads: RoundReads,
    queued: Queued,
    done: _CheckPass,
) -> bool:
    """Checks the letter and rejects it, or adds it to ``done``; False if it cannot be decided yet."""
    accepted_by_hand = _accepting(row, queued)
    if accepted_by_hand or "reject" in queued.get(row.letter_id, ()):
        # An officer decided through the plain letter routes; record it so the letter moves on.
        outcome = PASSED if accepted_by_hand else REJECTED
        detail = f"{'accepted' if accepted_by_hand else 'rejected'} by an officer without the check"
        done.checks.append(
            _check_record(
                row,
                outcome=outcome,
                reason=None,
                detail=detail,
                by=SYSTEM_WORKFLOW,
                deadlines=reads.deadlines(row.arrived_at),
            )
        )
        return True
    letter = reads.letter(session, row.letter_id)
    facts = letter_facts(node, session, row, letter, core, reads)
    if facts is None:
        return False
    result = check_letter(letter, facts)
    if result.reason is not None:
        reject_letter(node, session, row, result.reason, by=SYSTEM_COMPLIANCE, detail=result.detail)
        return True
    done.accepts.append(row.letter_id)
    done.checks.append(
        _check_record(
            row,
            outcome=PASSED,
            reason=None,
            detail=result.detail,
            by=SYSTEM_COMPLIANCE,
            deadlines=reads.deadlines(row.arrived_at),
        )
    )
    done.log.append(Decision(row.letter_id, Action.COMPLIANCE_PASSED, SYSTEM_COMPLIANCE))
    return True


# --- drafting and approval ----------------------------------------------------------------------


def draftable_letter(node: Node, session: Session, letter_id: str) -> LetterRecord:
    """The letter, locked, if it is this bank's, received, accepted (or being) and not answered."""
    row = Letters(node).get(session, letter_id, for_update=True)
    check_draftable(node, row, *_drafting_reads(node, session, [letter_id]))
    return row


def _drafting_reads(
    node: Node, session: Session, letter_ids: Sequence[str]
) -> tuple[Queued, Mapping[str, str]]:
    """What ``check_draftable`` asks of the letters, read at once: the steps queued on them (the
    accepts this transaction queued included) and their compliance checks' outcomes."""
    checks = session.execute(
        select(ComplianceCheckRow.letter_id, ComplianceCheckRow.outcome).where(
            ComplianceCheckRow.letter_id.in_(letter_ids)
        )
    )
    return Letters(node).queued_steps(session, letter_ids), {
        str(key): str(outcome) for key, outcome in checks
    }


def check_draftable(node: Node, row: LetterRecord, queued: Queued, outcomes: Mapping[str, str]) -> None:
    """``NotReadyToDraft`` unless the letter (read under its lock) is this bank's, received,
    accepted (or being) and not answered. ``queued`` and ``outcomes``: the steps queued on the
    round's letters and their checks' outcomes (``_drafting_reads``), read in this transaction."""
    letter_id = row.letter_id
    if row.bank != node.member_id():
        raise NotReadyToDraft(f"letter {letter_id} is not addressed to this bank")
    if not row.has_letter:
        raise NotReadyToDraft(f"letter {letter_id} has not been received")
    if not row.takes_reply:
        raise NotReadyToDraft(f"letter {letter_id} is {row.status}; it takes no reply now")
    if outcomes.get(letter_id) == REJECTED:
        raise NotReadyToDraft(f"letter {letter_id} was rejected as not compliant")
    if not _accepting(row, queued):
        raise NotReadyToDraft(f"accept letter {letter_id} before drafting its reply")


def draft_from_core(
    node: Node,
    session: Session,
    row: LetterRecord,
    core: CoreBankingPort | None,
    reads: RoundReads,
) -> Draft:
    if core is None:
        raise CoreUnavailable("this gateway has no core bank configured (core_banking_url); draft by hand")
    letter = reads.letter(session, row.letter_id)
    try:
        snapshot = reads.snapshot(core, letter.auditee.registration_code, letter.reference_date)
    except CoreBankingError as exc:
        raise CoreUnavailable(str(exc)) from exc
    return no_relationship_draft(letter) if snapshot is None else draft_reply(letter, snapshot)


def no_relationship_draft(letter: ConfirmationLetter) -> Draft:
    """The answer of a bank that holds no relationship with the auditee: nothing of its own, and
    every entry the auditor listed unknown to it (audit evidence, not a rejection)."""
    answers = {
        key.value: answer_item(item, (), MATCH_KEYS.get(key, ()), letter_format=letter.format)
        for key, item in letter.items.by_key()
    }
    return Draft(items=ReplyItems.model_validate(answers), no_relationship=True)


def store_draft(node: Node, session: Session, row: LetterRecord, draft: Draft, preparer: Officer) -> DraftRow:
    return save_draft(
        session,
        node.vault,
        letter_id=row.letter_id,
        letter_hash=row.letter_hash,
        bank_member_no=row.bank,
        content=draft,
        preparer=preparer,
    )


def approved_reply(
    node: Node,
    session: Session,
    draft: DraftRow,
    reviewer: Officer,
    *,
    policy: ApprovalPolicy | None = None,
    letter: ConfirmationLetter | None = None,
    replied_on: date | None = None,
    log: list[Decision] | None = None,
) -> ConfirmationReply:
    """Approves the draft and returns the reply it makes, for the caller to submit in its
    transaction (``Letters.submit_reply``; a round submits its replies together). The policy (the
    node's unless given) and the letter (read unless given) decide whether the system may sign it
    off; the reply is dated today unless ``replied_on`` says otherwise; ``log`` as ``approve``."""
    return approve(
        session,
        node.vault,
        draft,
        reviewer,
        replied_on=replied_on or today(),
        policy=policy or policy_of(node),
        letter=Letters(node).document(session, draft.letter_id) if letter is None else letter,
        log=log,
    )


def approve_posted_reply(node: Node, session: Session, reply: ConfirmationReply) -> None:
    """The reviewer's half of a reply posted whole (``POST /v1/letters/{id}/reply``, ``api.inbox``).

    The reply must be the letter's live draft exactly as its preparer drafted it (``POST
    /v1/bank/letters/{id}/draft``); it is then that draft approved by the reviewer it names, with
    its date, and submitted. The same reply posted again is a retry; the caller has checked the
    reviewer it names is the user posting it.
    """
    desk = Letters(node)
    if desk.get(session, reply.letter_id, for_update=True).has_reply:
        desk.submit_reply(session, reply)  # the stored reply again: a retry; another: refused
        return
    check_reviewer(session, reply.reviewer.officer_id)
    check_preparer(session, reply.preparer.officer_id)
    row = draftable_letter(node, session, reply.letter_id)
    if reply.bank_member_no != row.bank:
        raise InvalidRequest(f"the reply names member {reply.bank_member_no} as bank, this is {row.bank}")
    if reply.letter_hash != row.letter_hash:
        raise InvalidRequest("the reply answers another version of the letter (its letter hash differs)")
    preparer = reply.preparer.officer_id
    live = current_draft(session, row.letter_id)
    if live is None or live.status != DraftStatus.PENDING_REVIEW or live.preparer_id != preparer:
        raise PreparerDidNotAct(
            f"{preparer} has no draft of letter {row.letter_id} awaiting review: the preparer drafts the "
            f"reply (POST /v1/bank/letters/{row.letter_id}/draft), then another officer approves it"
        )
    letter = Letters(node).document(session, row.letter_id)
    named_preparer, named_reviewer = signatories(session, live, reply.reviewer, None)
    expected = reply_of(
        live,
        open_content(node.vault, live),
        preparer=named_preparer,
        reviewer=named_reviewer,
        replied_on=reply.replied_on,
        confirmation_no=quoted_number(letter),
    )
    if reply != expected:
        raise PreparerDidNotAct(
            f"the reply is not draft {live.version} of letter {row.letter_id} as {preparer} prepared it "
            "(its items, remarks, conclusion, 函证编号 or the officers' names and titles differ)"
        )
    approved = approved_reply(node, session, live, reply.reviewer, letter=letter, replied_on=reply.replied_on)
    Letters(node).submit_reply(session, approved)


# --- the worker ---------------------------------------------------------------------------------


@dataclass
class BankWorkflow:
    """The background work of a bank gateway with a core bank; ``run_once`` is one round."""

    node: Node
    core_url: str
    policy: ApprovalPolicy
    _pause: dict[str, tuple[int, float]] = field(default_factory=dict)

    @classmethod
    def for_node(cls, node: Node) -> BankWorkflow:
        url = node.settings.core_banking_url
        if url is None:
            raise ValueError("the bank workflow needs core_banking_url")
        return cls(node=node, core_url=url, policy=policy_of(node))

    @property
    def core(self) -> CoreBankingPort:
        # Connected on first use, so a core that is down at start delays the work, not the gateway.
        return _core_bank(self.core_url)

    def run_once(self) -> int:
        if not self.node.is_member():
            return 0
        reads = RoundReads(self.node)
        return self._answer_arrivals(reads) + self._retire_drafts()

    def _due(self, letter_id: str) -> bool:
        paused = self._pause.get(letter_id)
        return paused is None or paused[1] <= time.monotonic()

    def _each(
        self, letter_ids: Sequence[str], step: str, work: Callable[[Session, Sequence[str]], int]
    ) -> int:
        """Does ``work`` (how many letters it acted on) for the letters: all in one database
        transaction, or, when one letter fails and so rolls the others back, again one letter per
        transaction."""
        due = [letter_id for letter_id in letter_ids if self._due(letter_id)]
        if not due:
            return 0
        try:
            with self.node.db.session() as session:
                done = work(session, due)
        except Exception:
            done = self._one_by_one(due, step, work)
        else:
            for letter_id in due:
                self._pause.pop(letter_id, None)
        if done:
            self.node.notify()
        return done

    def _one_by_one(
        self, letter_ids: Sequence[str], step: str, work: Callable[[Session, Sequence[str]], int]
    ) -> int:
        done = 0
        for letter_id in letter_ids:
            try:
                with self.node.db.session() as session:
                    acted = work(session, [letter_id])
            except Exception as exc:  # one letter's failure (the core is down) must not stop the others
                attempts = self._pause.get(letter_id, (0, 0.0))[0] + 1
                pause = min(0.5 * 2**attempts, _MAX_PAUSE_S)
                self._pause[letter_id] = (attempts, time.monotonic() + pause)
                log.warning(
                    "%s of %s failed (attempt %d, next in %.0f s): %s", step, letter_id, attempts, pause, exc
                )
                continue
            self._pause.pop(letter_id, None)
            done += 1 if acted else 0
        return done

    def _awaiting(self) -> Sequence[str]:
        """Received letters still to answer that have no compliance check yet, or passed it and have
        no draft yet, the earliest received first. One query of the open letters, each looked up by
        key in the checks and the drafts (correlated ``IN``s), rather than every check or draft ever
        made read at each round: a check that rejected, or one followed by a draft, leaves nothing
        for the round to do."""
        check = ComplianceCheckRow
        drafted = select(DraftRow.letter_id).where(DraftRow.letter_id == check.letter_id)
        done = select(check.letter_id).where(
            check.letter_id == LetterRow.letter_id, (check.outcome != PASSED) | check.letter_id.in_(drafted)
        )
        with self.node.db.session() as session:
            return Letters(self.node).received(
                session, open_only=True, ids=True, earliest="received", limit=_BATCH, excluding=done
            )

    def _answer_arrivals(self, reads: RoundReads) -> int:
        return self._each(
            self._awaiting(),
            "checking or drafting",
            lambda session, batch: self._check_and_draft(session, batch, reads),
        )

    def _check_and_draft(self, session: Session, letter_ids: Sequence[str], reads: RoundReads) -> int:
        """Checks the letters not checked yet, then drafts (in the same transaction, so that the
        accept and the reply go to the chain together) those it can, with the letters checked before
        and still to draft; a letter it has just checked and cannot draft (the core is down) is left
        to a later round, where its drafting fails, and is retried, alone."""
        # One letter's check reads nothing another's writes, so they are written together.
        with session.no_autoflush:
            locked = Letters(self.node).lock(session, letter_ids)
            done = set(
                session.scalars(
                    select(ComplianceCheckRow.letter_id).where(ComplianceCheckRow.letter_id.in_(letter_ids))
                )
            )
            rows = [row for row in locked if row.letter_id not in done and row.takes_reply]
            if rows:
                reads.read_mandates(session, rows)
                reads.read_customers(session, self.core, rows)
            checked = check_arrivals(self.node, session, rows, self.core, reads)
        session.flush()
        to_draft = checked + [row for row in locked if row.letter_id in done]
        drafted = self._draft(session, to_draft, reads, eager={row.letter_id for row in checked})
        return len(checked) + drafted

    def _draft(
        self, session: Session, locked: Sequence[LetterRecord], reads: RoundReads, *, eager: Collection[str]
    ) -> int:
        """Drafts the replies to the letters (read under their locks in this transaction) from the
        core and approves and submits those the policy lets through; how many it drafted.
        ``eager``: the letters checked just now, which a failing core leaves to a later round."""
        ids = [row.letter_id for row in locked]
        drafted = set(session.scalars(select(DraftRow.letter_id).where(DraftRow.letter_id.in_(ids))))
        queued, outcomes = _drafting_reads(self.node, session, ids)  # with what the check just wrote
        rows = []
        for row in locked:
            try:
                check_draftable(self.node, row, queued, outcomes)
            except NotReadyToDraft:
                continue
            if row.letter_id not in drafted:  # else an officer drafted it meanwhile
                rows.append(row)
        if rows:
            reads.read_snapshots(session, self.core, rows)
        drafts: list[NewDraft] = []
        for row in rows:
            try:
                content = draft_from_core(self.node, session, row, self.core, reads)
            except CoreUnavailable:
                if row.letter_id in eager:
                    continue
                raise
            drafts.append(NewDraft(row.letter_id, row.letter_hash, row.bank, content))
        stored = save_first_drafts(session, self.node.vault, drafts, SYSTEM_DRAFTER)
        # Approving one draft reads nothing another's approval writes; the replies, and the
        # approvals' log entries, are written together.
        with session.no_autoflush:
            replies: list[ConfirmationReply] = []
            approvals: list[Decision] = []
            for draft, draft_row in zip(drafts, stored, strict=True):
                letter = reads.letter(session, draft.letter_id)
                why = self.policy.needs_review(letter, draft.content, SYSTEM_DRAFTER.officer_id)
                if why is None:
                    replies.append(
                        approved_reply(
                            self.node,
                            session,
                            draft_row,
                            STRAIGHT_THROUGH,
                            policy=self.policy,
                            letter=letter,
                            log=approvals,
                        )
                    )
                else:
                    log.info("draft %d of %s awaits a reviewer: %s", draft_row.version, draft.letter_id, why)
            log_decisions(session, self.node.vault, approvals)
            Letters(self.node).submit_replies(session, replies)
        return len(stored)

    def _retire_drafts(self) -> int:
        """Supersedes live drafts of letters that no longer take a reply from them."""
        live = (DraftStatus.PENDING_REVIEW, DraftStatus.RETURNED)
        with self.node.db.session() as session:
            ended = Letters(self.node).ended(
                session, select(DraftRow.letter_id).where(DraftRow.status.in_(live)), limit=_BATCH
            )
            if not ended:  # as at most rounds: no live draft's letter ended
                return 0
            rows = session.scalars(
                select(DraftRow).where(DraftRow.letter_id.in_(ended), DraftRow.status.in_(live))
            ).all()
            for row in rows:
                supersede(
                    session,
                    self.node.vault,
                    row,
                    actor=SYSTEM_WORKFLOW,
                    why="the letter was answered or ended otherwise",
                )
        return len(rows)
