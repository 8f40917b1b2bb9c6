"""A capital-verification (验资) letter end to end on anvil, through the public APIs of real gateway
processes: the firm's gateway numbers and sends it, the auditee authorises it, the bank (a gateway
with a core bank and the straight-through policy) drafts its answer from the credits its core booked
to the capital account, and replies; the firm verifies the reply against the chain and closes it.

The core holds the two investors' contributions the letter lists, imported with the CLI, and a
credit to the same account from an earlier capital round (before the letter's period, so not
asked about): every contribution is confirmed and the reply goes straight through.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from protocol.pdf_checks import pdf_text
from typer.testing import CliRunner

from bank_adapter.core_rows import CapitalCreditRow
from bank_adapter.generator import dataset_from_letter
from bank_adapter.importer import export_csv
from confirmnet.cli import app
from node_gateway.protocol import parse_letter, parse_reply
from node_gateway.protocol.documents import STANDARD_ITEMS, Auditee, AuditFirm, Bank, LetterFormat, uscc
from node_gateway.protocol.samples import sample_letter

from . import test_bank_adapter
from .flows import close_when_replied, member_id, ok, request, sign_and_submit
from .harness import Consortium
from .test_bank_adapter import AdapterBank, _customer
from .test_printouts import ok_pdf

adapter_bank = test_bank_adapter.adapter_bank  # the bank with a core bank, as that module's tests have it
ADAPTER_BANK = ("临港银行", uscc("91310000MA1K0LG01"))  # this module's own

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_a_capital_letter_runs_end_to_end(consortium: Consortium, adapter_bank: AdapterBank) -> None:
    customer = _customer(consortium, adapter_bank, "91310000MA1K00005", "上海临港智造科技股份有限公司")
    letter = sample_letter(
        letter_format=LetterFormat.CAPITAL,
        audit_firm=AuditFirm(member_no=member_id(consortium.firm), name=consortium.firm.name),
        bank=Bank(member_no=adapter_bank.member_no, name=adapter_bank.gateway.name),
        auditee=Auditee(name=customer.name, registration_code=customer.registration_code),
    )
    dataset = dataset_from_letter(letter)
    first = dataset[CapitalCreditRow.table][0]
    assert isinstance(first, CapitalCreditRow)
    earlier = first.model_copy(
        update={"credit_no": "CC-2019", "paid_on": date(2019, 5, 6), "amount": Decimal("10000000.00")}
    )
    dataset[CapitalCreditRow.table].append(earlier)
    files = export_csv(dataset, adapter_bank.workdir / "core-csv-capital")
    assert "capital_credits.csv" in {path.name for path in files}
    imported = CliRunner().invoke(
        app, ["bank", "import", *map(str, files), "--core-url", adapter_bank.core_url]
    )
    assert imported.exit_code == 0, imported.output

    (created,) = request(consortium, [letter])
    assert created["confirmation_no"]  # numbered by the firm's gateway
    sign_and_submit(consortium, [letter.letter_id], customer.signer)

    answer = close_when_replied(consortium, letter.letter_id)
    assert answer["verified"]  # against the hash on chain, by the firm's gateway
    reply = parse_reply(answer["reply"])
    assert reply.confirmation_no == created["confirmation_no"]  # the reply quotes it
    assert reply.conclusion.value == "confirmed"
    assert reply.items.capital_contributions.status.value == "confirmed"
    assert all(getattr(reply.items, key.value).status.value == "not_applicable" for key in STANDARD_ITEMS)
    assert reply.reviewer.officer_id == "system:straight-through"  # no exception held it back

    # The bank received the 验资 letter as sent, and both sides print it under its own title.
    with adapter_bank.gateway.client("officer") as bank:
        received = parse_letter(ok(bank.get(f"/v1/bank/letters/{letter.letter_id}"))["letter"])
        printed = ok_pdf(bank.get(f"/v1/letters/{letter.letter_id}/letter.pdf"))
    assert received.format is LetterFormat.CAPITAL
    assert received.items.capital_contributions == letter.items.capital_contributions
    with consortium.firm.client("auditor") as firm:
        assert ok_pdf(firm.get(f"/v1/letters/{letter.letter_id}/letter.pdf")) == printed
    assert "银行询证函(验资)" in pdf_text(printed)
