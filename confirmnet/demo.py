"""``confirmnet demo``: a whole network on this machine and an audit season running through it.

An operator, two audit firms, three banks with generated core-banking data (answering through the
bank adapter, straight-through for clean replies) and a regulator. The firms request a few hundred
letters, composed from the auditees' books; the auditees authorise them (a group's signer covers
its subsidiaries' letters, one subsidiary at each bank, with one signature); the banks check, draft and reply; reviewers
approve the replies with exceptions; the firms close. On the way: one letter rejected as
incomplete, one withdrawn, one refused by the auditee, a few left overdue with the auditee, and
one capital-verification (验资) letter confirming investors' contributions. At the end: a summary set against the regulator's statistics, and the regulator's offline verification
of a sample of evidence packages against the chain.
"""

from __future__ import annotations

import math
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from auditor_client.authorise import Kind, review_bundle, sign_review
from auditor_client.sdk import Client, LetterDraft
from confirmnet.launcher import Gateway, LocalNetwork, MemberSpec
from node_gateway.protocol.documents import (
    AccountType,
    Auditee,
    AuditFirm,
    Bank,
    Conclusion,
    ConfirmationLetter,
    ConfirmationReply,
    DepositAccount,
    DepositType,
    FirmContact,
    Item,
    LetterFormat,
    LetterItems,
    Period,
    RefusalReason,
    new_letter_id,
)
from node_gateway.protocol.wire import LetterSummary

if TYPE_CHECKING:
    from bank_adapter.core_sql import CoreBank

T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C")

REFERENCE_DATE = date(2025, 12, 31)
AUDIT_PERIOD = Period(start=date(2025, 1, 1), end=REFERENCE_DATE)
OVERDUE_AFTER_S = 20
# The season's 验资 letter: the third auditee's (the generator gives every fifth customer of a bank,
# its third included, contributions paid in the period), none of the letters taken aside below.
CAPITAL_AT = 2
# Per currency: the sample and generated letters state CNY, USD, EUR, HKD and JPY amounts.
STRAIGHT_THROUGH_LIMIT = (
    "CNY=100000000000,USD=100000000000,EUR=100000000000,HKD=100000000000,JPY=100000000000"
)

OPERATOR = MemberSpec("operator", "中国银行业协会", "51100000500000074H")
FIRMS = [
    MemberSpec("audit_firm", "明鉴会计师事务所", "91310000MA1FL0TE5Q"),
    MemberSpec("audit_firm", "信诚会计师事务所", "91110000MA01C8Q77X"),
]
BANK_NAMES = [
    ("东海银行", "91310000132206210U"),
    ("南湖银行", "91330000MA27U0E43L"),
    ("西山银行", "91510000MA61R2XG4N"),
]
REGULATOR = MemberSpec("regulator", "财政部监督评价局", "11100000000013127B")


@dataclass
class Customer:
    """An auditee: a customer of one bank, audited by one firm, in a group with one signer."""

    code: str
    name: str
    bank: Gateway
    core_url: str
    firm: Gateway
    signer: LocalAccount


@dataclass
class Season:
    letters: dict[str, tuple[ConfirmationLetter, Customer]] = field(default_factory=dict)
    exceptions_planned: set[str] = field(default_factory=set)
    rejected: str = ""
    withdrawn: str = ""
    refused: str = ""
    overdue: set[str] = field(default_factory=set)
    overdue_due_at: int = 0


@dataclass
class Phases:
    """When each phase of the run began and ended, in seconds from the run's start: phases of the
    season overlap (the banks reply while the auditees are still signing), so both ends are kept."""

    origin: float = field(default_factory=time.monotonic)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)

    def begin(self, what: str) -> None:
        now = time.monotonic() - self.origin
        self.spans[what] = (now, now)

    def end(self, what: str) -> None:
        began = self.spans[what][0]
        self.spans[what] = (began, time.monotonic() - self.origin)


class DemoSummary(BaseModel):
    letters: int
    by_status: dict[str, int]
    replied: int
    reply_rate: float | None
    median_reply_seconds: int | None
    p95_reply_seconds: int | None
    exceptions: int
    capital_confirmed: int  # 验资 letters closed on a reply that confirms every contribution
    overdue: int
    verified_packages: int
    verified_letters: int
    verification_failures: int
    regulator: dict[str, Any]
    seconds: float
    phases: dict[str, tuple[float, float]] = {}  # began and ended, seconds from the run's start


