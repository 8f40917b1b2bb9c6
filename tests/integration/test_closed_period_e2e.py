"""A letter with a closed-accounts period of the auditor's choosing, end to end on anvil: the firm's
gateway numbers and sends it, the auditee authorises it, the bank (a gateway process with a core
bank and the straight-through policy) drafts item 3 from the letter's period and replies, and the
firm verifies the reply against the chain.

The core holds an account closed on 2024-08-20. A letter whose item 3 covers 2024-09-01 to the
reference date, marked not applicable, is confirmed as it stands and goes straight through; a bank
that assumed the calendar year would have reported that account as one the auditor left out.
"""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from bank_adapter.generator import dataset_from_letter
from bank_adapter.importer import export_csv
from confirmnet.cli import app
from node_gateway.protocol.documents import Item, LetterItems, Period, uscc

from . import test_bank_adapter
from .flows import close_when_replied, request, sign_and_submit
from .harness import Consortium
from .test_bank_adapter import AdapterBank, _compose, _customer

adapter_bank = test_bank_adapter.adapter_bank  # the bank with a core bank, as that module's tests have it
ADAPTER_BANK = ("嘉兴银行", uscc("91330400MA2JX0CP1"))  # this module's own

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_item_3_is_answered_for_the_auditor_s_period(
    consortium: Consortium, adapter_bank: AdapterBank
) -> None:
    customer = _customer(consortium, adapter_bank, "91310000MA1K00003", "嘉兴南湖精密铸造有限公司")
    sample = _compose(consortium, adapter_bank, customer)
    files = export_csv(dataset_from_letter(sample), adapter_bank.workdir / "core-csv-closed")
    imported = CliRunner().invoke(
        app, ["bank", "import", *map(str, files), "--core-url", adapter_bank.core_url]
    )
    assert imported.exit_code == 0, imported.output
    (closed,) = sample.items.closed_accounts.entries
    assert closed.closed_on == date(2024, 8, 20)

    items = sample.items.model_dump() | {"closed_accounts": Item(not_applicable=True)}
    letter = sample.model_copy(
        update={
            "closed_accounts_period": Period(start=date(2024, 9, 1), end=sample.reference_date),
            "items": LetterItems.model_validate(items),
        }
    )
    (created,) = request(consortium, [letter])
    assert created["confirmation_no"]  # numbered by the firm's gateway
    sign_and_submit(consortium, [letter.letter_id], customer.signer)

    answer = close_when_replied(consortium, letter.letter_id)
    reply = answer["reply"]
    assert reply["confirmation_no"] == created["confirmation_no"]  # the reply quotes it
    assert reply["items"]["closed_accounts"]["status"] == "not_applicable"
    assert reply["conclusion"] == "confirmed"
    assert reply["reviewer"]["officer_id"] == "system:straight-through"  # no exception held it back
    assert answer["verified"]  # against the hash on chain, by the firm's gateway
