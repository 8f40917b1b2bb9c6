"""Chain exceptions: one class per custom error of the contracts, decoded from revert data.

ChainError                     chain_failed
├── NodeUnavailable            chain_unavailable   the JSON-RPC node cannot be reached
├── NodeRejected               chain_failed        the node refused a request (nonce too low, pool full, fee too low)
├── TransactionFailed          chain_failed        mined but reverted with no data we know, or never mined
└── ContractRevert             chain_refused       a custom error of the contracts (``.args`` are its arguments)
    ├── MemberRegistryRevert   MemberRegistry's errors, e.g. MemberRegistryMemberNotActive
    ├── ConfirmationRevert     ConfirmationRegistry's errors, e.g. ConfirmationUnexpectedStatus
    └── LibraryRevert          errors of the OpenZeppelin code the contracts use, e.g. FailedCall

``ChainError`` is a branch of node_gateway's one root (``node_gateway.errors.NodeGatewayError``);
a contract's error says which in its details (``{"error": "<its Solidity name>"}``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from eth_abi.abi import decode
from eth_utils.abi import function_signature_to_4byte_selector

from node_gateway.chain.artifacts import CONTRACTS, load_artifact
from node_gateway.errors import NodeGatewayError
from node_gateway.protocol.hashing import to_hex


class ChainError(NodeGatewayError):
    """Root of everything that goes wrong between a gateway and the chain."""

    code = "chain_failed"


class NodeUnavailable(ChainError):
    """The JSON-RPC node did not answer."""

    code = "chain_unavailable"


class NodeRejected(ChainError):
    """The node answered with an error: a transaction it would not take, a call it refused."""


class TransactionFailed(ChainError):
    """A transaction reverted without a known custom error, or was not mined in time."""


class ContractRevert(ChainError):
    """A contract call reverted with one of the contracts' custom errors."""

    code = "chain_refused"
    solidity_name: ClassVar[str] = ""

    def __init_subclass__(cls) -> None:
        cls.solidity_name = cls.__name__

    def __init__(self, *values: Any) -> None:
        super().__init__(*values)
        self.values = values

    def __str__(self) -> str:
        return f"{self.solidity_name}({', '.join(map(_show, self.values))})"

    @property
    def details(self) -> dict[str, str]:
        return {"error": self.solidity_name}


class MemberRegistryRevert(ContractRevert):
    """A custom error of MemberRegistry."""


class ConfirmationRevert(ContractRevert):
    """A custom error of ConfirmationRegistry."""


class LibraryRevert(ContractRevert):
    """A custom error of the OpenZeppelin libraries inside the contracts."""


def _show(value: Any) -> str:
    return to_hex(value) if isinstance(value, bytes) else repr(value)


class MemberRegistryUnknownAccount(MemberRegistryRevert):
    """The account belongs to no member."""


class MemberRegistryUnknownMember(MemberRegistryRevert):
    """No member has that number."""


class MemberRegistryUnauthorized(MemberRegistryRevert):
    """Only an active operator may do that."""


class MemberRegistryMemberNotActive(MemberRegistryRevert):
    """The member is suspended or revoked."""


class MemberRegistryWrongRole(MemberRegistryRevert):
    """The member has another role than the action needs."""


class MemberRegistryAccountInUse(MemberRegistryRevert):
    """The account already belongs to a member."""


class MemberRegistryOrganisationInUse(MemberRegistryRevert):
    """The organisation is already a member."""


class MemberRegistryInvalidAdmission(MemberRegistryRevert):
    """An admission or rotation names a zero account, organisation or role."""


class MemberRegistryInvalidStatusChange(MemberRegistryRevert):
    """The status change is not allowed from the current status."""


class MemberRegistryOperatorChangeNeedsProposal(MemberRegistryRevert):
    """Admitting an operator or changing an operator's status takes a proposal, not one operator."""


class MemberRegistryUnexpectedProposalState(MemberRegistryRevert):
    """The proposal is not in a state the step allows (unknown, still waiting, executed, cancelled)."""


class MemberRegistryProposalAlreadyApproved(MemberRegistryRevert):
    """The operator has approved the proposal already."""


class MemberRegistryConcernedOperator(MemberRegistryRevert):
    """The operator a proposal concerns can neither propose nor approve it."""


class MemberRegistryQuorumNotReached(MemberRegistryRevert):
    """Too few active operators approve the proposal."""


class ConfirmationUnexpectedStatus(ConfirmationRevert):
    """The letter is not in a state the action allows."""


class ConfirmationUnknownLetter(ConfirmationRevert):
    """No such letter."""


class ConfirmationNotRequestingFirm(ConfirmationRevert):
    """The caller is not the firm that requested the letter."""


class ConfirmationNotAddressedBank(ConfirmationRevert):
    """The caller is not the bank the letter is addressed to."""


class ConfirmationInvalidRequest(ConfirmationRevert):
    """A due time not in the future, or a zero hash."""


class ConfirmationAuthorisationExpired(ConfirmationRevert):
    """The authorisation or refusal has expired."""


class ConfirmationAuthorisationWrongFirm(ConfirmationRevert):
    """The authorisation names another firm."""


class ConfirmationAuthorisationNotCovering(ConfirmationRevert):
    """The letter is not under the signed requests root."""


class ConfirmationInvalidSignature(ConfirmationRevert):
    """The signature is malformed."""


class ConfirmationSignerNotMandated(ConfirmationRevert):
    """The signer holds no valid mandate for the auditee at the bank."""


class ConfirmationInvalidMandate(ConfirmationRevert):
    """A mandate with a zero signer or an expiry in the past."""


class FailedCall(LibraryRevert):
    """A call inside a Multicall reverted without data."""


class AddressEmptyCode(LibraryRevert):
    """A call went to an address without code."""


class StringTooLong(LibraryRevert):
    """An EIP-712 domain string too long for a short string."""


class InvalidShortString(LibraryRevert):
    """A malformed EIP-712 short string."""


_CLASSES: dict[str, type[ContractRevert]] = {
    cls.__name__: cls
    for base in (MemberRegistryRevert, ConfirmationRevert, LibraryRevert)
    for cls in base.__subclasses__()
}


def _abi_errors() -> dict[bytes, tuple[str, list[str]]]:
    errors: dict[bytes, tuple[str, list[str]]] = {}
    for contract in CONTRACTS:
        for item in load_artifact(contract).abi:
            if item["type"] == "error":
                types = [arg["type"] for arg in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                errors[selector] = (item["name"], types)
    return errors


ABI_ERRORS = _abi_errors()


def error_class(solidity_name: str) -> type[ContractRevert]:
    """The exception class of a custom error, by its Solidity name."""
    return _CLASSES[solidity_name]


def decode_revert(data: bytes) -> ChainError:
    """The exception for a revert's return data: the custom error's class, or TransactionFailed."""
    known = ABI_ERRORS.get(data[:4])
    if known is None:
        return TransactionFailed(f"reverted with unknown data 0x{data.hex()}")
    name, types = known
    return _CLASSES[name](*decode(types, data[4:]))
