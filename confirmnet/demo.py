"""``confirmnet demo``: a whole network on this machine and an audit season running through it.

An operator, two audit firms, three banks with generated core-banking data (answering through the
bank adapter, straight-through for clean replies) and a regulator. The firms request a few hundred
letters, composed from the auditees' books; the auditees authorise them (a group's signer covers
all its subsidiaries' letters with one signature); the banks check, draft and reply; reviewers
approve the replies with exceptions; the firms close. On the way: one letter rejected as
incomplete, one withdrawn, one refused by the auditee, a few left overdue with the auditee, and
one capital-verification (验资) letter confirming investors' contributions. At the end: a summary set against the regulator's statistics, and the regulator's offline verification
of a sample of evidence packages against the chain.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

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
from node_gateway.protocol.hashing import from_hex
from node_gateway.protocol.wire import LetterSummary

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
    salt: str = ""


@dataclass
class Season:
    letters: dict[str, tuple[ConfirmationLetter, Customer]] = field(default_factory=dict)
    exceptions_planned: set[str] = field(default_factory=set)
    rejected: str = ""
    withdrawn: str = ""
    refused: str = ""
    overdue: set[str] = field(default_factory=set)
    overdue_due_at: int = 0


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
def _bar(progress: Progress, what: str, total: int) -> Iterator[Callable[[int], None]]:
    task = progress.add_task(what, total=total)

    def advance(steps: int = 1) -> None:
        progress.advance(task, steps)

    yield advance
    progress.update(task, completed=total)


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
) -> ConfirmationLetter:
    """A format-one letter stating what the auditee's books say (its bank's records, as of the
    date); with ``capital``, a 验资 letter of the contributions paid in the period, if it has any."""
    from bank_adapter.core_sql import CoreBank

    core = CoreBank(customer.core_url)
    try:
        snapshot = core.snapshot(customer.code, REFERENCE_DATE)
    finally:
        core.dispose()
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


def register_mandates(customers: Sequence[Customer], tick: Callable[[int], None]) -> None:
    """Each bank gives its customers their auditee-reference salts and registers their signers."""
    until = int(time.time()) + 365 * 86400
    for customer in customers:
        with customer.bank.client("officer") as bank:
            customer.salt = _ok(bank.get(f"/v1/customers/{customer.code}/reference"))["salt"]
            _ok(
                bank.post(
                    "/v1/mandates",
                    json={
                        "registration_code": customer.code,
                        "signer": customer.signer.address,
                        "valid_until": until,
                    },
                ),
                202,
            )
        tick(1)


def wait_for_mandates(network: LocalNetwork, count: int) -> None:
    """Until the banks' mandates are on chain: a firm's gateway refuses a letter whose auditee
    reference has no mandate of its bank."""
    from node_gateway.chain.network import Network, NetworkFile

    assert network.w3 is not None
    chain = Network.attach(network.w3, NetworkFile.load(network.network_file))

    def registered() -> bool:
        events = chain.confirmations.get_events(chain.deployment_block)
        return sum(event.name == "MandateRegistered" for event in events) >= count

    network.wait_until(registered, "the customers' mandates on chain", poll_s=0.5)


def _sign(firm: Client, letters: list[tuple[str, Customer]], refusal: int | None = None) -> None:
    """The group's signer reviews what the bundle covers, from its documents and the salts its banks
    gave, and signs it (or refuses): what `confirmnet authorise` does."""
    bundle = firm.authorisation_request([i for i, _ in letters], refusal_reason=refusal)
    review = review_bundle(bundle, auditee_salts=sorted({from_hex(c.salt) for _, c in letters}))
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
    found: dict[str, LetterSummary] = {}
    for firm in network.by_role("audit_firm"):
        with firm.sdk("auditor") as client:
            found.update({x.letter_id: x for x in client.iter_letters(page_size=1000) if x.letter_id in ids})
    return found


def _firm_statuses(network: LocalNetwork, ids: set[str]) -> dict[str, str]:
    return {letter_id: x.status for letter_id, x in _firm_letters(network, ids).items()}


def _request(
    network: LocalNetwork, season: Season, ids: list[str], due_at: int, tick: Callable[[int], None]
) -> None:
    """Each firm requests its letters among ``ids``, due at ``due_at``; returns once all are on chain."""
    for firm in network.by_role("audit_firm"):
        drafts = [
            LetterDraft(letter=letter, auditee_salt=customer.salt, due_at=due_at)
            for letter, customer in (season.letters[i] for i in ids)
            if customer.firm is firm
        ]
        with firm.sdk("auditor") as client:
            for start in range(0, len(drafts), 100):
                client.create_letters(drafts[start : start + 100])
                tick(len(drafts[start : start + 100]))
    network.wait_until(
        lambda: list(_firm_statuses(network, set(ids)).values()).count("REQUESTED") == len(ids),
        "every request on chain",
        poll_s=0.5,
    )


def run_season(network: LocalNetwork, letters: int, progress: Progress) -> Season:
    banks, firms = network.by_role("bank"), network.by_role("audit_firm")
    numbers = {g.name: g.member_id() for g in network.gateways}
    per_bank = math.ceil(letters / len(banks)) + 2
    with _bar(progress, "generating core-banking data", len(banks)) as tick:
        books = load_core_banks(network, per_bank)
        tick(len(banks))
    customers: list[Customer] = []
    for bank in banks:
        for index, (code, name) in enumerate(books[bank.name]):
            firm = firms[index % len(firms)]
            customers.append(
                Customer(
                    code, name, bank, bank.spec.env["CONFIRMNET_CORE_BANKING_URL"], firm, Account.create()
                )
            )
    # A group's signer authorises all its subsidiaries' letters with one signature (as 函证e信).
    for group_start in range(0, len(customers), 4):
        group = [c for c in customers[group_start : group_start + 4] if c.firm is customers[group_start].firm]
        for member in group[1:]:
            member.signer = group[0].signer
    with _bar(progress, "banks register their customers' signers", len(customers)) as tick:
        register_mandates(customers, tick)
        wait_for_mandates(network, len(customers))
    season = Season()
    chosen = customers[:letters]
    with _bar(progress, "auditors compose letters from the books", len(chosen)) as tick:
        for index, customer in enumerate(chosen):
            exception = index % 9 == 4
            letter = compose(
                customer,
                numbers[customer.firm.name],
                numbers[customer.bank.name],
                exception=exception,
                incomplete=index == 7,
                capital=index == CAPITAL_AT,
            )
            season.letters[letter.letter_id] = (letter, customer)
            if exception:
                season.exceptions_planned.add(letter.letter_id)
            tick(1)
    ids = list(season.letters)
    season.rejected, season.withdrawn, season.refused = ids[7], ids[11], ids[13]
    season.overdue = set(ids[-3:])
    with _bar(progress, "firms request the letters", len(ids)) as tick:
        started = time.monotonic()
        _request(
            network, season, [i for i in ids if i not in season.overdue], int(time.time()) + 14 * 86400, tick
        )
        # The overdue letters must reach the chain before their due time: their window is
        # measured from how long the first requests took on this (possibly loaded) machine, and
        # from the chain's clock, which runs ahead of the wall clock when blocks come faster
        # than one a second (the in-process chain mines a block per transaction).
        window = max(OVERDUE_AFTER_S, int(4 * (time.monotonic() - started)))
        season.overdue_due_at = _chain_now(network) + window
        _request(network, season, sorted(season.overdue), season.overdue_due_at, tick)
    with _bar(progress, "auditees authorise (one signature per group)", len(ids)) as tick:
        withdrawn_firm = season.letters[season.withdrawn][1].firm
        with withdrawn_firm.sdk("auditor") as client:
            client.withdraw(season.withdrawn)
        tick(1)
        groups: dict[tuple[str, str], list[str]] = {}
        for letter_id, (_, customer) in season.letters.items():
            if letter_id in season.overdue or letter_id == season.withdrawn:
                continue
            key = (customer.firm.name, customer.signer.address)
            groups.setdefault(key, []).append(letter_id)
        refuser = season.letters[season.refused][1]
        with refuser.firm.sdk("auditor") as client:
            _sign(client, [(season.refused, refuser)], refusal=RefusalReason.WRONG_CONTENT)
        for (firm_name, _), letter_ids in groups.items():
            letter_ids = [x for x in letter_ids if x != season.refused]
            if not letter_ids:
                continue
            firm = next(f for f in firms if f.name == firm_name)
            with firm.sdk("auditor") as client:
                _sign(client, [(i, season.letters[i][1]) for i in letter_ids])
            tick(len(letter_ids))
    awaited = set(ids) - season.overdue - {season.withdrawn, season.refused, season.rejected}
    with _bar(progress, "banks check, draft and reply", len(awaited)) as tick:
        replied = 0

        def all_replied() -> bool:
            nonlocal replied
            approve_exceptions(banks)
            statuses = _firm_statuses(network, awaited)
            now_replied = sum(1 for s in statuses.values() if s in ("REPLIED", "CLOSED"))
            tick(now_replied - replied)
            replied = now_replied
            return replied == len(awaited)

        network.wait_until(all_replied, "the banks' replies", poll_s=0.5)
    with _bar(progress, "firms check the replies and close", len(awaited)) as tick:
        for letter_id in awaited:
            firm = season.letters[letter_id][1].firm
            with firm.sdk("auditor") as client:
                network.wait_until(
                    lambda: client.get_letter(letter_id).reply_verified,  # noqa: B023 -- used at once
                    f"the reply to {letter_id}",
                )
                client.close(letter_id)
            tick(1)
        network.wait_until(
            lambda: all(s in ("CLOSED",) for s in _firm_statuses(network, awaited).values()),
            "every letter closed",
            poll_s=0.5,
        )
    follow_up_overdue(network, season)
    return season


def follow_up_overdue(network: LocalNetwork, season: Season) -> None:
    """Once the auditee-bound letters are past due, their auditors follow them up (on chain)."""
    # Past due by the wall clock (which the regulator's statistics use) is past due on chain too.
    time.sleep(max(0.0, season.overdue_due_at + 1 - time.time()))
    for letter_id in sorted(season.overdue):
        with season.letters[letter_id][1].firm.sdk("auditor") as client:
            client.follow_up(letter_id)
            network.wait_until(partial(_followed_up, client, letter_id), f"the follow-up of {letter_id}")


def _followed_up(client: Client, letter_id: str) -> bool:
    return any(step.name == "LetterFollowedUp" for step in client.get_letter(letter_id).history)


# The people behind each demo bank's users, as its admin records them: replies name them so.
BANK_OFFICERS = {"preparer": ("陈晓明", "对公业务经办"), "reviewer": ("刘建国", "运营主管")}


def approve_exceptions(banks: Sequence[Gateway]) -> None:
    """The banks' officers answer the letters whose drafts wait for a person (exceptions): the
    preparer drafts the reply again (the system's draft goes out on its own only when clean),
    then the reviewer, another officer, approves it. The bank's admin has recorded who they are
    (their names and titles, which the reply states)."""
    for bank in banks:
        with bank.client("admin") as admin:
            for user, (name, title) in BANK_OFFICERS.items():
                _ok(admin.put(f"/v1/bank/officers/{user}", json={"name": name, "title": title}))
        with bank.client("preparer") as preparer, bank.client("reviewer") as reviewer:
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
    exceptions = capital_confirmed = 0
    for letter_id, (letter, customer) in season.letters.items():
        if statuses.get(letter_id) == "CLOSED":
            with customer.firm.sdk("auditor") as client:
                reply = client.get_reply(letter_id).reply
            exceptions += any(item.status == "exception" for _, item in reply.items.by_key())
            confirmed = reply.conclusion is Conclusion.CONFIRMED
            capital_confirmed += letter.format is LetterFormat.CAPITAL and confirmed
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
        pages = "" if password is None else f"{gateway.url}/web/\nuser admin\npassword {password}"
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
    base.mkdir(parents=True, exist_ok=True)
    passphrase = secrets.token_urlsafe(24)  # this run's only; never written to the repository
    network = LocalNetwork(base, members(base), passphrase=passphrase, embedded=embedded)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with (
            Progress(*columns, console=console) as progress,
            _bar(progress, "starting the network", 5) as tick,
        ):

            def step(what: str) -> None:
                tick(1)
                console.log(what)

            network.start(progress=step)
        with Progress(*columns, console=console) as progress:
            season = run_season(network, letters, progress)
            summary = summarise(network, season, started)
            summary = verify_sample(network, season, summary, base)
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
        network.stop()
