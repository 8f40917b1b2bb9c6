"""``confirmnet auditor`` on what people get wrong: a malformed letter id is a clear usage error,
not a traceback; ``status`` prints ids whole also into a file; the upload's dry run checks that
each letter's bank is an active bank of the network, row by row.

The gateway here is a fake one (httpx's MockTransport), except for the member registry, read from
a real deployment."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Deployment
from typer.testing import CliRunner

import auditor_client.cli.auditor as auditor_cli
from auditor_client.members import registry_lookup
from auditor_client.sdk import Client
from confirmnet.cli import app
from node_gateway.api.models import Identity, LetterPage, LetterSummary, MemberOut
from node_gateway.chain.contracts import Role
from node_gateway.protocol.bank_rules import BankRules, Fee
from node_gateway.protocol.documents import Contact, ItemKey, LetterFormat
from node_gateway.protocol.workbook import MemberInfo, bank_problem, template_rows

runner = CliRunner()
GOOD = "0x" + "ab" * 32
ENV = {"CONFIRMNET_GATEWAY": "http://firm.test", "CONFIRMNET_API_KEY": "cn_test"}


class FakeGateway:
    """An audit firm's gateway (member 2) that answers a few calls and records every request."""

    def __init__(self, *, letters: Sequence[str] = (), members: list[MemberOut] | None = None) -> None:
        self.letters = list(letters)
        self.members = members  # None: this key may not list members
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/v1/identity":
            identity = Identity(
                role="audit_firm",
                display_name="明鉴会计师事务所",
                registration_code="91310000MA1FL0TE5Q",
                account="0x" + "11" * 20,
                member_id=2,
                endpoint="http://firm.test",
                encryption_keys="0x",
                chain_id=31337,
                confirmation_registry="0x" + "22" * 20,
                member_registry="0x" + "33" * 20,
            )
            return httpx.Response(200, json=identity.model_dump(mode="json"))
        if path == "/v1/members":
            if self.members is None:
                error = {"code": "forbidden", "message": "user 'auditee' lacks the role 'auditor'"}
                return httpx.Response(403, json={"error": error})
            return httpx.Response(200, json=[m.model_dump(mode="json") for m in self.members])
        if path == "/v1/letters" and request.method == "GET":
            items = [_summary(letter_id) for letter_id in self.letters]
            page = LetterPage(items=items, total=len(items), offset=0, limit=200)
            return httpx.Response(200, json=page.model_dump(mode="json"))
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})


def _summary(letter_id: str) -> LetterSummary:
    return LetterSummary(
        letter_id=letter_id,
        confirmation_no=f"MJ-2025-{int(letter_id[-2:], 16):06d}",
        firm=2,
        bank=3,
        status="REQUESTED",
        overdue=True,
        due_at=1_767_196_799,
        letter_hash="0x" + "cd" * 32,
        reply_hash=None,
        has_letter=True,
        has_reply=False,
        reply_verified=False,
        reason=None,
        created_at=datetime(2025, 1, 6, 9, 30, tzinfo=UTC),
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeGateway]:
    def install(**kwargs: Any) -> FakeGateway:
        gateway = FakeGateway(**kwargs)

        def client(url: str, api_key: str) -> Client:
            return Client(url, api_key=api_key, transport=httpx.MockTransport(gateway.handle))

        monkeypatch.setattr(auditor_cli, "client", client)
        return gateway

    return install


def _text(output: str) -> str:
    """The output's words, out of rich's boxes and line breaks."""
    return " ".join(output.replace("│", " ").split())


def _member(member_id: int, role: str, status: str, name: str) -> MemberOut:
    return MemberOut(
        member_id=member_id,
        role=role,
        status=status,
        account="0x" + f"{member_id:02x}" * 20,
        org_id="0x" + "00" * 32,
        display_name=name,
        endpoint="",
    )


# --- malformed letter ids ----------------------------------------------------------------------------

