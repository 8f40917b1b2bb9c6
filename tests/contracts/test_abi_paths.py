"""The wrappers' own ABI paths (selectors and eth-abi, no web3 lookups) give what web3 gives:
the same call data, the same decoded results and the same event arguments; reads batched through
Multicall answer as single reads do."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput

from node_gateway.chain.contracts import Authorisation, LetterStatus, Role, _decode_words, read_events

if TYPE_CHECKING:
    from conftest import Deployment


def test_call_data_is_what_web3_encodes(deployment: Deployment) -> None:
    d = deployment
    c = d.confirmations
    letter = d.letter_in(LetterStatus.REQUESTED)
    signed = d.sign_authorisation([letter])
    auth = signed.message
    assert isinstance(auth, Authorisation)
    proof = signed.proof(letter)
    lid = letter.letter_id
    cases = [
        (c.request(letter_id=lid, bank=3, letter_hash=lid, due_at=99), "request", [lid, 3, lid, 99]),
        (c.authorise(lid, auth, d.auditee_ref, signed.signer, signed.signature, proof), "authorise",
         [lid, auth.as_tuple(), d.auditee_ref, signed.signer, signed.signature, proof]),
        (c.reply(lid, lid), "reply", [lid, lid]),
        (c.register_mandate(lid, d.stranger.address, 5), "registerMandate",
         [lid, bytes.fromhex(d.stranger.address[2:]), 5]),
    ]  # fmt: skip
    for call, name, args in cases:
        assert bytes(call.data) == bytes.fromhex(c.contract.encode_abi(name, args=args)[2:])
    admit = d.members.admit(account=d.stranger.address, role=Role.BANK, org_id=lid, display_name="银行",
                            endpoint="https://x", encryption_keys=b"\x01\x02")  # fmt: skip
    expected = d.members.contract.encode_abi(
        "admit", args=[d.stranger.address, 3, lid, "银行", "https://x", b"\x01\x02"]
    )
    assert bytes(admit.data) == bytes.fromhex(expected[2:])
    bundle = c.multicall([c.accept(lid), c.reply(lid, lid)])
    expected = c.contract.encode_abi(
        "multicall", args=[[bytes(c.accept(lid).data), bytes(c.reply(lid, lid).data)]]
    )
    assert bytes(bundle.data) == bytes.fromhex(expected[2:])


def test_a_bytes32_argument_of_another_length_is_refused(deployment: Deployment) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        deployment.confirmations.accept(b"\x01" * 31)


def test_reads_decode_as_web3_decodes(deployment: Deployment) -> None:
    d = deployment
    letter = d.letter_in(LetterStatus.REPLIED)
    ours = d.confirmations.get_letter(letter.letter_id)
    theirs = d.confirmations.contract.functions.getLetter(letter.letter_id).call()
    assert (ours.status, ours.firm, ours.bank, ours.due_at, ours.auditee_ref, ours.letter_hash,
            ours.reply_hash) == tuple(theirs)  # fmt: skip
    member = d.members.get_member(1)
    assert (member.role, member.status, member.account, member.org_id, member.display_name,
            member.endpoint, member.encryption_keys) == tuple(d.members.contract.functions.getMember(1).call())  # fmt: skip
    assert d.confirmations.member_registry() == d.confirmations.contract.functions.memberRegistry().call()


def test_many_reads_in_one_call_answer_as_single_reads(deployment: Deployment) -> None:
    d = deployment
    letters = [d.letter_in(status) for status in (LetterStatus.REQUESTED, LetterStatus.CLOSED)]
    unknown = os.urandom(32)
    ids = [letter.letter_id for letter in letters] + [unknown]
    assert d.confirmations.get_letters(ids) == [d.confirmations.get_letter(i) for i in ids]
    assert d.confirmations.get_letters([]) == []
    bank, other = d.bank.member_id, d.firm.member_id
    pairs = [(bank, d.auditee_ref), (bank, unknown), (other, d.auditee_ref)]
    single = [d.confirmations.mandate_valid_until(b, ref, d.signer.address) for b, ref in pairs]
    assert single[0] > 0
    assert d.confirmations.mandates_valid_until(pairs, d.signer.address) == single


def test_events_decode_as_web3_decodes(deployment: Deployment) -> None:
    d = deployment
    first = d.w3.eth.block_number
    d.letter_in(LetterStatus.CLOSED)
    d.letter_in(LetterStatus.REJECTED)
    d.letter_in(LetterStatus.REFUSED)
    d.new_member(Role.BANK)
    logs = d.w3.eth.get_logs({"fromBlock": first, "toBlock": "latest"})
    events = read_events(d.w3, [d.members, d.confirmations], first)
    assert len(events) == len(logs) > 10
    for log, event in zip(logs, events, strict=True):
        contract = d.members if event.address == d.members.address else d.confirmations
        expected = contract.contract.events[event.name]().process_log(log)
        assert event.args == dict(expected["args"])
        assert list(event.args) == list(expected["args"])
        assert (event.block_number, event.log_index) == (log["blockNumber"], log["logIndex"])
        assert event.transaction_hash == bytes(log["transactionHash"])


_STATIC = ["uint8", "uint32", "uint64", "uint256", "int64", "bytes4", "bytes32", "address", "bool"]


@settings(max_examples=300, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(_STATIC), min_size=1, max_size=6),
    words=st.lists(st.binary(min_size=32, max_size=32), min_size=6, max_size=6),
    encoded=st.booleans(),
)
def test_static_words_decode_as_eth_abi_decodes(kinds: list[str], words: list[bytes], encoded: bool) -> None:
    types = tuple(kinds)
    if encoded:  # clean values, as a contract emits them; otherwise arbitrary (mostly dirty) words
        words = [abi_encode([kind], [_value(kind, word)]) for kind, word in zip(kinds, words, strict=False)]
    data = b"".join(words[: len(kinds)])
    try:
        expected: tuple[Any, ...] | None = tuple(abi_decode(types, data, strict=True))
    except Exception:
        expected = None
    if expected is None:
        with pytest.raises(BadFunctionCallOutput):
            _decode_words(types, data)
    else:
        normal = tuple(
            Web3.to_checksum_address(v) if k == "address" else v for k, v in zip(kinds, expected, strict=True)
        )
        assert _decode_words(types, data) == normal


def _value(kind: str, word: bytes) -> object:
    """A value of ``kind`` made from the word's bytes."""
    if kind.startswith("bytes"):
        return word[: int(kind[5:])]
    if kind == "bool":
        return bool(word[0] & 1)
    if kind == "address":
        return Web3.to_checksum_address(word[12:])
    size = int(kind.removeprefix("u")[3:]) // 8
    return int.from_bytes(word[32 - size :], "big", signed=kind.startswith("int"))
