"""A real network on anvil with letters taken through their lifecycle by the contracts directly,
and the evidence package a firm's gateway would export for them (built here from the chain).

Shared by the module that verifies packages: one anvil, one deployment, letters in several
endings (closed, replied, accepted, refused), all under one batch authorisation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from signer_kinds import MultisigKey
from web3 import Web3

from auditor_client.evidence import (
    EvidenceAuthorisation,
    EvidenceLetter,
    EvidenceNetwork,
    EvidencePackage,
    EvidenceStep,
    Exporter,
)
from node_gateway.chain.authorisation import (
    LetterLeaf,
    RequestsTree,
    authorisation_typed_data,
    refusal_typed_data,
    sign_typed_data,
    typed_data_digest,
)
from node_gateway.chain.contracts import Authorisation, Refusal, Role
from node_gateway.chain.devnet import AnvilNode
from node_gateway.chain.network import (
    EndpointPolicy,
    Network,
    NetworkFile,
    connect,
    deploy_network,
    fund_from_node,
)
from node_gateway.chain.signers import signer_text
from node_gateway.chain.transactions import TransactionSender
from node_gateway.protocol.documents import (
    Auditee,
    AuditFirm,
    Bank,
    ConfirmationLetter,
    ConfirmationReply,
    uscc,
)
from node_gateway.protocol.hashing import (
    Salt,
    auditee_reference,
    canonical_bytes,
    document_hash,
    new_salt,
    organisation_id,
    to_hex,
)
from node_gateway.protocol.samples import sample_letter, sample_reply

YEAR = 365 * 86400
FIRM_NAME = "明鉴会计师事务所"
BANK_NAME = "东海银行"


@dataclass
class Party:
    account: LocalAccount
    sender: TransactionSender
    member_id: int


@dataclass
class Letters:
    """Letters on chain, their documents and salts, and a package of all of them."""

    w3: Web3
    network: Network
    network_file: NetworkFile
    firm: Party
    bank: Party
    signer: LocalAccount
    auditee_code: str
    auditee_salt: Salt
    package: EvidencePackage


def _party(
    w3: Web3, operator: TransactionSender, network: Network, role: Role, code: str, name: str
) -> Party:
    account: LocalAccount = Account.create()
    fund_from_node(w3, [account.address])
    operator.send(
        network.members.admit(
            account=account.address, role=role, org_id=organisation_id(code), display_name=name
        )
    )
    return Party(account, TransactionSender(w3, account), network.members.member_id_of(account.address))


def _text(document: ConfirmationLetter | ConfirmationReply) -> str:
    """A document as a package carries it: its canonical bytes, as hashed."""
    return canonical_bytes(document).decode("utf-8")


def as_version_1(package: EvidencePackage) -> dict[str, Any]:
    """The package as version 1 of the format held it: each document a JSON object."""
    raw: dict[str, Any] = json.loads(package.model_dump_json())
    raw["version"] = 1
    for entry in raw["letters"]:
        for kind in ("letter", "reply"):
            if entry[kind] is not None:
                entry[kind] = json.loads(entry[kind])
    return raw


def build_letters(w3: Web3, rpc_url: str, count: int) -> Letters:
    operator_account: LocalAccount = Account.create()
    fund_from_node(w3, [operator_account.address])
    operator = TransactionSender(w3, operator_account)
    network = deploy_network(
        operator, operator_org_id=organisation_id(uscc("51100000500000074")), operator_name="运营方"
    )
    firm = _party(w3, operator, network, Role.AUDIT_FIRM, uscc("91310000MA1FL0TE5"), FIRM_NAME)
    bank = _party(w3, operator, network, Role.BANK, uscc("91310000132206210"), BANK_NAME)
    confirmations = network.confirmations
    signer: LocalAccount = Account.create()
    code, auditee_salt = uscc("91310115MA1H7Q3K2"), new_salt()
    auditee_ref = auditee_reference(code, auditee_salt)
    now = int(w3.eth.get_block("latest")["timestamp"])
    bank.sender.send(confirmations.register_mandate(auditee_ref, signer.address, now + YEAR))

    letters = [
        sample_letter(
            audit_firm=AuditFirm(member_no=firm.member_id, name=FIRM_NAME),
            bank=Bank(member_no=bank.member_id, name=BANK_NAME),
            auditee=Auditee(name="上海江南精密机械股份有限公司", registration_code=code),
        )
        for _ in range(count)
    ]
    salts = [new_salt() for _ in letters]
    hashes = [document_hash(x, s) for x, s in zip(letters, salts, strict=True)]
    ids = [bytes.fromhex(x.letter_id[2:]) for x in letters]
    for start in range(0, count, 50):
        firm.sender.send(
            confirmations.multicall(
                confirmations.request(
                    letter_id=i,
                    bank=bank.member_id,
                    letter_hash=h,
                    due_at=now + YEAR,
                )
                for i, h in zip(ids[start : start + 50], hashes[start : start + 50], strict=True)
            )
        )
    # All but the last letter under one batch authorisation; the auditee refuses the last.
    authorised = ids[:-1]
    tree = RequestsTree([LetterLeaf(i, h, bank.member_id) for i, h in zip(authorised, hashes, strict=False)])
    auth = Authorisation(tree.root, firm.member_id, now + 180 * 86400, int.from_bytes(os.urandom(16), "big"))
    chain_id, registry = w3.eth.chain_id, confirmations.address
    signature = sign_typed_data(signer, authorisation_typed_data(auth, chain_id=chain_id, registry=registry))
    for start in range(0, len(authorised), 50):
        firm.sender.send(
            confirmations.multicall(
                confirmations.authorise(i, auth, auditee_ref, signer.address, signature, tree.proof(i))
                for i in authorised[start : start + 50]
            )
        )
    # The refusal comes from the company's 2-of-3 multisig (ERC-1271), also on the bank's mandate:
    # the verifier checks its signature through the registry's isValidAuditeeSignature.
    multisig = MultisigKey.deploy(operator)
    bank.sender.send(confirmations.register_mandate(auditee_ref, multisig.signer, now + YEAR))
    refused_tree = RequestsTree([LetterLeaf(ids[-1], hashes[-1], bank.member_id)])
    refusal = Refusal(refused_tree.root, firm.member_id, 2, now + 86400, 7)
    refusal_signature = multisig.sign_digest(
        typed_data_digest(refusal_typed_data(refusal, chain_id=chain_id, registry=registry))
    )
    firm.sender.send(
        confirmations.refuse_authorisation(
            ids[-1], refusal, auditee_ref, multisig.signer, refusal_signature, []
        )
    )

    # The bank accepts all authorised letters and replies to all but one; the firm closes the first.
    replies: dict[bytes, tuple[ConfirmationReply, Salt]] = {}
    for start in range(0, len(authorised), 50):
        chunk = authorised[start : start + 50]
        bank.sender.send(confirmations.multicall(confirmations.accept(i) for i in chunk))
    for letter, letter_id, letter_hash in zip(letters[:-2], ids[:-2], hashes, strict=False):
        replies[letter_id] = (
            sample_reply(letter, letter_hash=letter_hash, with_exception=letter_id == ids[1]),
            new_salt(),
        )
    replied = list(replies)
    for start in range(0, len(replied), 50):
        bank.sender.send(
            confirmations.multicall(
                confirmations.reply(i, document_hash(replies[i][0], replies[i][1]))
                for i in replied[start : start + 50]
            )
        )
    firm.sender.send(confirmations.close(ids[0]))

    events = confirmations.get_events(network.deployment_block)
    timestamps: dict[int, int] = {}
    entries = []
    for index, (letter, letter_id, salt, letter_hash) in enumerate(
        zip(letters, ids, salts, hashes, strict=True)
    ):
        steps = []
        for event in (e for e in events if e.args.get("letterId") == letter_id):
            if event.block_number not in timestamps:
                timestamps[event.block_number] = int(w3.eth.get_block(event.block_number)["timestamp"])
            args = {k: to_hex(v) if isinstance(v, bytes) else v for k, v in event.args.items()}
            steps.append(
                EvidenceStep(
                    name=event.name,
                    block_number=event.block_number,
                    block_timestamp=timestamps[event.block_number],
                    transaction_hash=to_hex(event.transaction_hash),
                    args=args,
                )
            )
        record = confirmations.get_letter(letter_id)
        refused = index == count - 1
        signed, signed_with, proof = (
            (refusal, refusal_signature, []) if refused else (auth, signature, tree.proof(letter_id))
        )
        reply = replies.get(letter_id)
        entries.append(
            EvidenceLetter(
                letter_id=letter.letter_id,
                status=record.status.name,
                firm=firm.member_id,
                bank=bank.member_id,
                auditee_ref=to_hex(auditee_ref),
                due_at=now + YEAR,
                letter=_text(letter),
                letter_salt=to_hex(salt),
                letter_hash=to_hex(letter_hash),
                reply=_text(reply[0]) if reply else None,
                reply_salt=to_hex(reply[1]) if reply else None,
                reply_hash=to_hex(document_hash(*reply)) if reply else None,
                # The bank sends the reference's salt with its reply, and only then.
                auditee_salt=to_hex(auditee_salt) if reply else None,
                authorisation=EvidenceAuthorisation(
                    kind="refuse" if refused else "authorise",
                    signer=signer_text(multisig.signer) if refused else signer.address,
                    signature=to_hex(signed_with),
                    **{k: to_hex(v) if isinstance(v, bytes) else v for k, v in vars(signed).items()},
                    proof=[to_hex(p) for p in proof],
                ),
                steps=steps,
            )
        )
    network_file = network.describe(rpc_url, peer_endpoints=EndpointPolicy.DEVELOPMENT)
    package = EvidencePackage(
        scope="engagement",
        engagement="2024 年报审计",
        exported_at=datetime.now(UTC),
        exported_by=Exporter(member_no=firm.member_id, name=FIRM_NAME, gateway="http://firm.invalid"),
        network=EvidenceNetwork(
            **network_file.model_dump(
                exclude={"rpc_url", "peer_endpoints", "calendars", "verifiers", "rp_id"}
            )
        ),
        letters=entries,
    )
    return Letters(w3, network, network_file, firm, bank, signer, code, auditee_salt, package)


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
def recorded(anvil_node: AnvilNode) -> Letters:
    return build_letters(connect(anvil_node.rpc_url), anvil_node.rpc_url, 6)
