"""A letter whose auditee is not the customer its authorisation was given for is refused by the
bank (issue 14: the auditor gives no salt; the signer's mandate supplies the reference).

Over real gateway processes on anvil: this module's own bank, with a core bank (the bank
adapter's compliance check on arrival), has two customers, A and B, each with its own signer on
its mandate. B's signer authorises a letter whose document names A: the firm's gateway finds the
one reference B's signer holds at that bank (B's) and relays it; the contract accepts it (the
signer is mandated under it) and records it; on arrival the bank finds that reference is not its
reference for A and rejects the letter: UNKNOWN_CUSTOMER, on chain, in the firm's letter view and
in the notice's words. Beside it, A's own signer's letter about A goes straight through, and its
reply brings the auditee salt that opens the reference on chain to A; a rejection brings none.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner
from web3 import Web3

from bank_adapter.core_rows import CustomerRow
from bank_adapter.generator import dataset_from_letter
from bank_adapter.importer import export_csv
from confirmnet.cli import app
from node_gateway.chain.contracts import LetterStatus
from node_gateway.protocol.documents import ConfirmationLetter, RejectionReason, uscc
from node_gateway.protocol.hashing import as_salt, auditee_reference, from_hex, to_hex

from . import test_bank_adapter
from .flows import Customer, chain, letter_view, ok, request, sign_and_submit, wait_status
from .harness import Consortium, wait_until
from .test_bank_adapter import AdapterBank, _compose, _customer

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

adapter_bank = test_bank_adapter.adapter_bank  # the bank with a core bank, as that module's tests have it
ADAPTER_BANK = ("西湖银行", uscc("91330100MA2H4C8E1"))  # this module's own

A = (uscc("91330100MA2H4C9A1"), "杭州西湖精密轴承股份有限公司")
B = (uscc("91330100MA2H4C9B1"), "杭州西湖轴承销售有限公司")


def _reference(bank: AdapterBank, code: str) -> str:
    """The bank's own reference for a customer (its lookup, never handed to the firm)."""
    with bank.gateway.client("officer") as officer:
        found: str = ok(officer.get(f"/v1/customers/{code}/reference"))["auditee_ref"]
    return found


def _load_core(bank: AdapterBank, letter: ConfirmationLetter, *also: Customer) -> None:
    """The core bank holds ``letter``'s records (its figures right) and the other customers."""
    dataset = dataset_from_letter(letter)
    dataset["customers"] += [CustomerRow(registration_code=c.registration_code, name=c.name) for c in also]
    files = export_csv(dataset, bank.workdir / "mismatch-core")
    result = CliRunner().invoke(app, ["bank", "import", *map(str, files), "--core-url", bank.core_url])
    assert result.exit_code == 0, result.output


def _evidence(consortium: Consortium, letter_id: str) -> dict[str, Any]:
    with consortium.firm.client("auditor") as firm:
        found: dict[str, Any] = ok(firm.get(f"/v1/letters/{letter_id}/evidence"))
    return found


def _auditee_event(consortium: Consortium, letter_id: str) -> Any:
    network = chain(consortium)
    events = network.confirmations.get_events(network.deployment_block)
    return next(
        e for e in events if e.name == "LetterAuthorised" and to_hex(e.args["letterId"]) == letter_id.lower()
    )


def test_a_signer_of_company_b_authorising_a_letter_about_company_a_is_refused_by_the_bank(
    consortium: Consortium, adapter_bank: AdapterBank
) -> None:
    company_a = _customer(consortium, adapter_bank, *A)
    company_b = _customer(consortium, adapter_bank, *B)
    about_a, also_about_a = (_compose(consortium, adapter_bank, company_a) for _ in range(2))
    _load_core(adapter_bank, about_a, company_b)  # both are the bank's customers
    mismatched, matched = about_a.letter_id, also_about_a.letter_id
    request(consortium, [about_a, also_about_a])

    # B's signer signs the letter about A; the firm relays it under B's reference, the only one that
    # signer holds at this bank, and the chain takes it: the signer is mandated under it.
    accepted = sign_and_submit(consortium, [mismatched], company_b.signer)
    assert (accepted["kind"], accepted["letters"]) == ("authorise", 1)
    sign_and_submit(consortium, [matched], company_a.signer)
    ref_a, ref_b = _reference(adapter_bank, A[0]), _reference(adapter_bank, B[0])
    authorised = wait_until(lambda: _auditee_event(consortium, mismatched), 60, "the authorisation on chain")
    assert to_hex(authorised.args["auditeeRef"]) == ref_b
    assert authorised.args["signerId"] == Web3.keccak(from_hex(company_b.signer.address))

    # The bank, on arrival: the reference on chain is not its reference for A, the auditee the
    # letter names. Rejected on chain, and so at the firm, with the reason and its words.
    wait_status(consortium.firm, "auditor", mismatched, "REJECTED")
    network = chain(consortium)
    record = network.confirmations.get_letter(from_hex(mismatched))
    assert (record.status, to_hex(record.auditee_ref)) == (LetterStatus.REJECTED, ref_b)
    rejections = [
        e
        for e in network.confirmations.get_events(network.deployment_block)
        if e.name == "LetterRejected" and to_hex(e.args["letterId"]) == mismatched
    ]
    assert [e.args["reason"] for e in rejections] == [RejectionReason.UNKNOWN_CUSTOMER]
    view = letter_view(consortium.firm, "auditor", mismatched)
    assert (view["status"], view["reason"]) == ("REJECTED", RejectionReason.UNKNOWN_CUSTOMER)
    assert view["auditee_ref"] == ref_b
    assert _evidence(consortium, mismatched)["auditee_salt"] is None  # a rejection brings no salt
    case = adapter_bank.case(mismatched)
    assert case["compliance"]["reason"] == RejectionReason.UNKNOWN_CUSTOMER
    with consortium.firm.client("auditor") as firm:
        notice = wait_until(
            lambda: (got := firm.get(f"/v1/letters/{mismatched}/notice")).status_code == 200 and got.json(),
            60,
            "the bank's notice at the firm",
        )
    assert notice["reason"] == RejectionReason.UNKNOWN_CUSTOMER
    assert "authorised under another customer's reference" in notice["detail"]

    # A's own signer's letter about A: the same bank, the same check, answered; its reply brings
    # the bank's salt, which opens the reference on chain to A.
    wait_status(consortium.firm, "auditor", matched, "REPLIED", timeout_s=90)
    replied = _evidence(consortium, matched)
    assert replied["auditee_ref"] == ref_a
    assert to_hex(auditee_reference(A[0], as_salt(from_hex(replied["auditee_salt"])))) == ref_a