MALFORMED = ["0x12", "0x" + "zz" * 32, "ab" * 32, "0x" + "ab" * 33]
COMMANDS: list[list[str]] = [
    ["show"],
    ["reply"],
    ["follow-up", GOOD],
    ["withdraw"],
    ["close", GOOD],
    ["authorisation-request", "--output", "bundle.json"],
    ["evidence", "--output", "evidence.json"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize("bad", MALFORMED, ids=["short", "not-hex", "no-0x", "long"])
def test_a_malformed_letter_id_is_a_usage_error_not_a_traceback(
    fake: Callable[..., FakeGateway], command: list[str], bad: str, tmp_path: Path
) -> None:
    gateway = fake()
    args = [str(tmp_path / a) if a.endswith(".json") else a for a in command]
    result = runner.invoke(app, ["auditor", *args, bad], env=ENV)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert f"{bad!r} is not a letter id" in _text(result.output)
    assert gateway.requests == []  # stopped before asking the gateway anything


def test_several_malformed_ids_are_named_together(fake: Callable[..., FakeGateway]) -> None:
    fake()
    result = runner.invoke(app, ["auditor", "withdraw", "0x1", GOOD, "nonsense"], env=ENV)
    assert result.exit_code == 2
    output = _text(result.output)
    assert "not letter ids" in output
    assert "'0x1'" in output
    assert "'nonsense'" in output


def test_upper_case_ids_are_letter_ids(fake: Callable[..., FakeGateway]) -> None:
    gateway = fake()
    result = runner.invoke(app, ["auditor", "show", GOOD.upper().replace("0X", "0x")], env=ENV)
    assert "is not a letter id" not in result.output
    assert [r.url.path for r in gateway.requests] == [f"/v1/letters/{GOOD}"]


# --- status: whole ids -------------------------------------------------------------------------------


def test_status_prints_whole_ids_into_a_file(fake: Callable[..., FakeGateway]) -> None:
    ids = ["0x" + f"{n:02x}" * 32 for n in range(1, 4)]
    fake(letters=ids)
    result = runner.invoke(app, ["auditor", "status"], env={**ENV, "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    lines = result.output.splitlines()
    for number, letter_id in enumerate(ids, start=1):
        # The 函证编号 people quote beside the id the chain knows, on the same line.
        assert any(letter_id in line and f"MJ-2025-{number:06d}" in line for line in lines), result.output
    assert "REQUESTED OVERDUE" in result.output


# --- the upload's dry run checks the banks ---------------------------------------------------------


def _sheet(path: Path, banks: list[int]) -> Path:
    """One letter (the template's rows) to each bank number, each with its own key."""
    rows = [
        {**row, "letter_key": f"L{n}", "bank_member_no": str(bank)}
        for n, bank in enumerate(banks)
        for row in template_rows()
    ]
    columns = list(dict.fromkeys(c for row in rows for c in row))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


NETWORK = [
    _member(1, "operator", "active", "中国银行业协会"),
    _member(2, "audit_firm", "active", "明鉴会计师事务所"),
    _member(3, "bank", "active", "东海银行"),
    _member(4, "bank", "suspended", "南湖银行"),
]


def test_dry_run_reports_each_letter_whose_bank_is_no_active_bank(
    fake: Callable[..., FakeGateway], tmp_path: Path
) -> None:
    fake(members=NETWORK)
    sheet = _sheet(tmp_path / "letters.csv", [3, 2, 4, 9])  # one letter each, a template's rows apiece
    firm, suspended, nobody = (2 + len(template_rows()) * n for n in (1, 2, 3))  # their first rows
    report = tmp_path / "report.csv"
    result = runner.invoke(
        app, ["auditor", "upload", str(sheet), "--dry-run", "--report", str(report)], env=ENV
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    with report.open(encoding="utf-8-sig") as handle:
        found = [r for r in csv.DictReader(handle) if r["verdict"] == "error"]
    assert {(int(r["row"]), r["column"]) for r in found} == {
        (firm, "bank_member_no"),
        (suspended, "bank_member_no"),
        (nobody, "bank_member_no"),
    }
    errors = {int(r["row"]): r["message"] for r in found}
    assert "an audit firm, not a bank" in errors[firm]
    assert "suspended" in errors[suspended]
    assert "no member 9" in errors[nobody]
    output = _text(result.output)
    assert "nothing was sent" in output
    assert "no member 9" in output


def test_dry_run_passes_letters_to_active_banks(fake: Callable[..., FakeGateway], tmp_path: Path) -> None:
    gateway = fake(members=NETWORK)
    result = runner.invoke(
        app, ["auditor", "upload", str(_sheet(tmp_path / "ok.csv", [3, 3])), "--dry-run"], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert "2 letters" in result.output
    assert "dry run: nothing sent" in result.output
    assert all(r.method == "GET" for r in gateway.requests)


def test_an_older_sheet_s_salt_column_is_ignored_and_said_so(
    fake: Callable[..., FakeGateway], tmp_path: Path
) -> None:
    fake(members=NETWORK)
    sheet = _sheet(tmp_path / "old.csv", [3])
    lines = sheet.read_text(encoding="utf-8-sig").splitlines()
    sheet.write_text(
        "\n".join([lines[0] + ",auditee_salt", *(line + ",0x" + "ab" * 32 for line in lines[1:])]) + "\n",
        encoding="utf-8-sig",
    )
    result = runner.invoke(app, ["auditor", "upload", str(sheet), "--dry-run"], env=ENV)
    assert result.exit_code == 0, result.output
    output = _text(result.output)
    assert "row 1, auditee_salt: ignored: the auditor gives no salt" in output
    assert "1 letters" in output


def test_dry_run_without_a_way_to_check_the_banks_says_so(
    fake: Callable[..., FakeGateway], tmp_path: Path
) -> None:
    fake(members=None)  # an auditee's key, say
    result = runner.invoke(
        app, ["auditor", "upload", str(_sheet(tmp_path / "x.csv", [3])), "--dry-run"], env=ENV
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "--rpc" in result.output


def test_the_member_registry_tells_active_banks_from_the_rest(deployment: Deployment) -> None:
    lookup = registry_lookup(deployment.chain.w3, deployment.network.members.address)
    assert lookup(deployment.bank.member_id) == MemberInfo("bank", "active", "bank")
    assert bank_problem(deployment.bank.member_id, lookup(deployment.bank.member_id)) is None
    firm = deployment.firm.member_id
    assert "audit firm, not a bank" in (bank_problem(firm, lookup(firm)) or "")
    assert lookup(deployment.members.member_count() + 1) is None
    closed = deployment.new_member(Role.BANK, "停业银行")
    deployment.send(deployment.operator, deployment.members.suspend(closed.member_id))
    assert "suspended" in (bank_problem(closed.member_id, lookup(closed.member_id)) or "")


def test_the_identity_fixture_matches_the_api() -> None:
    """The fake gateway's answers are the API's own models (a changed model fails here first)."""
    gateway = FakeGateway()
    answer = gateway.handle(httpx.Request("GET", "http://firm.test/v1/identity"))
    assert Identity.model_validate(json.loads(answer.content)).member_id == 2


def test_the_upload_checks_each_letter_s_format_against_its_bank_s_rules(
    fake: Callable[..., FakeGateway], tmp_path: Path
) -> None:
    """Bank 3 publishes that it takes format two only, bank 4 no rules: the template's format-one
    letter to bank 3 is reported beside its format, before anything is sent; the one to bank 4
    is left to the gateway."""
    gateway = fake(members=[*NETWORK[:3], _member(4, "bank", "active", "南湖银行")])
    rules = BankRules(
        bank_member_no=3,
        published_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        items=[ItemKey.DEPOSITS],
        formats=[LetterFormat.TWO],
        fee=Fee(),
        department="函证中心",
        contact=Contact(name="周敏"),
    )
    answer = gateway.handle

    def with_rules(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/banks/3/rules":
            gateway.requests.append(request)
            return httpx.Response(200, json=rules.model_dump(mode="json", by_alias=True))
        return answer(request)

    gateway.handle = with_rules  # type: ignore[method-assign]
    report = tmp_path / "report.csv"
    result = runner.invoke(
        app,
        ["auditor", "upload", str(_sheet(tmp_path / "x.csv", [3, 4, 3])), "--report", str(report)],
        env=ENV,
    )
    assert result.exit_code == 2, result.output
    with report.open(encoding="utf-8-sig") as handle:
        found = [r for r in csv.DictReader(handle) if r["verdict"] == "error"]
    first_rows = [2 + len(template_rows()) * n for n in (0, 2)]
    assert [(int(r["row"]), r["column"]) for r in found] == [(row, "letter_format") for row in first_rows]
    assert found[0]["message"] == (
        "bank 3 accepts letters in 格式二 (two) only (its published rules); this letter is 格式一 (one)"
    )
    assert "nothing was sent" in _text(result.output)
    assert all(r.method == "GET" for r in gateway.requests)  # nothing created
    asked = [r.url.path for r in gateway.requests if r.url.path.startswith("/v1/banks/")]
    assert asked == ["/v1/banks/3/rules", "/v1/banks/4/rules"]  # each bank once
