"""The pages' colours against WCAG 2.1 AA, computed from the shared sheet's variables
(node_gateway/web/static/app.css): 4.5:1 for text on the grounds it is set on, 3:1 for the edges of
controls and for the focus ring (one of its two rings on each ground)."""

from __future__ import annotations

import re

import pytest

from node_gateway.web.pages import STATIC

TEXT, NON_TEXT = 4.5, 3.0

# (foreground, background, minimum): every pair the sheet sets text or a control's edge on.
PAIRS = [
    ("ink", "paper", TEXT),
    ("ink", "ground", TEXT),
    ("ink", "head-bg", TEXT),  # table headings
    ("ink", "warn-bg", TEXT),  # a secret to copy
    ("muted", "paper", TEXT),
    ("muted", "ground", TEXT),
    ("muted", "none-bg", TEXT),
    ("brand", "paper", TEXT),  # links
    ("brand", "ground", TEXT),
    ("brand-ink", "brand", TEXT),  # the frame, primary buttons
    ("brand-ink", "brand-hover", TEXT),
    ("brand-muted", "brand", TEXT),
    ("bad", "paper", TEXT),  # danger buttons
    ("ok", "ok-bg", TEXT),
    ("warn", "warn-bg", TEXT),
    ("bad", "bad-bg", TEXT),
    ("info", "info-bg", TEXT),
    ("control-line", "paper", NON_TEXT),
    ("focus-ring", "paper", NON_TEXT),
    ("focus-ring", "ground", NON_TEXT),
    ("focus", "brand", NON_TEXT),  # the frame's links and buttons
]


def variables() -> dict[str, str]:
    sheet = (STATIC / "app.css").read_text(encoding="utf-8")
    root = re.search(r":root\s*\{(.*?)\}", sheet, re.S)
    assert root, "no :root block in app.css"
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\b", root.group(1)))


def luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_formula_on_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just under AA


@pytest.mark.parametrize(("foreground", "background", "minimum"), PAIRS, ids=lambda v: str(v))
def test_colour_pairs_meet_aa(foreground: str, background: str, minimum: float) -> None:
    colours = variables()
    ratio = contrast(colours[foreground], colours[background])
    assert ratio >= minimum, f"--{foreground} on --{background}: {ratio:.2f}:1 < {minimum}:1"
