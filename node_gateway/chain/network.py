"""A deployed network: its addresses in a network file, deployment, and connecting to a node."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import msgspec
import orjson
import requests
import requests.adapters
import requests.utils
from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse, TxReceipt, Wei

from node_gateway.chain.artifacts import VERIFIERS, load_artifact
from node_gateway.chain.contracts import ConfirmationRegistry, MemberRegistry
from node_gateway.chain.errors import TransactionFailed
from node_gateway.chain.signers import SignatureVerifiers
from node_gateway.chain.transactions import Call, TransactionSender
from node_gateway.protocol.calendar import OfficialYear, calendar_hash
from node_gateway.protocol.errors import InvalidDocument


class EndpointPolicy(StrEnum):
    """Where members' gateways may live (node_gateway.peer.endpoints holds deliveries to it)."""

    PUBLIC = "public"  # https to globally routable addresses
    PRIVATE = "private"  # https, private ranges too: a consortium on a closed network
    DEVELOPMENT = "development"  # http and loopback too: a local chain, the tests


class NetworkFile(BaseModel):
    """What a gateway needs to find the network: written at deployment, read at start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain_id: int
    rpc_url: str
    member_registry: str
    confirmation_registry: str
    deployment_block: int
    peer_endpoints: EndpointPolicy = EndpointPolicy.PUBLIC
    # The ERC-7913 verifiers deployed with the network, so that members and tools can name an
    # auditee signer that is a key (node_gateway.chain.signers); None in a file from before them.
    verifiers: SignatureVerifiers | None = None
    # The WebAuthn relying-party id of the network's passkeys: a domain every member's pages live
    # under (or reach through WebAuthn related origins), so one passkey enrolled at a bank signs at
    # every firm. "localhost" on a development network; None: each gateway's own host name.
    rp_id: str | None = None
    # The official calendars the operator published for the years chinese-calendar does not know:
    # year → SHA-256 of the file's bytes, kept beside this file as calendars/<year>.json. Every
    # gateway counts working days in exactly these (node_gateway.protocol.calendar).
    calendars: dict[int, Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]] = Field(
        default_factory=dict
    )

    def official_years(self, path: Path) -> list[OfficialYear]:
        """The published calendars of the network file at ``path``, each checked against its hash
        (DocumentHashMismatch); a missing file is refused too (InvalidDocument): a gateway never
        counts a published year in weekdays."""
        years = []
        for year, sha256 in sorted(self.calendars.items()):
            file = calendar_path(path, year)
            if not file.is_file():
                raise InvalidDocument(
                    f"the network published the official calendar of {year} (SHA-256 {sha256}) and "
                    f"{file} is missing: copy it from the operator with the network file"
                )
            official = OfficialYear.read(file.read_bytes(), sha256=sha256)
            if official.year != year:
                raise InvalidDocument(f"{file} holds the calendar of {official.year}, not {year}")
            years.append(official)
        return years

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Files from before calendars and verifiers read alike.
        unpublished = {name for name in ("calendars", "verifiers", "rp_id") if not getattr(self, name)}
        path.write_text(self.model_dump_json(indent=2, exclude=unpublished or None) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> NetworkFile:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def calendar_path(network_file: Path, year: int) -> Path:
    """Where the official calendar of ``year`` lives beside the network file."""
    return network_file.parent / "calendars" / f"{year}.json"


def publish_calendar(network_file: Path, data: bytes) -> OfficialYear:
    """The operator publishes an official calendar file: checked, stored beside the network file
    and its SHA-256 recorded in it. Both then go to every member."""
    official = OfficialYear.read(data)
    target = calendar_path(network_file, official.year)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    described = NetworkFile.load(network_file)
    calendars = described.calendars | {official.year: calendar_hash(data)}
    described.model_copy(update={"calendars": calendars}).save(network_file)
    return official


@dataclass(frozen=True)
class Network:
    """The two contracts of a deployed network, bound to a node."""

    w3: Web3
    members: MemberRegistry
    confirmations: ConfirmationRegistry
    deployment_block: int
    verifiers: SignatureVerifiers | None = None

    @classmethod
    def attach(cls, w3: Web3, network_file: NetworkFile) -> Network:
        return cls(
            w3=w3,
            members=MemberRegistry(w3, network_file.member_registry),
            confirmations=ConfirmationRegistry(w3, network_file.confirmation_registry),
            deployment_block=network_file.deployment_block,
            verifiers=network_file.verifiers,
        )

    def describe(
        self, rpc_url: str, *, peer_endpoints: EndpointPolicy = EndpointPolicy.PUBLIC
    ) -> NetworkFile:
        return NetworkFile(
            peer_endpoints=peer_endpoints,
            chain_id=self.w3.eth.chain_id,
            rpc_url=rpc_url,
            member_registry=self.members.address,
            confirmation_registry=self.confirmations.address,
            deployment_block=self.deployment_block,
            verifiers=self.verifiers,
            rp_id="localhost" if peer_endpoints == EndpointPolicy.DEVELOPMENT else None,
        )


class _NodeProvider(HTTPProvider):
    """web3's HTTP provider, its JSON written by orjson and read by msgspec: the same requests and
    the same answers (big integers exact, a repeated key's last value) in a fraction of the time,
    which for a verifier's megabytes of logs was a fifth of its chain read's CPU. What either
    cannot handle (bytes or web3's own types in a request, NaN in an answer) goes web3's way."""

    def encode_rpc_request(self, method: RPCEndpoint, params: Any) -> bytes:
        request = {
            "jsonrpc": "2.0",
            "method": method,
            "params": params or [],
            "id": next(self.request_counter),
        }
        try:
            return orjson.dumps(request)
        except TypeError:  # web3's way, with the next id: a batch's ids still rise in its order
            return super().encode_rpc_request(method, params)

    @staticmethod
    def decode_rpc_response(raw_response: bytes) -> RPCResponse:
        try:
            answer: RPCResponse = msgspec.json.decode(raw_response)
        except msgspec.DecodeError:
            return HTTPProvider.decode_rpc_response(raw_response)
        return answer


def connect(rpc_url: str, *, timeout_s: float = 30.0) -> Web3:
    """A web3 client for a JSON-RPC node, tolerant of proof-of-authority (QBFT) block headers."""
    provider = _NodeProvider(rpc_url, request_kwargs={"timeout": timeout_s}, session=_rpc_session(rpc_url))
    w3 = Web3(provider)
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


# Threads of one gateway share the session (web3 would make one per thread); a connection each.
_RPC_CONNECTIONS = 32


def _rpc_session(rpc_url: str) -> requests.Session:
    """A session whose proxy, CA bundle and .netrc login for the node come from the environment as
    it is now: requests would read the environment again at every call (its ``trust_env``), a
    sizeable part of a gateway's CPU for its many small calls to the node."""
    session = requests.Session()
    settings = session.merge_environment_settings(rpc_url, {}, None, None, None)
    session.proxies = settings["proxies"]
    session.verify = settings["verify"]
    session.auth = requests.utils.get_netrc_auth(rpc_url)
    session.trust_env = False
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=_RPC_CONNECTIONS)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _deployment(name: str, types: list[str], args: list[object]) -> Call:
    bytecode = HexBytes(load_artifact(name).bytecode)
    return Call(to=None, data=HexBytes(bytecode + encode(types, args)), label=f"deploy {name}")


# Between a proposal to change the operators and its earliest execution (docs/SECURITY.md, Governance).
DEFAULT_GOVERNANCE_DELAY = 2 * 24 * 3600


def deploy_network(
    operator: TransactionSender,
    *,
    operator_org_id: bytes,
    operator_name: str,
    governance_delay: int = DEFAULT_GOVERNANCE_DELAY,
) -> Network:
    """Deploys both contracts with the sender as the consortium operator (member 1), and
    OpenZeppelin's ERC-7913 verifiers for auditee signers that are keys (stateless, no arguments).

    ``governance_delay`` (seconds) is fixed for good: the time every member has to see a change to
    the operators coming before it can be made.
    """
    members_receipt = operator.send(
        _deployment(
            "MemberRegistry",
            ["address", "bytes32", "string", "uint64"],
            [operator.address, operator_org_id, operator_name, governance_delay],
        )
    )
    members_address = _created(members_receipt)
    confirmations_receipt = operator.send(_deployment("ConfirmationRegistry", ["address"], [members_address]))
    p256, webauthn, rsa = (_created(operator.send(_deployment(name, [], []))) for name in VERIFIERS)
    return Network(
        w3=operator.w3,
        members=MemberRegistry(operator.w3, members_address),
        confirmations=ConfirmationRegistry(operator.w3, _created(confirmations_receipt)),
        deployment_block=members_receipt["blockNumber"],
        verifiers=SignatureVerifiers(p256=p256, webauthn=webauthn, rsa=rsa),
    )


def _created(receipt: TxReceipt) -> ChecksumAddress:
    address: ChecksumAddress | None = receipt["contractAddress"]
    if address is None:
        raise TransactionFailed(f"transaction {receipt['transactionHash'].hex()} created no contract")
    return address


def fund_from_node(w3: Web3, recipients: list[str], wei: int = 10**21) -> None:
    """Gives ether to accounts from the node's own unlocked account (development chains only).

    Permissioned chains run with a zero gas price and need no funding; the in-process chain has a
    base fee, so its test accounts are funded this way.
    """
    funder = w3.eth.accounts[0]
    for recipient in recipients:
        tx_hash = w3.eth.send_transaction(
            {"from": funder, "to": Web3.to_checksum_address(recipient), "value": Wei(wei)}
        )
        w3.eth.wait_for_transaction_receipt(tx_hash)


def in_process_chain() -> Web3:
    """A fresh in-process chain (eth-tester on py-evm), for tests and the embedded demo, reached as
    any node is: through a provider that answers in JSON-RPC's wire form."""
    from node_gateway.chain.in_process import InProcessProvider  # the `tester` extra

    return Web3(InProcessProvider())


def sender_for(w3: Web3, account: LocalAccount) -> TransactionSender:
    return TransactionSender(w3, account)
