"""``confirmnet bank import`` and ``generate`` on a core bank's database (the gateway commands run
against real gateways in tests/integration/test_bank_adapter.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from bank_adapter.core_rows import CustomerRow, rows_of
from bank_adapter.core_sql import CoreBank
from bank_adapter.generator import generate
from confirmnet.cli import app

AS_OF = date(2024, 12, 31)


def test_generate_then_import_the_files_elsewhere(tmp_path: Path) -> None:
    generated = f"sqlite:///{tmp_path / 'generated.db'}"
    result = CliRunner().invoke(
        app,
        [
            *("bank", "generate", "--core-url", generated, "--customers", "5", "--seed", "4"),
            *("--reference-date", "2024-12-31", "--csv", str(tmp_path / "csv")),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "loaded: 5 customers" in result.output
    files = sorted(str(p) for p in (tmp_path / "csv").glob("*.csv"))
    imported = f"sqlite:///{tmp_path / 'imported.db'}"
    result = CliRunner().invoke(app, ["bank", "import", *files, "--core-url", imported])
    assert result.exit_code == 0, result.output
    assert "imported: 5 customers" in result.output
    customers = rows_of(generate(customers=5, seed=4, reference_date=AS_OF), CustomerRow)
    first, second = CoreBank(generated), CoreBank(imported)
    for customer in customers:
        code = customer.registration_code
        assert first.snapshot(code, AS_OF) == second.snapshot(code, AS_OF)
    first.dispose()
    second.dispose()


def test_a_bad_file_is_refused_with_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("registration_code,name\n!!,坏公司\n")
    core_url = f"sqlite:///{tmp_path / 'core.db'}"
    result = CliRunner().invoke(app, ["bank", "import", str(path), "--core-url", core_url])
    assert result.exit_code == 1
    assert "customers.csv:2: registration_code" in result.output
    assert "nothing imported" in result.output


def test_the_core_url_comes_from_somewhere(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["bank", "import", str(tmp_path / "x.csv")], env={"CONFIRMNET_CORE_BANKING_URL": None}
    )
    assert result.exit_code == 1
    assert "name the core bank" in result.output
