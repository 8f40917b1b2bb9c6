"""Shared fixtures: a deployed confirmnet network on the in-process chain or on a real anvil.

``deployment`` is parametrised over both backends, so a test that takes it runs on eth-tester
(py-evm, in this process) and on an anvil process (marker ``anvil``; ``-m "not anvil"`` leaves
it out). A ``Deployment`` gives the parties (operator, two audit firms, two banks, a regulator,
an account that is no member's), a signer mandated by both banks for one auditee, helpers that
put a fresh letter into any state, and time travel.

Deployments are shared by a whole session, so tests use fresh random letter ids, and tests that
suspend, revoke or rotate a member admit a fresh one with ``new_member`` first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from typer.testing import CliRunner
from web3 import Web3
from web3.types import TxParams, TxReceipt

from node_gateway.chain.authorisation import (
    LetterLeaf,
    RequestsTree,
    authorisation_typed_data,
    refusal_typed_data,
    sign_typed_data,
    typed_data_digest,
)
from node_gateway.chain.contracts import (
    Authorisation,
    ChainEvent,
    ConfirmationRegistry,
    LetterStatus,
    MemberRegistry,
    Refusal,
    Role,
)
from node_gateway.chain.errors import ContractRevert
from node_gateway.chain.network import (
    DEFAULT_GOVERNANCE_DELAY,
    Network,
    connect,
    deploy_network,
    fund_from_node,
    in_process_chain,
)
from node_gateway.chain.signers import account_signer
from node_gateway.chain.transactions import Call, TransactionSender, rpc

HOUR = 3600
DAY = 24 * HOUR
YEAR = 365 * DAY
SEND_GAS = 3_000_000

Backend = Literal["in_process", "anvil"]
BACKENDS = ["in_process", pytest.param("anvil", marks=pytest.mark.anvil)]

PARTY_ROLES: dict[str, Role] = {
    "operator": Role.OPERATOR,
    "firm": Role.AUDIT_FIRM,
    "firm2": Role.AUDIT_FIRM,
    "bank": Role.BANK,
    "bank2": Role.BANK,
    "regulator": Role.REGULATOR,
    "stranger": Role.NONE,  # an account that is no member's
}


def random_bytes32() -> bytes:
    return os.urandom(32)


class Chain:
    """One node (in-process or anvil): accounts that can send, and the chain's clock."""

    def __init__(self, w3: Web3, backend: Backend) -> None:
        self.w3 = w3
        self.backend: Backend = backend
        self.chain_id = w3.eth.chain_id
        self._party_senders: dict[str, TransactionSender] | None = None
        self._senders: list[TransactionSender] = []

    def new_senders(self, count: int) -> list[TransactionSender]:
        """Fresh accounts ready to send: funded on the in-process chain, zero-fee on anvil."""
        accounts: list[LocalAccount] = [Account.create() for _ in range(count)]
        if self.backend == "in_process":
            fund_from_node(self.w3, [account.address for account in accounts])
        senders = [TransactionSender(self.w3, account) for account in accounts]
        self._senders += senders
        return senders

    def party_senders(self) -> dict[str, TransactionSender]:
        """The accounts of the standard parties, the same for every deployment on this chain."""
        if self._party_senders is None:
            self._party_senders = dict(zip(PARTY_ROLES, self.new_senders(len(PARTY_ROLES)), strict=True))
        return self._party_senders

    def deploy(self, *, governance_delay: int = DEFAULT_GOVERNANCE_DELAY) -> Deployment:
        """A fresh network with the standard parties (the same accounts every time)."""
        return Deployment.create(self, governance_delay=governance_delay)

    def now(self) -> int:
        """The timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        """Moves the chain's clock forward by ``seconds`` and mines a block at the new time."""
        if self.backend == "in_process":
            self._tester.time_travel(self.now() + seconds)
            self._tester.mine_blocks()
        else:
            self._rpc("evm_increaseTime", [seconds])
            self._rpc("evm_mine", [])

    def snapshot(self) -> object:
        """A handle to the chain's current state, for one :meth:`revert` (anvil drops it then)."""
        if self.backend == "in_process":
            return self._tester.take_snapshot()
        return self._rpc("evm_snapshot", [])

    def revert(self, snapshot: object) -> None:
        """Returns the chain to ``snapshot`` (clock included); senders recount their nonces."""
        if self.backend == "in_process":
            self._tester.revert_to_snapshot(snapshot)
        else:
            assert self._rpc("evm_revert", [snapshot]) is True
        for sender in self._senders:
            sender.nonces.resync()
            sender._gas_price = None  # the sender caches it; the base fee is the snapshot's again

    @property
    def _tester(self) -> Any:
        return getattr(self.w3.provider, "ethereum_tester")  # noqa: B009

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method} failed: {response['error']}")
        return response["result"]


