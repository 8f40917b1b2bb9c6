"""The compliance check on a letter's arrival: accept it, or reject it with a reason code.

A letter is compliant when (in this order, the first failure decides the code):
1. it comes from an active audit firm, the one that requested it on chain, and names this bank
   (``NOT_FROM_AUDIT_FIRM``; a letter naming another bank is ``OTHER``);
2. its format is one the business rules this bank published accept (``FORMAT_NOT_ACCEPTED``; a
   bank that published none accepts every format). The firm's gateway refuses such a letter
   already where it holds the rules; this catches one sent before it did;
3. it is complete per the standard template (``INCOMPLETE``): in format one no item is blank and
   every figure is stated, and the template's columns are filled — a time or structured deposit
   states its start and end dates (起止日期), a loan or entrusted loan its interest rate (利率);
4. its reference date is sane (``REFERENCE_DATE_INVALID``): not after the day it is checked nor
   after the letter's issue date, and at most ``MAX_REFERENCE_AGE_YEARS`` years back; nor is the
   letter issued in the future;
5. the auditee is the one named (``UNKNOWN_CUSTOMER``): the auditee reference recorded on chain at
   authorisation (the one the signer holds this bank's mandate under, which the relaying firm
   supplied) is this bank's reference for the letter's registration code. Another reference means
   the letter was authorised under another customer's mandate: a signer of company B
   authorising a letter about company A, or a firm relaying under another of the signer's
   references. An auditee the core does not know is no reason to reject: the bank answers that
   it holds no relationship (a reply);
6. the authorisation is valid (``AUTHORISATION_INVALID``): the signer who authorised it on chain
   still holds a valid, unrevoked mandate of this bank for the customer.

The check itself is a pure function of the letter and the facts read about it, so each rule is
tested without a chain; ``workflow`` gathers the facts. The details it gives never repeat the
letter's data, only where the problem is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from node_gateway.protocol.bank_rules import FORMAT_NAMES
from node_gateway.protocol.documents import (
    ConfirmationLetter,
    DepositType,
    EntrustedLoanGiven,
    EntrustedLoanTaken,
    LetterFormat,
    Loan,
    RejectionReason,
)

MAX_REFERENCE_AGE_YEARS = 3
_DATED_DEPOSITS = (DepositType.TIME, DepositType.STRUCTURED)


@dataclass(frozen=True)
class LetterFacts:
    """What the check needs beyond the letter: from the chain, this gateway and the core."""

    bank_member_no: int  # this bank
    requested_by: int  # the member that requested the letter on chain
    requester_is_active_firm: bool
    auditee_ref: str | None  # as recorded on chain at authorisation
    bank_auditee_ref: str  # this bank's reference for the letter's registration code
    customer_known: bool  # the core knows the registration code
    signer: str  # who authorised the letter on chain
    mandate_valid_until: int  # the signer's mandate on chain, unix seconds (0: none)
    mandate_revoked: bool  # revoked here, perhaps not yet on chain
    now: int  # unix seconds
    today: date  # in China
    # The formats the business rules this bank published accept; None: it published none.
    formats_accepted: tuple[LetterFormat, ...] | None = None


@dataclass(frozen=True)
class ComplianceResult:
    reason: RejectionReason | None
    detail: str

    @property
    def passed(self) -> bool:
        return self.reason is None


def incompleteness(letter: ConfirmationLetter) -> list[str]:
    """Where the letter falls short of the template (empty when complete)."""
    problems: list[str] = []
    if letter.format is LetterFormat.ONE:
        for key, item in letter.items.by_key():
            if item.blank:
                problems.append(f"{key.value}: blank; list its entries or mark it not applicable")
            for index, entry in enumerate(item.entries):
                if missing := entry.missing_figures():
                    problems.append(f"{key.value}[{index}]: {', '.join(missing)} not stated")
        for index, deposit in enumerate(letter.items.deposits.entries):
            if deposit.deposit_type in _DATED_DEPOSITS and (
                deposit.start_date is None or deposit.end_date is None
            ):
                problems.append(
                    f"deposits[{index}]: a {deposit.deposit_type.value} deposit states its start and end dates"
                )
        borrowings: list[
            tuple[str, tuple[Loan, ...] | tuple[EntrustedLoanGiven, ...] | tuple[EntrustedLoanTaken, ...]]
        ] = [
            ("loans", letter.items.loans.entries),
            ("entrusted_loans_given", letter.items.entrusted_loans_given.entries),
            ("entrusted_loans_taken", letter.items.entrusted_loans_taken.entries),
        ]
        for name, entries in borrowings:
            for index, loan in enumerate(entries):
                if loan.interest_rate is None:
                    problems.append(f"{name}[{index}]: the interest rate is not stated")
    return problems


def reference_date_problem(letter: ConfirmationLetter, today: date) -> str | None:
    if letter.reference_date > today:
        return "the reference date is in the future"
    if letter.reference_date > letter.issued_on:
        return "the reference date is after the letter's issue date"
    if letter.issued_on > today + timedelta(days=1):  # a day's grace for time zones
        return "the letter is dated in the future"
    try:
        oldest = today.replace(year=today.year - MAX_REFERENCE_AGE_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - MAX_REFERENCE_AGE_YEARS, day=28)
    if letter.reference_date < oldest:
        return f"the reference date is more than {MAX_REFERENCE_AGE_YEARS} years ago"
    return None


def check_letter(letter: ConfirmationLetter, facts: LetterFacts) -> ComplianceResult:
    """Accept (reason None) or the first reason to reject, with where the problem is."""
    if not facts.requester_is_active_firm or letter.audit_firm.member_no != facts.requested_by:
        return ComplianceResult(
            RejectionReason.NOT_FROM_AUDIT_FIRM, "not sent by the active audit firm that requested it"
        )
    if letter.bank.member_no != facts.bank_member_no:
        return ComplianceResult(RejectionReason.OTHER, "the letter is addressed to another bank")
    if facts.formats_accepted is not None and letter.format not in facts.formats_accepted:
        accepted = ", ".join(f"{FORMAT_NAMES[f]} ({f.value})" for f in facts.formats_accepted)
        return ComplianceResult(
            RejectionReason.FORMAT_NOT_ACCEPTED,
            f"a letter in {FORMAT_NAMES[letter.format]} ({letter.format.value}); this bank's published "
            f"rules accept {accepted} only",
        )
    if problems := incompleteness(letter):
        return ComplianceResult(RejectionReason.INCOMPLETE, "; ".join(problems)[:2000])
    if problem := reference_date_problem(letter, facts.today):
        return ComplianceResult(RejectionReason.REFERENCE_DATE_INVALID, problem)
    if (facts.auditee_ref or "").lower() != facts.bank_auditee_ref.lower():
        return ComplianceResult(
            RejectionReason.UNKNOWN_CUSTOMER,
            "authorised under another customer's reference: the signer's mandate at this bank is "
            "not for the auditee the letter names",
        )
    if facts.mandate_revoked or facts.mandate_valid_until < facts.now:
        return ComplianceResult(
            RejectionReason.AUTHORISATION_INVALID,
            f"the signer {facts.signer} holds no valid mandate for the auditee",
        )
    if not facts.customer_known:
        # No relationship is an answer, not a defect of the letter: the bank replies saying so.
        return ComplianceResult(
            None, "complete, reference date sane, authorised; the auditee is no customer of this bank"
        )
    return ComplianceResult(
        None, "complete, reference date sane, customer known, authorised by a mandated signer"
    )