def members(base: Path) -> list[MemberSpec]:
    banks = [
        MemberSpec(
            "bank",
            name,
            code,
            env={
                "CONFIRMNET_CORE_BANKING_URL": f"sqlite:///{base / f'core-{index}.db'}",
                "CONFIRMNET_APPROVAL_POLICY": "straight_through",
                # who answers for the straight-through control: every automated reply names them
                "CONFIRMNET_STRAIGHT_THROUGH_ACCOUNTABLE_NAME": "周明远",
                "CONFIRMNET_STRAIGHT_THROUGH_ACCOUNTABLE_TITLE": "运营管理部总经理",
                "CONFIRMNET_STRAIGHT_THROUGH_LIMIT": STRAIGHT_THROUGH_LIMIT,
            },
        )
        for index, (name, code) in enumerate(BANK_NAMES)
    ]
    return [OPERATOR, *FIRMS, *banks, REGULATOR]


@contextmanager
def _bar(progress: Progress, phases: Phases, what: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar for one phase; the phase ends when the bar is full (or its block ends)."""
    task = progress.add_task(what, total=total)
    phases.begin(what)
    done = 0
    counting = threading.Lock()  # advanced from the threads that work side by side

    def advance(steps: int = 1) -> None:
        nonlocal done
        progress.advance(task, steps)
        with counting:
            done += steps
            if done >= total and steps:
                phases.end(what)

    yield advance
    progress.update(task, completed=total)
    if done < total:
        phases.end(what)


class _OpenClients:
    """The driver's clients, one per gateway and user, opened once for the run and shared by its
    threads: building one costs about 20 ms of CPU (its TLS context), and the driver looks at
    every gateway several times a second."""

    def __init__(self) -> None:
        self._sdks: dict[tuple[str, str], Client] = {}
        self._https: dict[tuple[str, str], httpx.Client] = {}
        self._lock = threading.Lock()

    def sdk(self, gateway: Gateway, user: str) -> Client:
        return self._once(self._sdks, gateway.sdk, gateway, user)

    def http(self, gateway: Gateway, user: str) -> httpx.Client:
        return self._once(self._https, gateway.client, gateway, user)

    def _once(
        self, store: dict[tuple[str, str], C], open_as: Callable[[str], C], gateway: Gateway, user: str
    ) -> C:
        with self._lock:  # keyed by the API key too: a later network may reuse a port
            key = (gateway.url, gateway.api_keys[user])
            if key not in store:
                store[key] = open_as(user)
            return store[key]

    def close(self) -> None:
        with self._lock:
            for client in self._sdks.values():
                client.close_connection()
            for http in self._https.values():
                http.close()
            self._sdks.clear()
            self._https.clear()


_OPEN = _OpenClients()


def _auditor(firm: Gateway) -> Client:
    return _OPEN.sdk(firm, "auditor")


def _in_parallel(work: Callable[[T], R], items: Sequence[T], workers: int = 4) -> list[R]:
    """``work`` on each item, a few at a time: the members' gateways work side by side."""
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(work, items))


def load_core_banks(network: LocalNetwork, customers_per_bank: int) -> dict[str, list[tuple[str, str]]]:
    """Generates each bank's core data; the customers (code, name) of each bank by its name."""
    from bank_adapter.core_rows import CustomerRow, rows_of
    from bank_adapter.core_sql import CoreBank
    from bank_adapter.generator import generate

    found: dict[str, list[tuple[str, str]]] = {}
    for index, bank in enumerate(network.by_role("bank")):
        dataset = generate(customers=customers_per_bank, seed=index + 1, reference_date=REFERENCE_DATE)
        core = CoreBank(bank.spec.env["CONFIRMNET_CORE_BANKING_URL"])
        core.load(dataset)
        found[bank.name] = [(row.registration_code, row.name) for row in rows_of(dataset, CustomerRow)]
        core.dispose()
    return found