@dataclass(frozen=True)
class Party:
    """One of the standard parties: its sender and, unless it is the stranger, its membership."""

    name: str
    sender: TransactionSender
    member_id: int  # 0 for an account that is no member's
    role: Role

    @property
    def address(self) -> ChecksumAddress:
        return self.sender.address


@dataclass(frozen=True)
class LetterRef:
    """What the firm knows about a letter it requested (or is about to request), and the auditee
    reference it relays with the letter's authorisation or refusal."""

    letter_id: bytes
    firm: int
    bank: int
    auditee_ref: bytes
    letter_hash: bytes
    due_at: int

    @property
    def leaf(self) -> LetterLeaf:
        return LetterLeaf(self.letter_id, self.letter_hash, self.bank)


class AuditeeKey(Protocol):
    """An auditee signer other than an ordinary key (tests/signer_kinds.py): its ERC-7913
    bytes and how it signs an EIP-712 digest."""

    @property
    def signer(self) -> bytes: ...

    def sign_digest(self, digest: bytes) -> bytes: ...


def _signed_by(signer: LocalAccount | AuditeeKey, typed: dict[str, Any]) -> tuple[bytes, bytes]:
    """The ERC-7913 signer and its signature over an EIP-712 document."""
    if isinstance(signer, LocalAccount):
        return account_signer(signer.address), sign_typed_data(signer, typed)
    return signer.signer, signer.sign_digest(typed_data_digest(typed))


@dataclass(frozen=True)
class Signed:
    """An authorisation or refusal, its signer (ERC-7913), its signature, and the requests tree."""

    message: Authorisation | Refusal
    signature: bytes
    tree: RequestsTree
    signer: bytes

    def proof(self, letter: LetterRef) -> list[bytes]:
        return self.tree.proof(letter.letter_id)


