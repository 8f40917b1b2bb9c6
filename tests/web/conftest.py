"""A headless Chromium for the browser tests: Debian's ``chromium`` (``.ci/run`` installs it with
apt-get where it can), driven by Playwright for Python; never a browser Playwright downloads. The
tests skip, saying why, where no browser can be had."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from integration.flows import Customer, compose, new_auditee
from integration.harness import Consortium

from bank_adapter.core_sql import CoreBank
from bank_adapter.generator import dataset_from_letter
from confirmnet.launcher import CONFIRMNET, Gateway
from node_gateway.protocol.documents import ConfirmationLetter, LetterItems

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "web pages' password, for tests"
TIMEOUT_MS = 60_000  # a change goes through the outbox, the chain and the indexer, then a poll

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """$CONFIRMNET_CHROMIUM, else the first Chromium installed."""
    wanted = os.environ.get("CONFIRMNET_CHROMIUM")
    if wanted:
        return wanted if os.access(wanted, os.X_OK) else None
    found = next((path for path in CANDIDATES if os.access(path, os.X_OK)), None)
    return found or shutil.which("chromium")


# Per package, not per session: Playwright's event loop runs while it is open, and a worker that
# goes on to other directories (asyncio.run in the SDK's tests) needs it closed.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (the dev extra has it)")
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium: install Debian's `chromium` (apt-get install chromium; .ci/run does it as root) "
            "or set CONFIRMNET_CHROMIUM"
        )
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, headless=True)
        except Error as exc:
            pytest.skip(f"Chromium at {executable} does not start: {exc}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def add_user(gateway: Gateway, name: str, role: str, password_file: Path) -> None:
    """A user of the gateway who signs in to its pages with the password in ``password_file``,
    recorded as a person (a bank's replies name their officers by name and title)."""
    command = [*CONFIRMNET, "gateway", "add-user", "--config", str(gateway.config), "--name", name]
    command += ["--role", role, "--password-file", str(password_file)]
    command += ["--person", name, "--title", USER_TITLES.get(role, "职员")]
    subprocess.run(command, env=gateway.env(), check=True, capture_output=True)


# The titles the web tests' users hold (a bank's replies name their officers with them).
USER_TITLES = {"preparer": "对公业务经办", "reviewer": "运营主管", "officer": "函证岗"}


def sign_in(page: Page, gateway: Gateway, name: str, password: str = PASSWORD, then: str = "/web/") -> None:
    page.goto(gateway.url + then)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def letters_with_an_exception(
    consortium: Consortium, core_url: str
) -> tuple[Customer, ConfirmationLetter, ConfirmationLetter]:
    """An auditee of the bank and two letters to compose for it: ``changed``, whose first deposit's
    balance the core bank (loaded into ``core_url``) holds 100.00 lower, and ``clean``."""
    auditee = new_auditee(consortium, 1)
    clean = compose(consortium, auditee)
    core = CoreBank(core_url)
    core.load(dataset_from_letter(clean))
    core.dispose()
    deposits = list(clean.items.deposits.entries)
    first = deposits[0].model_copy(update={"balance": deposits[0].balance + Decimal("100.00")})  # type: ignore[operator]
    other = compose(consortium, auditee)
    items = other.items.model_dump() | {"deposits": {"entries": [first, *deposits[1:]]}}
    changed = other.model_copy(update={"items": LetterItems.model_validate(items)})
    return auditee, changed, clean
