"""The pages' vendored browser assets are the pinned npm packages' files, byte for byte (as the
committed contract artifacts are the pinned compiler's output): ``make web-assets`` copies them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.web_assets import ASSETS, LICENCES, NODE_MODULES, ROOT, VENDOR


@pytest.mark.parametrize("name", sorted({**ASSETS, **LICENCES}))
def test_the_vendored_asset_equals_the_pinned_package(name: str) -> None:
    source = NODE_MODULES / {**ASSETS, **LICENCES}[name]
    if not NODE_MODULES.is_dir():
        pytest.skip("node_modules is missing; run `make setup`")
    assert (VENDOR / name).read_bytes() == source.read_bytes(), f"run `make web-assets` ({name})"


def test_the_packages_are_pinned_exactly() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    for package in ("htmx.org", "swagger-ui-dist"):
        assert pinned[package][0].isdigit(), f"{package} is pinned to an exact version"
        installed = NODE_MODULES / package / "package.json"
        if installed.exists():
            assert json.loads(installed.read_text())["version"] == pinned[package]


def test_the_vendored_assets_ship_with_the_package() -> None:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["node_gateway.web"]
    web = ROOT / "node_gateway" / "web"
    shipped = {path for pattern in patterns for path in web.glob(pattern) if path.is_file()}
    assert {VENDOR / name for name in ASSETS} <= shipped
    assert {web / "static" / "app.css", web / "templates" / "base.html"} <= shipped
    assert all(Path(path).is_file() for path in shipped)
