"""One exception root per package: node_gateway's NodeGatewayError, the bank adapter's
BankAdapterError (a branch of it), the auditor side's AuditorClientError; and the bank adapter's
errors answered by the gateway's one status table, with their own codes."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import pytest

import auditor_client
import bank_adapter
import node_gateway
from auditor_client.errors import AuditorClientError
from auditor_client.evidence import EvidenceError
from auditor_client.verifier import VerifierError
from bank_adapter import errors as bank_errors
from bank_adapter.importer import ImportRejected
from bank_adapter.port import CoreBankingError, UnknownCustomer
from node_gateway.api.errors import http_status
from node_gateway.errors import NodeGatewayError

BUILTIN = {"Exception", "BaseException", "RuntimeError", "ValueError", "KeyError", "LookupError", "OSError"}
# The classes of each package that derive from a builtin exception: its root, or none when its
# root is a branch of another package's (the bank plugin's of the gateway's).
ROOTS: dict[ModuleType, list[str]] = {
    node_gateway: ["NodeGatewayError"],
    bank_adapter: [],
    auditor_client: ["AuditorClientError"],
}


@pytest.mark.parametrize("package", list(ROOTS), ids=lambda p: p.__name__)
def test_no_other_root_derives_from_a_builtin_exception(package: ModuleType) -> None:
    """Private control flow (a leading underscore) aside."""
    found = []
    for path in Path(str(package.__file__)).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            bases = (
                {b.id for b in node.bases if isinstance(b, ast.Name)}
                if isinstance(node, ast.ClassDef)
                else set()
            )
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and bases & BUILTIN:
                found.append(node.name)
    assert found == ROOTS[package]


def test_the_bank_adapters_root_is_a_branch_of_the_gateways() -> None:
    assert issubclass(bank_errors.BankAdapterError, NodeGatewayError)


def test_the_auditor_side_has_one_root() -> None:
    from auditor_client.authorise import AuthoriseError
    from auditor_client.sdk import ConfirmnetError

    for cls in (ConfirmnetError, VerifierError, EvidenceError, AuthoriseError):
        assert issubclass(cls, AuditorClientError)


@pytest.mark.parametrize(
    ("cls", "status", "code"),
    [
        (bank_errors.SameOfficer, 403, "same_officer"),
        (bank_errors.PreparerNotOfficer, 403, "preparer_not_officer"),
        (bank_errors.ReviewerNotOfficer, 403, "reviewer_not_officer"),
        (bank_errors.PreparerDidNotAct, 403, "preparer_did_not_act"),
        (bank_errors.SystemSignOff, 403, "system_sign_off"),
        (bank_errors.DraftNotPending, 409, "draft_not_pending"),
        (bank_errors.DraftChanged, 409, "draft_changed"),
        (bank_errors.NotReadyToDraft, 409, "not_ready_to_draft"),
        (bank_errors.DraftInconsistent, 422, "draft_inconsistent"),
        (bank_errors.CoreUnavailable, 503, "core_unavailable"),
        (CoreBankingError, 500, "bank_adapter_error"),
        (UnknownCustomer, 500, "bank_adapter_error"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_bank_adapter_errors_through_the_gateway_table(
    cls: type[bank_errors.BankAdapterError], status: int, code: str
) -> None:
    assert issubclass(cls, bank_errors.BankAdapterError)
    assert issubclass(cls, NodeGatewayError)
    assert (http_status(cls("message")), cls.code) == (status, code)


def test_import_rejected_is_the_bank_adapters() -> None:
    assert issubclass(ImportRejected, bank_errors.BankAdapterError)