@dataclass
class Deployment:
    """A freshly deployed network with its standard parties admitted and a mandate registered."""

    chain: Chain
    network: Network
    operator: Party
    firm: Party
    firm2: Party
    bank: Party
    bank2: Party
    regulator: Party
    stranger: Party
    signer: LocalAccount  # mandated by bank and bank2 for `auditee_ref`
    auditee_ref: bytes
    extra_members: list[Party] = field(default_factory=list)

    @classmethod
    def create(cls, chain: Chain, *, governance_delay: int = DEFAULT_GOVERNANCE_DELAY) -> Deployment:
        senders = chain.party_senders()
        operator_sender = senders["operator"]
        network = deploy_network(
            operator_sender,
            operator_org_id=random_bytes32(),
            operator_name="Consortium operator",
            governance_delay=governance_delay,
        )
        parties = {"operator": Party("operator", operator_sender, 1, Role.OPERATOR)}
        for name, role in PARTY_ROLES.items():
            if name == "operator":
                continue
            member_id = 0
            if role != Role.NONE:
                receipt = operator_sender.send(
                    gas=SEND_GAS,
                    call=network.members.admit(
                        account=senders[name].address,
                        role=role,
                        org_id=random_bytes32(),
                        display_name=name,
                        endpoint=f"https://{name}.example",
                    ),
                )
                member_id = _admitted_id(network.members, receipt)
            parties[name] = Party(name, senders[name], member_id, role)
        deployment = cls(
            chain=chain,
            network=network,
            operator=parties["operator"],
            firm=parties["firm"],
            firm2=parties["firm2"],
            bank=parties["bank"],
            bank2=parties["bank2"],
            regulator=parties["regulator"],
            stranger=parties["stranger"],
            signer=Account.create(),
            auditee_ref=random_bytes32(),
        )
        for bank in (deployment.bank, deployment.bank2):
            deployment.register_mandate(bank, deployment.auditee_ref, deployment.signer.address)
        return deployment

    # --- the chain -----------------------------------------------------------------------

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def members(self) -> MemberRegistry:
        return self.network.members

    @property
    def confirmations(self) -> ConfirmationRegistry:
        return self.network.confirmations

    @property
    def parties(self) -> dict[str, Party]:
        return {
            party.name: party
            for party in (
                self.operator,
                self.firm,
                self.firm2,
                self.bank,
                self.bank2,
                self.regulator,
                self.stranger,
            )
        }

    def now(self) -> int:
        return self.chain.now()

    def advance(self, seconds: int) -> None:
        self.chain.advance(seconds)

    def send(self, party: Party, call: Call) -> TxReceipt:
        """Sends ``call`` from ``party`` and waits for it; a revert raises its decoded error.

        The gas limit is fixed, skipping the estimate (which triples the cost in-process).
        """
        return party.sender.send(call, gas=SEND_GAS)

    def events(self, receipt: TxReceipt) -> list[ChainEvent]:
        """The events of both contracts in a receipt, in order."""
        logs = [self.members.decode_log(log) or self.confirmations.decode_log(log) for log in receipt["logs"]]
        return [event for event in logs if event is not None]

    def single_event(self, receipt: TxReceipt, name: str) -> dict[str, Any]:
        """The arguments of the one event of a receipt, which must be ``name``."""
        events = self.events(receipt)
        assert [event.name for event in events] == [name]
        return dict(events[0].args)

    def eth_call(self, party: Party, call: Call) -> bytes:
        """Runs ``call`` as ``party`` without a transaction; a revert raises its decoded error."""
        assert call.to is not None
        params: TxParams = {"from": party.address, "to": call.to, "data": call.data}
        return bytes(rpc(lambda: self.w3.eth.call(params)))

    def assert_reverts(
        self, party: Party, call: Call, error: type[ContractRevert], *values: object
    ) -> ContractRevert:
        """Checks that ``call`` from ``party`` reverts with exactly ``error(*values)``.

        Runs the call with eth_call (nothing is mined; a quarter of the cost of estimating gas
        on the in-process chain); ``sender.estimate_gas`` and ``sender.send`` decode reverts the
        same way, and some tests check those paths directly.
        """
        with pytest.raises(ContractRevert) as caught:
            self.eth_call(party, call)
        assert type(caught.value) is error, f"{caught.value!s} instead of {error.__name__}"
        assert caught.value.values == normalise(values), str(caught.value)
        return caught.value

    # --- members -------------------------------------------------------------------------

    def new_member(self, role: Role, name: str = "member") -> Party:
        """Admits a member with a fresh account, for tests that change members' status."""
        (sender,) = self.chain.new_senders(1)
        receipt = self.send(
            self.operator,
            self.members.admit(account=sender.address, role=role, org_id=random_bytes32(), display_name=name),
        )
        party = Party(name, sender, _admitted_id(self.members, receipt), role)
        self.extra_members.append(party)
        return party

    def register_mandate(
        self, bank: Party, auditee_ref: bytes, signer: str | bytes, valid_for: int = 10 * YEAR
    ) -> TxReceipt:
        return self.send(
            bank, self.confirmations.register_mandate(auditee_ref, signer, self.now() + valid_for)
        )

    # --- letters -------------------------------------------------------------------------

    def plan_letter(
        self,
        *,
        firm: Party | None = None,
        bank: Party | None = None,
        auditee_ref: bytes | None = None,
        due_in: int = 30 * DAY,
    ) -> LetterRef:
        """A letter with a fresh id, not yet requested."""
        return LetterRef(
            letter_id=random_bytes32(),
            firm=(firm or self.firm).member_id,
            bank=(bank or self.bank).member_id,
            auditee_ref=auditee_ref or self.auditee_ref,
            letter_hash=random_bytes32(),
            due_at=self.now() + due_in,
        )

    def request_call(self, letter: LetterRef) -> Call:
        return self.confirmations.request(
            letter_id=letter.letter_id,
            bank=letter.bank,
            letter_hash=letter.letter_hash,
            due_at=letter.due_at,
        )

    def firm_party(self, letter: LetterRef) -> Party:
        return next(p for p in (self.firm, self.firm2, *self.extra_members) if p.member_id == letter.firm)

    def bank_party(self, letter: LetterRef) -> Party:
        return next(p for p in (self.bank, self.bank2, *self.extra_members) if p.member_id == letter.bank)

    def request(
        self,
        *,
        firm: Party | None = None,
        bank: Party | None = None,
        auditee_ref: bytes | None = None,
        due_in: int = 30 * DAY,
    ) -> LetterRef:
        """Requests a fresh letter (by default from `firm` to `bank` for the mandated auditee)."""
        letter = self.plan_letter(firm=firm, bank=bank, auditee_ref=auditee_ref, due_in=due_in)
        self.send(self.firm_party(letter), self.request_call(letter))
        return letter

    def sign_authorisation(
        self,
        letters: Sequence[LetterRef],
        *,
        signer: LocalAccount | AuditeeKey | None = None,
        firm: int | None = None,
        valid_for: int = DAY,
        nonce: int | None = None,
        chain_id: int | None = None,
        registry: str | None = None,
    ) -> Signed:
        """The auditee's signed authorisation of ``letters`` (one signature over their tree)."""
        tree = RequestsTree([letter.leaf for letter in letters])
        auth = Authorisation(
            requests_root=tree.root,
            firm=letters[0].firm if firm is None else firm,
            valid_until=self.now() + valid_for,
            nonce=int.from_bytes(os.urandom(8)) if nonce is None else nonce,
        )
        typed = authorisation_typed_data(
            auth, chain_id=chain_id or self.chain.chain_id, registry=registry or self.confirmations.address
        )
        signer_bytes, signature = _signed_by(signer or self.signer, typed)
        return Signed(auth, signature, tree, signer_bytes)

    def sign_refusal(
        self,
        letters: Sequence[LetterRef],
        *,
        reason: int = 1,
        signer: LocalAccount | AuditeeKey | None = None,
        firm: int | None = None,
        valid_for: int = DAY,
    ) -> Signed:
        """The auditee's signed refusal of ``letters``."""
        tree = RequestsTree([letter.leaf for letter in letters])
        refusal = Refusal(
            requests_root=tree.root,
            firm=letters[0].firm if firm is None else firm,
            reason=reason,
            valid_until=self.now() + valid_for,
            nonce=int.from_bytes(os.urandom(8)),
        )
        typed = refusal_typed_data(refusal, chain_id=self.chain.chain_id, registry=self.confirmations.address)
        signer_bytes, signature = _signed_by(signer or self.signer, typed)
        return Signed(refusal, signature, tree, signer_bytes)

    def authorise_call(self, letter: LetterRef, signed: Signed | None = None) -> Call:
        signed = signed or self.sign_authorisation([letter])
        assert isinstance(signed.message, Authorisation)
        return self.confirmations.authorise(
            letter.letter_id,
            signed.message,
            letter.auditee_ref,
            signed.signer,
            signed.signature,
            signed.proof(letter),
        )

    def refuse_call(self, letter: LetterRef, signed: Signed | None = None) -> Call:
        signed = signed or self.sign_refusal([letter])
        assert isinstance(signed.message, Refusal)
        return self.confirmations.refuse_authorisation(
            letter.letter_id,
            signed.message,
            letter.auditee_ref,
            signed.signer,
            signed.signature,
            signed.proof(letter),
        )

    def letter_in(
        self,
        status: LetterStatus,
        *,
        firm: Party | None = None,
        bank: Party | None = None,
        due_in: int = 30 * DAY,
    ) -> LetterRef:
        """A fresh letter brought into ``status`` by its rightful parties (NONE: not requested)."""
        if status == LetterStatus.NONE:
            return self.plan_letter(firm=firm, bank=bank, due_in=due_in)
        letter = self.request(firm=firm, bank=bank, due_in=due_in)
        firm_party, bank_party = self.firm_party(letter), self.bank_party(letter)
        lid = letter.letter_id
        c = self.confirmations
        for step in _PATHS[status]:
            if step == "authorise":
                self.send(firm_party, self.authorise_call(letter))
            elif step == "refuse":
                self.send(self.stranger, self.refuse_call(letter))
            elif step == "accept":
                self.send(bank_party, c.accept(lid))
            elif step == "reject":
                self.send(bank_party, c.reject(lid, 7))
            elif step == "reply":
                self.send(bank_party, c.reply(lid, random_bytes32()))
            else:
                self.send(firm_party, c.close(lid) if step == "close" else c.withdraw(lid))
        assert self.status(letter) == status
        return letter

    def status(self, letter: LetterRef) -> LetterStatus:
        return self.confirmations.get_letter(letter.letter_id).status


