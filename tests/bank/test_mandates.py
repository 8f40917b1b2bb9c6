"""Reading mandate files: the signer, the customer and until when, every bad row refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account

from bank_adapter.importer import ImportRejected
from bank_adapter.mandates import MandateRecord, read_mandates
from node_gateway.protocol.documents import uscc

CODE = uscc("91310115MA1H7Q3K2")


def test_valid_until_forms(tmp_path: Path) -> None:
    signer = Account.create().address
    path = tmp_path / "mandates.csv"
    path.write_text(
        "registration_code,signer,valid_until\n"
        f"{CODE.lower()},{signer.lower()},2025-12-31\n"
        f"{CODE},{signer},2025-12-31T09:00:00+08:00\n"
        f"{CODE},{signer},1767196799\n"
    )
    records = read_mandates([path])
    # A date: to the end of that day in China (16:00 UTC); the code and address made canonical.
    end_of_2025 = int(datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC).timestamp())
    assert records[0] == MandateRecord(registration_code=CODE, signer=signer, valid_until=end_of_2025)
    assert records[1].valid_until == int(datetime(2025, 12, 31, 1, tzinfo=UTC).timestamp())
    assert records[2].valid_until == end_of_2025


def test_bad_rows_are_reported_with_their_lines(tmp_path: Path) -> None:
    signer = Account.create().address
    path = tmp_path / "mandates.csv"
    path.write_text(
        "registration_code,signer,valid_until\n"
        f"{CODE},{signer},2025-12-31\n"
        f"{CODE},0x1234,2025-12-31\n"
        f"NO!,{signer},2025-12-31\n"
        f"{CODE},{signer},next year\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        read_mandates([path])
    assert [(p.line, p.message.split(":")[0]) for p in rejected.value.problems] == [
        (3, "signer"),
        (4, "registration_code"),
        (5, "valid_until"),
    ]
