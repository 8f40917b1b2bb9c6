"""Every role's pages at a tablet's width (768×1024, portrait) in headless Chromium, against the
integration harness's gateways on anvil (an operator, an audit firm, a bank, a regulator) with
letters in them (``season_network`` of this directory's conftest.py): the page body never scrolls
sideways (a wide table scrolls in its own box, the menu and the frame wrap), on the role's main
page, every other page of its menu and the first page its table links to (a letter's, a
member's). And the sign-in and the firm's letters by keyboard: every form control labelled, the
focus ring on every stop, signing in without a mouse. Writes ``docs/screenshots/tablet-firm.png``
(the firm's letters)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from integration.harness import Consortium

from ..conftest import PASSWORD, SCREENSHOTS, TIMEOUT_MS, add_user, sign_in
from .conftest import Season

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

    from confirmnet.launcher import Gateway

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

TABLET: ViewportSize = {"width": 768, "height": 1024}
# Each role's person and the main page signing in leads them to.
PEOPLE = {
    "operator": ("运营甲", "operator", "/web/operator/members"),
    "firm": ("审计甲", "auditor", "/web/firm/letters"),
    "bank": ("经办甲", "officer", "/web/bank/inbox"),
    "regulator": ("分析甲", "analyst", "/web/regulator/statistics"),
}

# The elements wider than the page's viewport (what a failure names), none inside a scrolling box.
OVERFLOWING = """() => {
  const width = document.scrollingElement.clientWidth;
  const clipped = (e) => { for (let p = e.parentElement; p; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; };
  return [...document.body.querySelectorAll('*')]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5 && !clipped(e))
    .slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
      + ' right=' + Math.round(e.getBoundingClientRect().right));
}"""


@pytest.fixture(scope="module")
def consortium(season_network: Season) -> Consortium:
    """Each role's person added to ``season_network`` (this directory's conftest.py), whose letters
    are in the bank's inbox and on the firm's list."""
    consortium = season_network.consortium
    for role, (name, user_role, _) in PEOPLE.items():
        add_user(getattr(consortium, role), name, user_role, season_network.password_file)
    return consortium


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def overflow(page: Page) -> list[str]:
    """Nothing when the page's body does not scroll sideways; else the elements that stick out."""
    scroll, client = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    if scroll <= client:
        return []
    found: list[str] = page.evaluate(OVERFLOWING)
    return [f"{scroll} > {client}", *found]


@pytest.mark.parametrize("role", PEOPLE)
def test_the_role_s_pages_fit_a_tablet(consortium: Consortium, tablet: Page, role: str) -> None:
    """The main page with its letters, then every other page of the menu and the first page its
    table links to."""
    from playwright.sync_api import expect

    gateway: Gateway = getattr(consortium, role)
    name, _, main = PEOPLE[role]
    sign_in(tablet, gateway, name)
    expect(tablet).to_have_url(gateway.url + main)
    expect(tablet.get_by_test_id("sync")).to_have_text("已同步", timeout=TIMEOUT_MS)
    expect(tablet.locator("main table").first).to_be_visible()
    tablet.wait_for_load_state("networkidle")
    assert overflow(tablet) == []
    menu = tablet.locator("nav.menu")
    assert menu.evaluate("(e) => e.scrollWidth <= e.clientWidth")  # the menu wraps, never clipped
    if role == "firm":
        tablet.screenshot(path=str(SCREENSHOTS / "tablet-firm.png"), full_page=True)

    others: list[str] = menu.locator("a").evaluate_all("(links) => links.map((a) => a.pathname)")
    details = tablet.locator("main table tbody a[href^='/web/']")  # a letter's, a member's page
    if role != "regulator":  # its statistics link nowhere
        others.append(details.first.evaluate("(a) => a.pathname"))
    overflowing = {}
    for path in others:
        if path not in (main, "/docs"):  # /docs: Swagger UI's own page
            tablet.goto(gateway.url + path)
            tablet.wait_for_load_state("networkidle")
            overflowing[path] = overflow(tablet)
    assert len(overflowing) >= 1  # at least "my account"
    assert {path: found for path, found in overflowing.items() if found} == {}


# Form controls without a name a screen reader can say (a label, aria-label or aria-labelledby).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((e) => e.type !== 'hidden' && !(e.labels && e.labels.length)
    && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map((e) => e.outerHTML.slice(0, 120))"""
# What the element with the keyboard's focus looks like: its tag and whether a ring shows.
FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), text: (e.textContent || e.name || '').trim().slice(0, 40),
          ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }"""


def tab_through(page: Page, stops: int) -> list[dict[str, Any]]:
    """The elements ``stops`` presses of Tab reach, each with whether its focus shows."""
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
    return [stop for stop in seen if stop["tag"] != "body"]  # body: the focus went to the browser


def test_the_sign_in_and_the_firm_s_letters_by_keyboard(consortium: Consortium, page: Page) -> None:
    from playwright.sync_api import expect

    firm = consortium.firm
    name, _, main = PEOPLE["firm"]
    page.goto(firm.url + "/web/sign-in")
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(FOCUSED) == {"tag": "input", "text": "name", "ring": True}  # autofocus
    stops = tab_through(page, 8)  # the password, the button, then round to the skip link, the frame
    assert [stop["text"] for stop in stops[:2]] == ["password", "登录"]
    assert "跳到正文" in [stop["text"] for stop in stops]
    assert all(stop["ring"] for stop in stops), stops
    # Signing in needs no mouse: the name has the focus, Tab to the password, Enter sends.
    page.goto(firm.url + "/web/sign-in")
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(firm.url + main)

    expect(page.locator("main table").first).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    stops = tab_through(page, 25)
    assert {"a", "button", "input", "select"} <= {stop["tag"] for stop in stops}
    assert all(stop["ring"] for stop in stops), [stop for stop in stops if not stop["ring"]]
