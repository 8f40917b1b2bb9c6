"""Random sequences of actions by random parties, against the contracts and the Python model.

Every example starts from the same freshly deployed network on the in-process chain (a snapshot
taken after deployment is restored). Steps: requests (fresh or reused ids), every transition by
any party, the usual next steps of a letter, authorisations and refusals (by the mandated signer
or by someone without a mandate), suspending and reinstating members, and time travel past due
dates. On every action the chain and the model agree on success or on the exact error; after
every step they agree on every letter's status and on whether it is overdue.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi.abi import decode
from eth_account import Account
from hexbytes import HexBytes
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from lifecycle_rules import (
    ACTING_ROLE,
    AWAITING_BANK,
    Actor,
    LetterFacts,
    Outcome,
    action_call,
    expected_outcome,
)

from node_gateway.chain.contracts import MemberStatus
from node_gateway.chain.errors import (
    ConfirmationSignerNotMandated,
    ContractRevert,
    MemberRegistryInvalidStatusChange,
)
from node_gateway.chain.signers import signer_id
from node_gateway.chain.transactions import Call, rpc
from node_gateway.protocol.lifecycle import Action, LetterStatus, Role, is_overdue

if TYPE_CHECKING:
    from conftest import Chain, Deployment, LetterRef, Party

HOUR = 3600
DAY = 24 * HOUR
# Due times sit half an hour off the whole hours that time travels by, so the few seconds each
# block adds never decide whether a letter is overdue.
DUE_IN = (HOUR + HOUR // 2, DAY + HOUR // 2, 3 * DAY + HOUR // 2)
TRAVEL = (HOUR, DAY, 2 * DAY)
MAX_LETTERS = 6  # per example: the rules then work on the letters there are
PARTIES = ("firm", "firm2", "bank", "bank2", "regulator", "operator", "stranger")
MEMBERS = ("firm", "firm2", "bank", "bank2", "regulator")
RELAYED = (Action.AUTHORISE,) * 3 + (Action.REFUSE,)
BANK_ACTIONS = (Action.ACCEPT, Action.REJECT, Action.REPLY)
FIRM_ACTIONS = (Action.CLOSE, Action.WITHDRAW, Action.FOLLOW_UP, Action.REQUEST)
ANY_ACTION = (*RELAYED, *BANK_ACTIONS, *FIRM_ACTIONS)
OPEN = (*AWAITING_BANK, LetterStatus.REPLIED)
STOP_AT = (
    LetterStatus.AUTHORISED,
    LetterStatus.ACCEPTED,
    LetterStatus.ACCEPTED,
    LetterStatus.REPLIED,
    LetterStatus.REPLIED,
    LetterStatus.CLOSED,
)
USUAL_NEXT = {
    LetterStatus.REQUESTED: Action.AUTHORISE,
    LetterStatus.AUTHORISED: Action.ACCEPT,
    LetterStatus.ACCEPTED: Action.REPLY,
    LetterStatus.REPLIED: Action.CLOSE,
}
# Mostly the party whose turn it is, else anyone; requests mostly by firms, to banks.
ACTING_PARTY = st.sampled_from(("rightful",) * 2 * len(PARTIES) + PARTIES)
REQUESTER = st.sampled_from(("firm", "firm2") * 6 + PARTIES)
ADDRESSEE = st.sampled_from(("bank", "bank2") * 6 + ("firm2", "regulator"))
WORLD_CHANGES: tuple[tuple[str, str | int], ...] = (
    *(("travel", seconds) for seconds in TRAVEL * 2),
    *((change, member) for change in ("suspend", "reinstate") for member in MEMBERS),
)
VIEWS = ("getLetter", "isOverdue")
LETTER_TYPE = "(uint8,uint32,uint32,uint64,bytes32,bytes32,bytes32)"


@dataclass
class ModelLetter:
    ref: LetterRef
    status: LetterStatus
    firm: int
    bank: int


class LetterLifecycle(RuleBasedStateMachine):
    """The contracts and the model side by side; ``letters`` holds every id tried, existing or not."""

    letters = Bundle("letters")

    def __init__(self, deployment: Deployment) -> None:
        super().__init__()
        self.d = deployment
        self.model: dict[bytes, ModelLetter] = {}
        self.member_status = {self.d.parties[name].member_id: MemberStatus.ACTIVE for name in MEMBERS}
        self.member_status[self.d.operator.member_id] = MemberStatus.ACTIVE

    # --- helpers ---------------------------------------------------------------------------

    def actor(self, party: Party) -> Actor:
        status = self.member_status.get(party.member_id, MemberStatus.NONE)
        return Actor(party.address, party.member_id, party.role, status)

    def rightful(self, letter: LetterRef, action: Action) -> Party:
        role = ACTING_ROLE[action]
        member_id = {Role.AUDIT_FIRM: letter.firm, Role.BANK: letter.bank}.get(role) if role else None
        candidates = [p for p in self.d.parties.values() if p.member_id == member_id]
        return candidates[0] if candidates else self.d.stranger

    def facts(self, letter: LetterRef) -> LetterFacts:
        known = self.model.get(letter.letter_id)
        if known is None:
            return LetterFacts(letter.letter_id, LetterStatus.NONE, 0, 0)
        return LetterFacts(letter.letter_id, known.status, known.firm, known.bank)

    def perform(self, party: Party, call: Call, expected: Outcome) -> None:
        """Checks the outcome of ``call`` against the model's; a call that succeeds is then sent.

        The outcome is learnt with eth_call (a reverted transaction would change nothing either,
        at thrice the cost on the in-process chain).
        """
        reverted: ContractRevert | None = None
        try:
            self.d.eth_call(party, call)
        except ContractRevert as exc:
            reverted = exc
        got = "success" if reverted is None else str(reverted)
        assert (reverted is None) == expected.ok, f"{call.label} by {party.name}: {got}, model: {expected}"
        if reverted is not None:
            assert (type(reverted), reverted.values) == (expected.error, expected.values), (
                f"{got}, model: {expected}"
            )
            return
        self.d.send(party, call)

    # --- rules -----------------------------------------------------------------------------

    @initialize(target=letters)
    def first_request(self) -> LetterRef:
        return self._request("firm", "bank", DUE_IN[0])

    @precondition(lambda self: len(self.model) < MAX_LETTERS)
    @rule(target=letters, party=REQUESTER, bank=ADDRESSEE, due_in=st.sampled_from(DUE_IN))
    def request(self, party: str, bank: str, due_in: int) -> LetterRef:
        return self._request(party, bank, due_in)

    def _request(self, party: str, bank: str, due_in: int) -> LetterRef:
        requester, addressee = self.d.parties[party], self.d.parties[bank]
        letter = self.d.plan_letter(firm=requester, bank=addressee, due_in=due_in)
        expected = expected_outcome(
            Action.REQUEST, self.actor(requester), self.facts(letter), request_bank=self.actor(addressee)
        )
        self.perform(requester, self.d.request_call(letter), expected)
        if expected.ok:
            self.model[letter.letter_id] = ModelLetter(
                letter, LetterStatus.REQUESTED, letter.firm, letter.bank
            )
        return letter

    def act(self, letter: LetterRef, party: str, action: Action) -> None:
        """``action`` on ``letter`` by ``party`` ("rightful": the party whose turn it is)."""
        ref = self.model[letter.letter_id].ref if letter.letter_id in self.model else letter
        actor = self.rightful(ref, action) if party == "rightful" else self.d.parties[party]
        if action == Action.REQUEST:  # the same letter id once more, to the bank
            ref = dataclasses.replace(
                self.d.plan_letter(firm=actor, bank=self.d.bank), letter_id=letter.letter_id
            )
        expected = expected_outcome(
            action, self.actor(actor), self.facts(letter), request_bank=self.actor(self.d.bank)
        )
        call, _ = action_call(self.d, action, ref)
        self.perform(actor, call, expected)
        if action == Action.REQUEST and expected.ok:
            self.model[letter.letter_id] = ModelLetter(ref, LetterStatus.REQUESTED, ref.firm, ref.bank)
            return
        if expected.ok:
            assert expected.status is not None
            self.model[letter.letter_id].status = expected.status

    @rule(letter=letters, until=st.sampled_from(STOP_AT))
    def usual_steps(self, letter: LetterRef, until: LetterStatus) -> None:
        """The usual next steps of the letter until it is ``until``, each by the party whose turn it is."""
        for _ in range(len(USUAL_NEXT)):
            known = self.model.get(letter.letter_id)
            if known is None or known.status >= until or known.status not in USUAL_NEXT:
                return
            before = known.status
            self.act(letter, "rightful", USUAL_NEXT[before])
            if known.status == before:  # refused, e.g. because the party is suspended
                return

    @precondition(lambda self: any(letter.status in OPEN for letter in self.model.values()))
    @rule(data=st.data(), party=ACTING_PARTY, action=st.sampled_from(ANY_ACTION))
    def act_on_open_letter(self, data: st.DataObject, party: str, action: Action) -> None:
        """Any action by anyone on a letter that is not yet in a final state."""
        open_letters = [letter.ref for letter in self.model.values() if letter.status in OPEN]
        self.act(data.draw(st.sampled_from(open_letters), label="letter"), party, action)

    @rule(letter=letters, party=ACTING_PARTY, action=st.sampled_from(BANK_ACTIONS))
    def bank_action(self, letter: LetterRef, party: str, action: Action) -> None:
        self.act(letter, party, action)

    @rule(letter=letters, party=ACTING_PARTY, action=st.sampled_from(FIRM_ACTIONS))
    def firm_action(self, letter: LetterRef, party: str, action: Action) -> None:
        self.act(letter, party, action)

    @rule(letter=letters, party=ACTING_PARTY, action=st.sampled_from(RELAYED), mandated=st.booleans())
    def relay_auditee_signature(self, letter: LetterRef, party: str, action: Action, mandated: bool) -> None:
        """An authorisation or refusal, signed by the mandated signer or by someone without a mandate."""
        if mandated:
            self.act(letter, party, action)
            return
        ref = self.model[letter.letter_id].ref if letter.letter_id in self.model else letter
        relayer = self.d.stranger if party == "rightful" else self.d.parties[party]
        impostor = Account.create()
        expected = expected_outcome(action, self.actor(relayer), self.facts(letter))
        if expected.ok:
            expected = Outcome(
                error=ConfirmationSignerNotMandated, values=(ref.letter_id, signer_id(impostor.address))
            )
        if action == Action.REFUSE:
            call = self.d.refuse_call(ref, self.d.sign_refusal([ref], signer=impostor))
        else:
            call = self.d.authorise_call(ref, self.d.sign_authorisation([ref], signer=impostor))
        self.perform(relayer, call, expected)

    @rule(change=st.sampled_from(WORLD_CHANGES))
    def change_the_world(self, change: tuple[str, str | int]) -> None:
        """Time passes, or the operator suspends or reinstates a member."""
        kind, what = change
        if kind == "travel":
            assert isinstance(what, int)
            self.d.advance(what)
            return
        assert isinstance(what, str)
        party = self.d.parties[what]
        current = self.member_status[party.member_id]
        suspend = kind == "suspend"
        start, target = (
            (MemberStatus.ACTIVE, MemberStatus.SUSPENDED)
            if suspend
            else (MemberStatus.SUSPENDED, MemberStatus.ACTIVE)
        )
        if current == start:
            expected = Outcome()
        else:
            expected = Outcome(
                error=MemberRegistryInvalidStatusChange, values=(party.member_id, int(current), int(target))
            )
        members = self.d.members
        call = members.suspend(party.member_id) if suspend else members.reinstate(party.member_id)
        self.perform(self.d.operator, call, expected)
        if expected.ok:
            self.member_status[party.member_id] = target

    # --- what must always hold -------------------------------------------------------------

    @invariant()
    def chain_agrees_with_the_model(self) -> None:
        if not self.model:
            return
        ids = list(self.model)
        c = self.d.confirmations
        reads = [
            Call(c.address, HexBytes(c.contract.encode_abi(fn, args=[i])), fn) for fn in VIEWS for i in ids
        ]
        batch = c.multicall(reads)
        now = self.d.now()
        (results,) = decode(
            ["bytes[]"], rpc(lambda: self.d.w3.eth.call({"to": c.address, "data": batch.data}))
        )
        for letter_id, raw in zip(ids, results[: len(ids)], strict=True):
            (stored,) = decode([LETTER_TYPE], raw)
            model = self.model[letter_id]
            assert (LetterStatus(stored[0]), stored[1], stored[2]) == (model.status, model.firm, model.bank)
            assert stored[3] == model.ref.due_at
        for letter_id, raw in zip(ids, results[len(ids) :], strict=True):
            (overdue,) = decode(["bool"], raw)
            model = self.model[letter_id]
            assert overdue == is_overdue(model.status, model.ref.due_at, now), LetterStatus(model.status).name


STATE_MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    # No shrinking: it replays hundreds of examples and runs into Hypothesis's five-minute
    # limit. A failure prints its whole (at most 30-step) sequence, which reads well.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_random_action_sequences_agree_with_the_model(in_process: Chain) -> None:
    deployment = in_process.deploy()
    deployed = [in_process.snapshot()]

    class FromDeployment(LetterLifecycle):
        def __init__(self) -> None:
            # Every example starts from the freshly deployed network: no letters, all Active.
            in_process.revert(deployed[0])
            deployed[0] = in_process.snapshot()  # a snapshot serves once (on anvil)
            super().__init__(deployment)

    in_own_thread(lambda: run_state_machine_as_test(FromDeployment, settings=STATE_MACHINE_SETTINGS))


def in_own_thread(run: Callable[[], None]) -> None:
    """Runs ``run`` in a thread of its own and re-raises whatever it raised.

    Under pytest and Hypothesis, py-evm's interpreter loop runs so deep that on CPython 3.11 the
    frame stack keeps crossing one of its 16 KiB chunks, mapping and unmapping memory millions of
    times (the test ran three to four times slower). A new thread starts with a shallow stack.
    """
    failures: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)

    thread = threading.Thread(target=target, name="state-machine")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