def compose(
    customer: Customer,
    firm_no: int,
    bank_no: int,
    *,
    exception: bool,
    incomplete: bool,
    capital: bool = False,
    core: CoreBank | None = None,
) -> ConfirmationLetter:
    """A format-one letter stating what the auditee's books say (its bank's records, as of the
    date); with ``capital``, a 验资 letter of the contributions paid in the period, if it has any.
    ``core`` is the customer's bank's core, if the caller has it open."""
    if core is not None:
        snapshot = core.snapshot(customer.code, REFERENCE_DATE)
    else:
        from bank_adapter.core_sql import CoreBank

        opened = CoreBank(customer.core_url)
        try:
            snapshot = opened.snapshot(customer.code, REFERENCE_DATE)
        finally:
            opened.dispose()
    paid_in = tuple(
        c for c in snapshot.capital_contributions if AUDIT_PERIOD.start <= c.paid_on <= AUDIT_PERIOD.end
    )
    letter_format = LetterFormat.CAPITAL if capital and paid_in else LetterFormat.ONE
    items: dict[str, Any] = {}
    for key in LetterItems.model_fields:
        if letter_format is LetterFormat.CAPITAL:  # its contributions; the standard items do not apply
            items[key] = (
                Item(entries=paid_in) if key == "capital_contributions" else Item(not_applicable=True)
            )
            continue
        if key in ("other", "capital_contributions"):
            entries: tuple[Any, ...] = ()
        elif key == "closed_accounts":
            entries = snapshot.closed_in_period(AUDIT_PERIOD)
        else:
            entries = getattr(snapshot, key)
        items[key] = Item(entries=entries) if entries else Item(not_applicable=True)
    deposits: list[DepositAccount] = list(snapshot.deposits)
    if exception and deposits and letter_format is LetterFormat.ONE:
        first = deposits[0]
        deposits[0] = first.model_copy(update={"balance": (first.balance or Decimal(0)) + Decimal("1234.56")})
        items["deposits"] = Item(entries=tuple(deposits))
    if incomplete:
        # A time deposit without its start and end dates: the template's columns are not filled.
        undated = DepositAccount(
            account_no="6222000000000000001",
            account_name=customer.name,
            currency="CNY",
            account_type=AccountType.GENERAL,
            deposit_type=DepositType.TIME,
            balance=Decimal("1000000.00"),
        )
        items["deposits"] = Item(entries=(*deposits, undated))
    return ConfirmationLetter(
        letter_id=new_letter_id(),
        format=letter_format,
        reference_date=REFERENCE_DATE,
        issued_on=date.today(),
        audit_period=AUDIT_PERIOD,
        closed_accounts_period=AUDIT_PERIOD,
        audit_firm=AuditFirm(member_no=firm_no, name=customer.firm.name),
        firm_contact=FirmContact(name="周静", email=f"confirmations@firm{firm_no}.example"),
        bank=Bank(member_no=bank_no, name=customer.bank.name),
        auditee=Auditee(name=customer.name, registration_code=customer.code),
        items=LetterItems.model_validate(items),
    )


