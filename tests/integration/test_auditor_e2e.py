"""The audit firm's tools end to end over the real consortium, through the ``confirmnet`` CLI.

A CSV of 50 letters (no salt in it) is uploaded through the firm's gateway, authorised by the
auditee with one batch signature (``confirmnet authorise sign``, checking each letter names its
company), answered by the bank through its API, closed, exported as one engagement's evidence (each
letter with the auditee salt its reply brought), and verified offline against the anvil node with
no gateway involved; then every kind of tampering with the package makes ``verify`` fail and name
it, a wrong auditee salt included.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from confirmnet.cli import app
from node_gateway.protocol.documents import ConfirmationLetter, ItemKey

from .flows import Customer, accept_and_reply, letter_view, member_id, new_auditee, ok, wait_in_inbox
from .harness import Consortium, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

LETTERS = 50
PASSPHRASE = "the auditee signer's passphrase"


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


def _sheet(path: Path, consortium: Consortium, auditee: Customer, *, count: int) -> None:
    bank_id = member_id(consortium.bank)
    base = {
        "reference_date": "2024-12-31",
        "bank_member_no": str(bank_id),
        "bank_name": consortium.bank.name,
        "bank_branch": "上海浦东支行",
        "auditee_code": auditee.registration_code,
        "auditee_name": auditee.name,
        "audit_period_start": "2024-01-01",
        "audit_period_end": "2024-12-31",
        "firm_contact_name": "赵敏",
        "firm_contact_email": "zhaomin@mingjian-cpa.example",
    }
    listed = {"deposits", "loans"}
    rows: list[dict[str, str]] = []
    for index in range(count):
        key = {**base, "letter_key": f"E2E-{index:03d}"}
        rows += [
            {
                **key,
                "item": "deposits",
                "account_no": f"3105016137360{index:07d}",
                "account_name": auditee.name,
                "currency": "CNY",
                "account_type": "basic",
                "deposit_type": "demand",
                "balance": f"{1_000_000 + index * 1234}.56",
            },
            {
                **key,
                "item": "1",
                "account_no": f"3105016137361{index:07d}",
                "account_name": auditee.name,
                "currency": "USD",
                "account_type": "other",
                "deposit_type": "time",
                "balance": "0.00",
                "note": "零余额",
            },
            {
                **key,
                "item": "银行借款",
                "borrower_name": auditee.name,
                "account_no": f"3105016137362{index:07d}",
                "currency": "CNY",
                "principal": "30000000.00",
                "accrued_interest": "31625.00",
                "start_date": "2024-06-28",
                "maturity_date": "2025-06-27",
                "interest_rate": "3.45",
            },
        ]
        # Format one: every other item in a row of its own, marked not applicable.
        rows += [
            {**key, "item": item.value, "not_applicable": "yes"}
            for item in ItemKey
            if item.value not in listed
        ]
    columns = sorted({c for row in rows for c in row})
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def engagement(consortium: Consortium, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    started = time.perf_counter()
    work = tmp_path_factory.mktemp("auditor")
    firm = {
        "CONFIRMNET_GATEWAY": consortium.firm.url,
        "CONFIRMNET_API_KEY": consortium.firm.api_keys["auditor"],
    }
    auditee = new_auditee(consortium, 50)

    # 1. The auditor uploads the sheet.
    sheet, created = work / "letters.csv", work / "created.csv"
    _sheet(sheet, consortium, auditee, count=LETTERS)
    result = run("auditor", "upload", str(sheet), "--output", str(created), env=firm)
    assert result.exit_code == 0, result.output
    with created.open(encoding="utf-8-sig") as handle:
        ids = [row["letter_id"] for row in csv.DictReader(handle)]
    assert len(ids) == LETTERS
    wait_until(
        lambda: all(letter_view(consortium.firm, "auditor", i)["status"] == "REQUESTED" for i in ids[-3:]),
        60,
        "the letters on chain",
    )
    wait_until(
        lambda: run("auditor", "status", "--status", "PENDING", env=firm).output.count("0x") == 0,
        60,
        "requests",
    )

    # 2. The auditor prepares one bundle; the auditee's signer reviews it and signs it once.
    bundle = work / "bundle.json"
    result = run("auditor", "authorisation-request", *ids, "--output", str(bundle), env=firm)
    assert result.exit_code == 0, result.output
    keystore = work / "signer.json"
    keystore.write_text(
        json.dumps(Account.encrypt(auditee.signer.key, PASSPHRASE, kdf="scrypt", iterations=2**12))
    )
    signer_env = {
        "CONFIRMNET_SIGNER_PASSPHRASE": PASSPHRASE,
        "CONFIRMNET_API_KEY": consortium.firm.api_keys["auditee"],
    }
    result = run(
        "authorise",
        "sign",
        str(bundle),
        "--keystore",
        str(keystore),
        "--auditee-code",
        auditee.registration_code,
        "--network",
        str(consortium.network_file),
        "--gateway",
        consortium.firm.url,
        "--yes",
        env=signer_env,
    )
    assert result.exit_code == 0, result.output
    assert f"authorise of {LETTERS} letters accepted" in result.output

    # 3. The bank accepts and replies to every letter through its officer API.
    wait_in_inbox(consortium, ids, timeout_s=90)
    for letter_id in ids:
        view = letter_view(consortium.firm, "auditor", letter_id)
        letter = ConfirmationLetter.model_validate(view["letter"])
        accept_and_reply(consortium, letter, view["letter_hash"], replied_on=letter.issued_on)

    # 4. The auditor closes every verified reply and exports the engagement's evidence.
    def replied() -> bool:
        with consortium.firm.client("auditor") as client:
            page = ok(client.get("/v1/letters", params={"status": "REPLIED", "limit": 1000}))
        return sum(1 for x in page["items"] if x["letter_id"] in ids and x["reply_verified"]) == LETTERS

    wait_until(replied, 90, "every reply verified")
    result = run("auditor", "close", *ids, env=firm)
    assert result.exit_code == 0, result.output
    wait_until(lambda: letter_view(consortium.firm, "auditor", ids[-1])["status"] == "CLOSED", 60, "closed")
    wait_until(
        lambda: all(letter_view(consortium.firm, "auditor", i)["status"] == "CLOSED" for i in ids),
        60,
        "all closed",
    )
    package, split, pdf = work / "engagement.json", work / "letters", work / "summary.pdf"
    result = run(
        "auditor",
        "evidence",
        *ids,
        "--output",
        str(package),
        "--engagement",
        "江南精密 2024 年报审计",
        "--split",
        str(split),
        "--pdf",
        str(pdf),
        env=firm,
    )
    assert result.exit_code == 0, result.output
    print(
        f"\n50 letters through upload, batch authorisation, reply, close and export: {time.perf_counter() - started:.1f} s"
    )
    return {"ids": ids, "package": package, "split": split, "pdf": pdf, "work": work, "auditee": auditee}


def verify(consortium: Consortium, package: Path, report: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run(
        "verify",
        str(package),
        "--rpc",
        consortium.anvil.rpc_url,
        "--network",
        str(consortium.network_file),
        "--report",
        str(report),
    )
    checks = json.loads(report.read_text(encoding="utf-8"))["checks"] if report.exists() else []
    return result.exit_code, checks


def test_the_engagement_verifies_offline(consortium: Consortium, engagement: dict[str, Any]) -> None:
    report = engagement["work"] / "report.json"
    started = time.perf_counter()
    code, checks = verify(consortium, engagement["package"], report)
    assert code == 0, [c for c in checks if c["verdict"] == "fail"]
    assert not [c for c in checks if c["verdict"] == "fail"]
    names = {c["name"] for c in checks}
    assert {
        "chain_id",
        "contract.ConfirmationRegistry",
        "registry_link",
        "deployment_block",
        "letter.hash",
        "reply.hash",
        "record",
        "lifecycle",
        "timestamps",
        "authorisation",
        "auditee_ref",
    } <= names
    by_letter = {c["subject"] for c in checks} - {"network"}
    assert by_letter == set(engagement["ids"])
    # Each letter's reference, the one its signer is mandated under, opens to the auditee with the
    # salt that came with the bank's reply: the bank's own salt for that customer.
    code = engagement["auditee"].registration_code
    opened = [c for c in checks if c["name"] == "auditee_ref"]
    assert len(opened) == LETTERS
    assert all(c["verdict"] == "pass" and f"opens to {code}" in c["detail"] for c in opened)
    with consortium.bank.client("officer") as bank:
        bank_salt = ok(bank.get(f"/v1/customers/{code}/reference"))["salt"]
    letters = json.loads(engagement["package"].read_text(encoding="utf-8"))["letters"]
    assert {x["auditee_salt"] for x in letters} == {bank_salt}
    signers = {c["detail"].split(" by ")[1].split(",")[0] for c in checks if c["name"] == "authorisation"}
    assert len(signers) == 1  # one batch signature covers the 50 letters
    print(f"verified {LETTERS} letters offline in {time.perf_counter() - started:.2f} s")
    assert engagement["pdf"].read_bytes().startswith(b"%PDF")
    result = run(
        "verify", "contracts", "--rpc", consortium.anvil.rpc_url, "--network", str(consortium.network_file)
    )
    assert result.exit_code == 0, result.output


def _first_letter(package: dict[str, Any]) -> dict[str, Any]:
    letter: dict[str, Any] = package["letters"][0]
    return letter


def _edit_document(letter: dict[str, Any], kind: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Changes a document the package carries as the text of its hashed bytes (evidence format 2)."""
    document = json.loads(letter[kind])
    edit(document)
    letter[kind] = json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _flip_hex(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a byte of the letter": (
        lambda p: _edit_document(
            _first_letter(p), "letter", lambda d: d["auditee"].update(name=d["auditee"]["name"] + "X")
        ),
        "letter.hash",
    ),
    "a byte of the reply": (
        lambda p: _edit_document(_first_letter(p), "reply", lambda d: d.update(replied_on="2025-01-09")),
        "reply.hash",
    ),
    "the letter's salt": (
        lambda p: _first_letter(p).update(letter_salt=_flip_hex(_first_letter(p)["letter_salt"])),
        "letter.hash",
    ),
    "the reply's salt": (
        lambda p: _first_letter(p).update(reply_salt=_flip_hex(_first_letter(p)["reply_salt"])),
        "reply.hash",
    ),
    "the auditee's salt": (
        lambda p: _first_letter(p).update(auditee_salt=_flip_hex(_first_letter(p)["auditee_salt"])),
        "auditee_ref",
    ),
    "a transaction hash": (
        lambda p: _first_letter(p)["steps"][3].update(
            transaction_hash=_flip_hex(_first_letter(p)["steps"][3]["transaction_hash"])
        ),
        "step 4 LetterReplied",
    ),
    "a block number": (
        lambda p: _first_letter(p)["steps"][0].update(
            block_number=_first_letter(p)["steps"][0]["block_number"] + 1
        ),
        "step 1 LetterRequested",
    ),
    "a contract address": (
        lambda p: p["network"].update(confirmation_registry=_flip_hex(p["network"]["confirmation_registry"])),
        "anchor",  # not the network file's: refused before anything is read
    ),
    "the chain id": (lambda p: p["network"].update(chain_id=p["network"]["chain_id"] + 1), "anchor"),
    "the authorisation's signature": (
        lambda p: _first_letter(p)["authorisation"].update(
            signature=_flip_hex(_first_letter(p)["authorisation"]["signature"][:-2]) + "1b"
        ),
        "authorisation",
    ),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_fails_and_names_what(
    consortium: Consortium, engagement: dict[str, Any], what: str
) -> None:
    change, expected = TAMPERING[what]
    single = engagement["split"] / f"{engagement['ids'][0]}.json"
    document = json.loads(single.read_text(encoding="utf-8"))
    change(document)
    tampered = engagement["work"] / f"tampered-{what.replace(' ', '_')}.json"
    tampered.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    code, checks = verify(consortium, tampered, engagement["work"] / f"report-{what.replace(' ', '_')}.json")
    failed = [c["name"] for c in checks if c["verdict"] == "fail"]
    assert code == 1, checks
    assert expected in failed, failed


