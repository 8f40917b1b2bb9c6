"""The regulator's pages without a browser, on a regulator's gateway over the in-process chain: the
statistics of hand-made chain events over a period (table, charts, export), the verification form
(CSRF, a document that is not JSON, a letter the chain does not know) and the contracts' check.
The browser test (test_regulator_browser.py) runs real letters end to end."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from gateway.api_apps import Gateway, client, gateway
from gateway.test_statistics import DAY, T, history

from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.web.regulator import duration
from web.test_pages import PASSWORD, _csrf, sign_in

if TYPE_CHECKING:
    from conftest import Chain, Deployment


@pytest.fixture(scope="module")
def deployment(in_process: Chain) -> Deployment:
    return in_process.deploy()


@pytest.fixture(scope="module")
def regulator(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    built = gateway(deployment, MemberRole.REGULATOR, tmp_path_factory.mktemp("web-regulator"))
    bank, other = deployment.bank.member_id, deployment.bank2.member_id
    with built.node.db.session() as session:
        create_user(session, MemberRole.REGULATOR, "analyst-li", {"analyst"}, password=PASSWORD)
        set_password(session, "analyst-li", PASSWORD, one_time=False)
        # T is 2023-11-15 06:13 in Beijing: two letters to one bank that day, one to the other
        # bank ten days later.
        session.add_all(
            [
                *history("A1", bank, due=T + 5 * DAY, LetterAuthorised=100, LetterReplied=700),
                *history("A2", bank, due=T + 5 * DAY, LetterAuthorised=100, LetterRejected=200),
                *history("B1", other, due=T + 20 * DAY, LetterAuthorised=10),
            ]
        )
        for row in history("B2", other, due=T + 20 * DAY, LetterAuthorised=10):
            row.block_timestamp += 10 * DAY
            session.add(row)
    yield built
    built.node.db.dispose()


def test_the_statistics_per_bank_over_a_period(regulator: Gateway, deployment: Deployment) -> None:
    http = sign_in(regulator, "analyst-li")
    bank, other = deployment.bank.member_id, deployment.bank2.member_id
    page = http.get("/web/regulator/statistics")
    assert page.status_code == 200
    assert "各银行回函统计" in page.text
    assert f'data-testid="received-{bank}">2<' in page.text
    assert f'data-testid="received-{other}">2<' in page.text
    assert f'data-testid="rate-{bank}">50.0%<' in page.text  # one replied, one rejected
    assert "10 分" in page.text  # the median reply time, 600 s
    assert page.text.count("<svg") == 4
    # The other bank's letters were authorised in November 2023 and never answered: overdue by the
    # statute, whatever the firm's due time.
    assert f'data-testid="overdue-{other}">2<' in page.text
    assert f'data-testid="rate-{other}">0.0%<' in page.text
    assert f'data-testid="notices-{bank}">100.0%<' in page.text  # rejected the day it arrived
    assert 'data-testid="total-notices">100.0%' in page.text
    reasons = page.text.split('data-testid="reasons"')[1].split("</section>")[0]
    assert "函证内容不完整" in reasons
    assert "100.0%" in reasons
    # ISO dates whatever the browser's locale: text inputs with a pattern, not type=date.
    assert 'name="from" value="" inputmode="numeric" pattern="\\d{4}-\\d{2}-\\d{2}"' in page.text
    assert 'type="date"' not in page.text
    assert http.get("/web/regulator/statistics?from=&to=").status_code == 200  # empty fields
    assert http.get("/web/regulator/statistics?from=2023/11/15").status_code == 422
    assert "<script" not in page.text.split("<main")[1]
    assert 'hx-trigger="every 5s"' in page.text

    one_day = http.get("/web/regulator/statistics?from=2023-11-15&to=2023-11-15&partial=1")
    assert f'data-testid="received-{other}">1<' in one_day.text
    assert "期间:2023-11-15 至 2023-11-15" in one_day.text
    assert "<html" not in one_day.text
    before = http.get("/web/regulator/statistics?from=2023-11-01&to=2023-11-14")
    assert "没有符合条件的行" in before.text
    assert "<svg" not in before.text
    backwards = http.get("/web/regulator/statistics?from=2023-11-15&to=2023-11-01")
    assert backwards.status_code == 422

    exported = http.get("/web/regulator/statistics?from=2023-11-15&to=2023-11-15&q=&export=csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["成员编号", "银行", "收到询证函"]
    assert "回函用时中位数(秒)" in rows[0]
    assert "回函率(%)" in rows[0]
    assert {row[0] for row in rows[1:]} == {str(bank), str(other)}
    xlsx = http.get("/web/regulator/statistics?export=xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_the_api_takes_the_same_period(regulator: Gateway, deployment: Deployment) -> None:
    api = client(regulator.app)
    api.headers["Authorization"] = f"Bearer {regulator.keys['analyst']}"
    other = deployment.bank2.member_id
    (stats,) = api.get(f"/v1/statistics?bank={other}&from=2023-11-15&to=2023-11-15").json()
    assert stats["letters_received"] == 1
    assert (stats["overdue"], stats["provisional"]) == (1, 0)
    summary = api.get("/v1/statistics/summary").json()
    assert summary["rejection_reasons"] == {"incomplete": 1}
    assert (summary["notices_on_time"], summary["notices_late"], summary["notice_timeliness"]) == (1, 0, 1.0)
    assert api.get("/v1/statistics/summary?from=2023-11-25").json()["letters_received"] == 1


def test_verify_needs_csrf_and_explains_what_it_found(regulator: Gateway) -> None:
    http = sign_in(regulator, "analyst-li")
    form = http.get("/web/regulator/verify")
    assert form.status_code == 200
    token = _csrf(form.text)
    refused = http.post("/web/regulator/verify", data={"kind": "reply", "document": "{}", "salt": "0x00"})
    assert refused.status_code == 403

    not_json = http.post(
        "/web/regulator/verify", data={"kind": "reply", "document": "not json", "csrf_token": token}
    )
    assert not_json.status_code == 422
    assert "the document is not JSON" in not_json.text
    invalid = http.post(
        "/web/regulator/verify",
        data={"kind": "letter", "document": '{"a": 1}', "salt": "0x" + "11" * 32, "csrf_token": token},
    )
    assert invalid.status_code == 200
    assert "核验未通过" in invalid.text
    assert "(invalid_document)" in invalid.text
    assert 'data-testid="check-document"' in invalid.text
    assert "格式:是否为所选类型的有效文件" in invalid.text


def test_the_deployed_contracts_are_this_networks(regulator: Gateway) -> None:
    page = sign_in(regulator, "analyst-li").get("/web/regulator/contracts")
    assert page.status_code == 200
    assert "合约可信" in page.text
    verifiers = (
        "contract.ERC7913P256Verifier",
        "contract.ERC7913WebAuthnVerifier",
        "contract.ERC7913RSAVerifier",
    )
    for name in (
        "chain_id",
        "contract.MemberRegistry",
        "contract.ConfirmationRegistry",
        *verifiers,
        "registry_link",
    ):
        assert f'data-testid="check-{name}"' in page.text
    assert "confirmnet verify contracts --rpc" in page.text


def test_without_a_session_the_pages_redirect_or_refuse(regulator: Gateway) -> None:
    anonymous = client(regulator.app)
    for path in ("/web/regulator/statistics", "/web/regulator/verify", "/web/regulator/contracts"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/web/sign-in?next=")
    assert anonymous.post("/web/regulator/verify", data={"kind": "reply"}).status_code == 401


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0 秒"),
        (59, "59 秒"),
        (600, "10 分"),
        (3_725, "1 小时 2 分"),
        (90_061, "1 天 1 小时"),
    ],
)
def test_durations_read_as_a_person_reads_them(seconds: int | None, text: str) -> None:
    def t(key: str, **values: int) -> str:
        unit = {"unit.d": "天", "unit.h": "小时", "unit.m": "分", "unit.s": "秒"}[key]
        return f"{values['n']} {unit}"

    assert duration(seconds, t) == text
