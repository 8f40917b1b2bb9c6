"""A headless Chromium for the browser tests: Debian's ``chromium`` (``.ci/run`` installs it with
apt-get where it can), driven by Playwright for Python; never a browser Playwright downloads. The
tests skip, saying why, where no browser can be had."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """$CONFIRMNET_CHROMIUM, else the first Chromium installed."""
    wanted = os.environ.get("CONFIRMNET_CHROMIUM")
    if wanted:
        return wanted if os.access(wanted, os.X_OK) else None
    found = next((path for path in CANDIDATES if os.access(path, os.X_OK)), None)
    return found or shutil.which("chromium")


@pytest.fixture(scope="session")
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