# The steps after the request that bring a letter into each state.
_PATHS: dict[LetterStatus, tuple[str, ...]] = {
    LetterStatus.REQUESTED: (),
    LetterStatus.AUTHORISED: ("authorise",),
    LetterStatus.ACCEPTED: ("authorise", "accept"),
    LetterStatus.REJECTED: ("authorise", "reject"),
    LetterStatus.REPLIED: ("authorise", "accept", "reply"),
    LetterStatus.CLOSED: ("authorise", "accept", "reply", "close"),
    LetterStatus.WITHDRAWN: ("withdraw",),
    LetterStatus.REFUSED: ("refuse",),
}


def normalise(values: Sequence[object]) -> tuple[object, ...]:
    """Error arguments as decoded from revert data: addresses lower case, enums as ints."""
    return tuple(
        value.lower() if isinstance(value, str) and Web3.is_address(value) else value for value in values
    )


def _admitted_id(members: MemberRegistry, receipt: TxReceipt) -> int:
    (event,) = [event for event in members.events_in(receipt) if event.name == "MemberAdmitted"]
    return int(event.args["memberId"])


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def anvil_rpc_url() -> Iterator[str]:
    """A real anvil process for the session (zero base fee, so accounts need no funding)."""
    try:
        from node_gateway.chain.devnet import ANVIL, AnvilNode
    except ImportError:
        pytest.skip("node_gateway.chain.devnet.AnvilNode is not available")
    if not ANVIL.exists():
        pytest.skip(f"anvil is not installed ({ANVIL}); run `make setup`")
    with AnvilNode() as node:
        yield node.rpc_url