def test_a_sheet_with_bad_rows_is_refused_row_by_row_and_nothing_is_sent(
    consortium: Consortium, engagement: dict[str, Any]
) -> None:
    firm = {
        "CONFIRMNET_GATEWAY": consortium.firm.url,
        "CONFIRMNET_API_KEY": consortium.firm.api_keys["auditor"],
    }
    sheet = engagement["work"] / "bad.csv"
    good = engagement["work"] / "letters.csv"
    with good.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0])
    rows = [row for row in rows if row["letter_key"] == "E2E-000"]  # one letter
    rows[1]["balance"] = "12,5"  # not an amount (row 3)
    rows.append({**rows[-1], "item": "17"})  # no such item (the last row)
    last = len(rows) + 1
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    with consortium.firm.client("auditor") as client:
        before = ok(client.get("/v1/letters", params={"limit": 1}))["total"]
    report = engagement["work"] / "bad-report.csv"
    result = run("auditor", "upload", str(sheet), "--report", str(report), env=firm)
    assert result.exit_code == 2, result.output
    with report.open(encoding="utf-8-sig") as handle:
        verdicts = {int(r["row"]): r for r in csv.DictReader(handle)}
    assert verdicts[3]["verdict"] == "error"
    assert verdicts[3]["column"] == "balance"
    assert verdicts[last]["verdict"] == "error"
    assert verdicts[last]["column"] == "item"
    assert verdicts[2]["verdict"] == "ok"
    with consortium.firm.client("auditor") as client:
        assert ok(client.get("/v1/letters", params={"limit": 1}))["total"] == before