def _ok(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


def record_officers(banks: Sequence[Gateway]) -> None:
    """Each bank's admin records who its officers are (their names and titles, which replies state)."""

    def at(bank: Gateway) -> None:
        with bank.client("admin") as admin:
            for user, (name, title) in BANK_OFFICERS.items():
                _ok(admin.put(f"/v1/bank/officers/{user}", json={"name": name, "title": title}))

    _in_parallel(at, banks)


def register_mandates(banks: Sequence[Gateway], customers: Sequence[Customer]) -> None:
    """Each bank registers its customers' signers, all of them in one import; the banks side by side."""
    until = int(time.time()) + 365 * 86400

    def at(bank: Gateway) -> None:
        mine = [c for c in customers if c.bank is bank]
        with bank.client("officer") as officer:
            records = [
                {"registration_code": c.code, "signer": c.signer.address, "valid_until": until} for c in mine
            ]
            _ok(officer.post("/v1/bank/mandates/import", json={"mandates": records}), 202)

    _in_parallel(at, banks)


def wait_for_mandates(network: LocalNetwork, count: int, tick: Callable[[int], None]) -> None:
    """Until the banks' mandates are on chain: a firm's gateway finds there, by the signer, the
    auditee reference each authorisation is relayed under."""
    from node_gateway.chain.network import Network, NetworkFile

    assert network.w3 is not None
    chain = Network.attach(network.w3, NetworkFile.load(network.network_file))
    seen = 0

    def registered() -> bool:
        nonlocal seen
        events = chain.confirmations.get_events(chain.deployment_block)
        now_seen = min(count, sum(event.name == "MandateRegistered" for event in events))
        tick(now_seen - seen)
        seen = now_seen
        return seen >= count

    network.wait_until(registered, "the customers' mandates on chain", poll_s=0.3)


def _sign(firm: Client, letters: list[tuple[str, Customer]], refusal: int | None = None) -> None:
    """The group's signer reviews what the bundle covers, from its documents, that each letter names
    one of its companies, and signs it (or refuses): what `confirmnet authorise` does."""
    bundle = firm.authorisation_request([i for i, _ in letters], refusal_reason=refusal)
    review = review_bundle(bundle, auditee_codes=sorted({c.code for _, c in letters}))
    signer = letters[0][1].signer
    kind: Kind = "authorise" if refusal is None else "refuse"
    firm.submit_authorisation(sign_review(review, signer, kind=kind, reason=refusal))


def _chain_now(network: LocalNetwork) -> int:
    """The time the chain's next block will carry at the earliest: blocks are stamped with the
    wall clock, or one second after their parent when that is later."""
    assert network.w3 is not None
    latest = int(network.w3.eth.get_block("latest")["timestamp"])
    return max(int(time.time()), latest + 1)


def _firm_letters(network: LocalNetwork, ids: set[str]) -> dict[str, LetterSummary]:
    """What the firms' gateways say of the letters ``ids``, from their listings (the firms side by side)."""

    def listed(firm: Gateway) -> dict[str, LetterSummary]:
        letters = _auditor(firm).iter_letters(page_size=1000)
        return {x.letter_id: x for x in letters if x.letter_id in ids}

    found: dict[str, LetterSummary] = {}
    for part in _in_parallel(listed, network.by_role("audit_firm")):
        found.update(part)
    return found


def _firm_statuses(network: LocalNetwork, ids: set[str]) -> dict[str, str]:
    return {letter_id: x.status for letter_id, x in _firm_letters(network, ids).items()}


def _by_firm(season: Season, ids: Iterable[str]) -> list[tuple[Gateway, list[str]]]:
    """``ids`` grouped by the firm that requests them."""
    found: dict[str, tuple[Gateway, list[str]]] = {}
    for letter_id in ids:
        firm = season.letters[letter_id][1].firm
        found.setdefault(firm.name, (firm, []))[1].append(letter_id)
    return list(found.values())


def _request(season: Season, ids: Sequence[str], due_at: int) -> None:
    """Each firm requests its letters among ``ids``, due at ``due_at``, a hundred at a time; the
    firms side by side. Their gateways put them on chain on their own."""

    def at(firm_letters: tuple[Gateway, list[str]]) -> None:
        firm, mine = firm_letters
        drafts = [LetterDraft(letter=season.letters[i][0], due_at=due_at) for i in mine]
        for start in range(0, len(drafts), 100):
            _auditor(firm).create_letters(drafts[start : start + 100])

    _in_parallel(at, _by_firm(season, ids))


def _authorise(season: Season, tick: Callable[[int], None]) -> None:
    """Each group's signer authorises its subsidiaries' letters with one signature; one auditee
    refuses a letter. The overdue letters stay with their auditees, the withdrawn one is not
    asked for. A firm takes an authorisation while its letters' requests are still on their way."""
    groups: dict[tuple[str, str], list[str]] = {}
    for letter_id, (_, customer) in season.letters.items():
        if letter_id in season.overdue or letter_id in (season.withdrawn, season.refused):
            continue
        groups.setdefault((customer.firm.name, customer.signer.address), []).append(letter_id)
    bundles = [([season.refused], RefusalReason.WRONG_CONTENT), *((ids, None) for ids in groups.values())]

    def sign(bundle: tuple[list[str], int | None]) -> None:
        letter_ids, refusal = bundle
        firm = season.letters[letter_ids[0]][1].firm
        _sign(_auditor(firm), [(i, season.letters[i][1]) for i in letter_ids], refusal=refusal)
        tick(len(letter_ids))

    _in_parallel(sign, bundles)


class _Flow:
    """The season from the auditees' signatures to the last close, one look at a time: each round
    reads every letter's state from the firms' listings, then moves whatever can move (the banks'
    reviewers approve the exceptions, the firms close what has a verified reply, withdraw one
    letter, request the overdue ones once the others are on chain and follow them up once past
    due) and advances the bars. Nothing waits on one letter."""

    def __init__(
        self, network: LocalNetwork, season: Season, bars: Callable[[str, int], Callable[[int], None]]
    ) -> None:
        self.network, self.season, self.bars = network, season, bars
        self.started = time.monotonic()
        ids = list(season.letters)
        self.awaited = set(ids) - season.overdue - {season.withdrawn, season.refused, season.rejected}
        self.ends = {season.withdrawn: "WITHDRAWN", season.refused: "REFUSED", season.rejected: "REJECTED"}
        self.requested = bars("firms request the letters", len(ids))
        self.replied = bars("banks check, draft and reply", len(self.awaited))
        self.closed = bars("firms check the replies and close", len(self.awaited))
        self.followed_up: Callable[[int], None] | None = None
        self.counts = Counter[str]()
        self.closing: set[str] = set()
        self.withdrawing = False
        self.overdue_requested = False
        self.follow_ups_sent = False
        self.signed: Future[None] | None = None  # the auditees' signing, under way beside the rounds

    def _advance(self, name: str, bar: Callable[[int], None], count: int) -> None:
        bar(count - self.counts[name])
        self.counts[name] = count

    def round(self) -> bool:
        season = self.season
        if self.signed is not None and self.signed.done():
            self.signed.result()  # raises what went wrong in the signing, at once
        letters = _firm_letters(self.network, set(season.letters))
        status = {letter_id: x.status for letter_id, x in letters.items()}
        self._advance("requested", self.requested, sum(s != "PENDING" for s in status.values()))
        on_chain = [
            i for i in season.letters if i not in season.overdue and status.get(i, "PENDING") != "PENDING"
        ]
        if not self.overdue_requested and len(on_chain) == len(season.letters) - len(season.overdue):
            self._request_overdue()
        if not self.withdrawing and status.get(season.withdrawn) == "REQUESTED":
            _auditor(season.letters[season.withdrawn][1].firm).withdraw(season.withdrawn)
            self.withdrawing = True
        replied = sum(status.get(i) in ("REPLIED", "CLOSED") for i in self.awaited)
        if replied < len(self.awaited):
            _in_parallel(_approve_waiting_drafts, self.network.by_role("bank"))
        self._advance("replied", self.replied, replied)
        self._close(
            [
                i
                for i in self.awaited
                if letters.get(i) and letters[i].reply_verified and status[i] == "REPLIED"
            ]
        )
        self._advance("closed", self.closed, sum(status.get(i) == "CLOSED" for i in self.awaited))
        followed_up = self._follow_up(status)
        ended = all(status.get(i) == end for i, end in self.ends.items())
        signed = self.signed is not None and self.signed.done()
        return self.counts["closed"] == len(self.awaited) and ended and followed_up and signed

    def _request_overdue(self) -> None:
        """The overdue letters must reach the chain before their due time: their window is
        measured from how long the others' requests took on this (possibly loaded) machine, and
        from the chain's clock, which runs ahead of the wall clock when blocks come faster than
        one a second (the in-process chain mines a block per transaction)."""
        window = max(OVERDUE_AFTER_S, int(4 * (time.monotonic() - self.started)))
        self.season.overdue_due_at = _chain_now(self.network) + window
        _request(self.season, sorted(self.season.overdue), self.season.overdue_due_at)
        self.followed_up = self.bars("auditors follow up the overdue letters", len(self.season.overdue))
        self.overdue_requested = True

    def _close(self, ids: list[str]) -> None:
        """The firms close the letters whose replies their gateways verified, side by side."""
        ids = [i for i in ids if i not in self.closing]

        def at(firm_letters: tuple[Gateway, list[str]]) -> None:
            firm, mine = firm_letters
            for letter_id in mine:
                _auditor(firm).close(letter_id)

        _in_parallel(at, _by_firm(self.season, ids))
        self.closing.update(ids)

    def _follow_up(self, status: Mapping[str, str]) -> bool:
        """Once the auditee-bound letters are past due, their auditors follow them up (on chain);
        whether every follow-up is on chain."""
        season = self.season
        # Past due by the wall clock (which the regulator's statistics use) is past due on chain too.
        if self.followed_up is None or time.time() <= season.overdue_due_at + 1:
            return False
        if any(status.get(i) != "REQUESTED" for i in season.overdue):
            return False
        if not self.follow_ups_sent:
            for letter_id in sorted(season.overdue):
                _auditor(season.letters[letter_id][1].firm).follow_up(letter_id)
            self.follow_ups_sent = True
        done = sum(_followed_up(_auditor(season.letters[i][1].firm), i) for i in season.overdue)
        self._advance("followed up", self.followed_up, done)
        return done == len(season.overdue)


def run_season(network: LocalNetwork, letters: int, progress: Progress, phases: Phases) -> Season:
    banks, firms = network.by_role("bank"), network.by_role("audit_firm")
    numbers = {g.name: g.member_id() for g in network.gateways}
    per_bank = math.ceil(letters / len(banks)) + 2
    with _bar(progress, phases, "generating core-banking data", len(banks)) as tick:
        books = load_core_banks(network, per_bank)
        tick(len(banks))
    customers: list[Customer] = []
    # A group's signer authorises its subsidiaries' letters with one signature (as 函证e信): the
    # customers in the same place of each bank's books, audited by one firm, are a group with one
    # subsidiary at each bank. One signer mandated for two customers of one bank could not say
    # which one it signs for (the firm refuses it: signer_mandate_ambiguous).
    signers: dict[int, LocalAccount] = {}
    for bank in banks:
        for index, (code, name) in enumerate(books[bank.name]):
            firm, signer = firms[index % len(firms)], signers.setdefault(index, Account.create())
            customers.append(
                Customer(code, name, bank, bank.spec.env["CONFIRMNET_CORE_BANKING_URL"], firm, signer)
            )
    record_officers(banks)
    with _bar(progress, phases, "banks register their customers' signers", len(customers)) as tick:
        register_mandates(banks, customers)
        wait_for_mandates(network, len(customers), tick)
    season = Season()
    chosen = customers[:letters]
    from bank_adapter.core_sql import CoreBank

    cores = {bank.name: CoreBank(bank.spec.env["CONFIRMNET_CORE_BANKING_URL"]) for bank in banks}
    with _bar(progress, phases, "auditors compose letters from the books", len(chosen)) as tick:
        for index, customer in enumerate(chosen):
            exception = index % 9 == 4
            letter = compose(
                customer,
                numbers[customer.firm.name],
                numbers[customer.bank.name],
                exception=exception,
                incomplete=index == 7,
                capital=index == CAPITAL_AT,
                core=cores[customer.bank.name],
            )
            season.letters[letter.letter_id] = (letter, customer)
            if exception:
                season.exceptions_planned.add(letter.letter_id)
            tick(1)
    for core in cores.values():
        core.dispose()
    ids = list(season.letters)
    season.rejected, season.withdrawn, season.refused = ids[7], ids[11], ids[13]
    season.overdue = set(ids[-3:])
    with ExitStack() as open_bars:

        def bar(what: str, total: int) -> Callable[[int], None]:
            return open_bars.enter_context(_bar(progress, phases, what, total))

        flow = _Flow(network, season, bar)
        _request(season, [i for i in ids if i not in season.overdue], int(time.time()) + 14 * 86400)
        signing = bar("auditees authorise (one signature per group)", len(ids) - len(season.overdue) - 1)
        # The auditees sign while the rounds move what their signatures let move.
        with ThreadPoolExecutor(max_workers=1) as auditees:
            flow.signed = auditees.submit(_authorise, season, signing)
            network.wait_until(flow.round, "the season's letters to their ends", poll_s=0.5)
    return season


def _followed_up(client: Client, letter_id: str) -> bool:
    return any(step.name == "LetterFollowedUp" for step in client.get_letter(letter_id).history)


# The people behind each demo bank's users, as its admin records them: replies name them so.
BANK_OFFICERS = {"preparer": ("陈晓明", "对公业务经办"), "reviewer": ("刘建国", "运营主管")}


def approve_exceptions(banks: Sequence[Gateway]) -> None:
    """The banks' officers answer the letters whose drafts wait for a person (exceptions): the
    preparer drafts the reply again (the system's draft goes out on its own only when clean),
    then the reviewer, another officer, approves it. The bank's admin has recorded who they are
    (their names and titles, which the reply states)."""
    record_officers(banks)
    _in_parallel(_approve_waiting_drafts, banks)


def _approve_waiting_drafts(bank: Gateway) -> None:
    """:func:`approve_exceptions` at one bank whose officers are recorded."""
    preparer, reviewer = _OPEN.http(bank, "preparer"), _OPEN.http(bank, "reviewer")
    for case in _ok(reviewer.get("/v1/bank/drafts")):
        letter_id, draft = case["letter_id"], case["draft"]
        if draft is None or draft["preparer"]["officer_id"].startswith("system:"):
            draft = _ok(preparer.post(f"/v1/bank/letters/{letter_id}/draft", json={}), 201)
        approved = reviewer.post(
            f"/v1/bank/letters/{letter_id}/approve", json={"draft_version": draft["version"]}
        )
        if approved.status_code != 409:  # 409: the case moved on meanwhile; seen next round
            _ok(approved, 202)


def summarise(network: LocalNetwork, season: Season, started: float) -> DemoSummary:
    ids = set(season.letters)
    letters = _firm_letters(network, ids)
    statuses = {letter_id: x.status for letter_id, x in letters.items()}
    closed = [letter_id for letter_id in season.letters if statuses.get(letter_id) == "CLOSED"]

    def replies(firm_letters: tuple[Gateway, list[str]]) -> list[tuple[str, ConfirmationReply]]:
        firm, mine = firm_letters
        return [(letter_id, _auditor(firm).get_reply(letter_id).reply) for letter_id in mine]

    exceptions = capital_confirmed = 0
    for part in _in_parallel(replies, _by_firm(season, closed)):
        for letter_id, reply in part:
            exceptions += any(item.status == "exception" for _, item in reply.items.by_key())
            confirmed = reply.conclusion is Conclusion.CONFIRMED
            capital_confirmed += season.letters[letter_id][0].format is LetterFormat.CAPITAL and confirmed
    regulator = network.by_role("regulator")[0]
    with regulator.client("analyst") as client:
        stats = network.wait_until(
            lambda: (s := _ok(client.get("/v1/statistics/summary")))["letters_received"] == len(ids) and s,
            "the regulator to see every letter",
        )
    return DemoSummary(
        letters=len(ids),
        by_status=dict(Counter(statuses.values())),
        replied=sum(1 for s in statuses.values() if s in ("REPLIED", "CLOSED")),
        reply_rate=stats["reply_rate"],
        median_reply_seconds=stats["median_reply_seconds"],
        p95_reply_seconds=stats["p95_reply_seconds"],
        exceptions=exceptions,
        capital_confirmed=capital_confirmed,
        # past the firm's due time (the contract's isOverdue); the regulator's overdue counts only
        # the bank's statutory deadlines
        overdue=sum(x.overdue for x in letters.values()),
        verified_packages=0,
        verified_letters=0,
        verification_failures=0,
        regulator=stats,
        seconds=time.monotonic() - started,
    )


def verify_sample(
    network: LocalNetwork, season: Season, summary: DemoSummary, out: Path, size: int = 12
) -> DemoSummary:
    """The regulator checks a sample of evidence packages against the chain, trusting no gateway."""
    from auditor_client.evidence import build_package
    from auditor_client.verifier import verify_package
    from node_gateway.chain.network import NetworkFile

    closed = [i for i, s in _firm_statuses(network, set(season.letters)).items() if s == "CLOSED"]
    sample = random.Random(7).sample(closed, min(size, len(closed)))  # noqa: S311 -- a sample, not a secret
    packages = letters = failures = 0
    assert network.w3 is not None
    for firm in network.by_role("audit_firm"):
        mine = [i for i in sample if season.letters[i][1].firm is firm]
        if not mine:
            continue
        with firm.sdk("auditor") as client:
            package = build_package(
                [client.get_evidence(i) for i in mine],
                identity=client.identity(),
                gateway=firm.url,
                engagement=f"demo season {REFERENCE_DATE}",
            )
        package.save(out / f"evidence-{firm.member_id()}.json")
        report = verify_package(package, network.w3, anchor=NetworkFile.load(network.network_file))
        packages += 1
        letters += len(mine)
        failures += len(report.failures)
    return summary.model_copy(
        update={"verified_packages": packages, "verified_letters": letters, "verification_failures": failures}
    )


def print_summary(console: Console, summary: DemoSummary) -> None:
    table = Table(title="The season", show_header=False)
    table.add_row("letters", str(summary.letters))
    for status, count in sorted(summary.by_status.items()):
        table.add_row(f"  {status.lower()}", str(count))
    table.add_row(
        "reply rate (regulator)", f"{summary.reply_rate:.1%}" if summary.reply_rate is not None else "–"
    )
    table.add_row(
        "reply time, median / p95", f"{summary.median_reply_seconds} s / {summary.p95_reply_seconds} s"
    )
    table.add_row("replies with exceptions", str(summary.exceptions))
    table.add_row("验资 letters confirmed", str(summary.capital_confirmed))
    table.add_row("overdue (awaiting the auditee)", str(summary.overdue))
    table.add_row(
        "evidence verified offline",
        f"{summary.verified_letters} letters in {summary.verified_packages} "
        f"packages, {summary.verification_failures} failures",
    )
    table.add_row("wall time", f"{summary.seconds:.0f} s")
    console.print(table)
    phases = Table(title="Where the time went (seconds from the start; the season's phases overlap)")
    for column in ("phase", "from", "to", "took"):
        phases.add_column(column, justify="left" if column == "phase" else "right")
    for what, (began, ended) in summary.phases.items():
        phases.add_row(what, f"{began:.1f}", f"{ended:.1f}", f"{ended - began:.1f}")
    console.print(phases)


def demo_password(gateway: Gateway) -> str:
    """A password for this run for the gateway's ``admin`` user, to sign in to its pages."""
    from node_gateway.core.security import set_password
    from node_gateway.storage.db import Database

    password = secrets.token_urlsafe(12)
    db = Database(gateway.settings().effective_database_url)
    try:
        with db.session() as session:
            set_password(session, "admin", password, one_time=False)
    finally:
        db.dispose()
    return password


def print_access(
    console: Console, network: LocalNetwork, web_passwords: Mapping[str, str] | None = None
) -> None:
    """The gateways' URLs, API keys and web pages, whole whatever the width of the terminal, or none
    (a file): they are there to be copied. ``web_passwords`` are this run's passwords of each
    gateway's ``admin`` user, by member name."""
    from auditor_client.cli._common import print_table

    table = Table(title="Gateways (API keys and passwords are for this demo only)")
    for column in ("member", "role", "URL", "API keys", "web pages"):
        table.add_column(column, no_wrap=column != "member")
    for gateway in network.gateways:
        keys = "\n".join(f"{user}: {key}" for user, key in gateway.api_keys.items())
        password = (web_passwords or {}).get(gateway.name)
        pages = "" if password is None else f"{gateway.pages_origin}/web/\nuser admin\npassword {password}"
        table.add_row(gateway.name, gateway.role, gateway.url, keys, pages)
    print_table(table, console)
    console.print(f"chain: {network.rpc_url}", soft_wrap=True)
    console.print(f"network file: {network.network_file}", soft_wrap=True)


def run_demo(
    base: Path,
    *,
    letters: int = 300,
    embedded: bool = False,
    keep_running: bool = True,
    console: Console | None = None,
    inspect: Callable[[LocalNetwork, DemoSummary], None] | None = None,
) -> DemoSummary:
    console = console or Console()
    started = time.monotonic()
    phases = Phases(origin=started)
    base.mkdir(parents=True, exist_ok=True)
    passphrase = secrets.token_urlsafe(24)  # this run's only; never written to the repository
    network = LocalNetwork(base, members(base), passphrase=passphrase, embedded=embedded)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with (
            Progress(*columns, console=console) as progress,
            _bar(progress, phases, "starting the network", 5) as tick,
        ):
            step_now = ""

            def step(what: str) -> None:  # a step ends when the next begins
                nonlocal step_now
                if step_now:
                    phases.end(f"  {step_now}")
                    tick(1)
                console.log(what)
                step_now = what
                phases.begin(f"  {what}")

            network.start(progress=step)
            phases.end(f"  {step_now}")
            tick(1)
        with Progress(*columns, console=console) as progress:
            season = run_season(network, letters, progress, phases)
            phases.begin("the summary and the regulator's figures")
            summary = summarise(network, season, started)
            phases.end("the summary and the regulator's figures")
            phases.begin("offline verification of a sample")
            summary = verify_sample(network, season, summary, base)
            phases.end("offline verification of a sample")
        summary = summary.model_copy(update={"phases": phases.spans})
        print_summary(console, summary)
        (base / "summary.json").write_text(summary.model_dump_json(indent=2))
        if inspect is not None:  # tests compare the summary with what the network says
            inspect(network, summary)
        if keep_running:
            print_access(console, network, {g.name: demo_password(g) for g in network.gateways})
            console.print("[bold]The gateways keep running; press Ctrl-C to stop.[/bold]")
            while True:
                time.sleep(3600)
        return summary
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM or SIGHUP (the launcher stops on those too)
        if not (base / "summary.json").exists():
            raise  # stopped before the season ended: there is no summary to give
        return DemoSummary.model_validate_json((base / "summary.json").read_text())
    finally:
        _OPEN.close()
        network.stop()