@pytest.fixture(scope="session", params=BACKENDS)
def chain(request: pytest.FixtureRequest) -> Chain:
    """A chain of each backend, shared by the session."""
    if request.param == "anvil":
        return Chain(connect(request.getfixturevalue("anvil_rpc_url")), "anvil")
    return Chain(in_process_chain(), "in_process")


@pytest.fixture(scope="session")
def in_process() -> Chain:
    """An in-process chain only, for tests too many-stepped to repeat on anvil."""
    return Chain(in_process_chain(), "in_process")


@pytest.fixture(scope="session")
def deployment(chain: Chain) -> Deployment:
    """A network deployed once per backend and shared by the session."""
    return Deployment.create(chain)


def init_bank_gateway(runner: CliRunner, base: Path) -> Path:
    """`confirmnet gateway init` of a bank in ``base``/data (CONFIRMNET_PASSPHRASE set by the
    caller); the configuration file's path."""
    from confirmnet.cli import app

    init = runner.invoke(
        app,
        [
            "gateway",
            "init",
            "--role",
            "bank",
            "--name",
            "东海银行",
            "--registration-code",
            "91310000MA1FL0000X",
            "--data-dir",
            str(base / "data"),
            "--network-file",
            str(base / "network.json"),
        ],
    )
    assert init.exit_code == 0, init.output
    return base / "data" / "gateway.toml"


# --- the order of the files and the workers' shares -----------------------------------------


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by their shared fixtures
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files holding a test marked ``slow`` first, each file's tests in their order: workers
    taking whole files in this order (``make test``: ``--no-loadscope-reorder`` keeps it, where
    xdist would put the files with the most tests first) start the long ones early and end on
    short ones, not the reverse."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow_files)


# Directories whose test files share one network (a package-scoped fixture of their conftest.py):
# one worker takes all their files, one after another, so that the network starts once.
ONE_WORKER_DIRECTORIES = ("tests/web/season/", "tests/web/core_bank/")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``--dist loadfile`` (``make test``) each worker takes whole files, and the files of one
    of ``ONE_WORKER_DIRECTORIES`` together. (xdist's ``loadgroup``, made for such groups, finds
    none under pytest 9: the "@group" it appends to a test's id no longer shows in the id.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]  # xdist ships no types

    class FileScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return next((folder for folder in ONE_WORKER_DIRECTORIES if path.startswith(folder)), path)

    return FileScheduling(config, log)
