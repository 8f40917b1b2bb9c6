"""Copies the pages' browser assets from the pinned npm packages into the package, byte for byte.

Build tooling, like ``compile_contracts.py``: run as ``python -m tools.web_assets`` (``make
web-assets``) after ``npm ci``. htmx, Swagger UI and js-sha3 (keccak-256) are pinned in ``package.json`` (exact versions,
``package-lock.json`` holds their integrity hashes) and copied into ``node_gateway/web/static/vendor``,
which is committed and shipped as package data: a gateway serves them itself and loads nothing
from a CDN (banks run it on closed networks). ``tests/web/test_assets.py`` checks the copies
against ``node_modules``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "node_gateway" / "web" / "static" / "vendor"

# The copied file's name -> its source in node_modules.
ASSETS: dict[str, str] = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
    # keccak-256 for the signing page, which recomputes the letters' hashes and the Merkle root.
    "sha3.min.js": "js-sha3/build/sha3.min.js",
}
# Their licences travel with them.
LICENCES: dict[str, str] = {
    "htmx.LICENSE": "htmx.org/LICENSE",
    "swagger-ui.LICENSE": "swagger-ui-dist/LICENSE",
    "swagger-ui.NOTICE": "swagger-ui-dist/NOTICE",
    "js-sha3.LICENSE": "js-sha3/LICENSE.txt",
}


def main() -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, source in {**ASSETS, **LICENCES}.items():
        shutil.copyfile(NODE_MODULES / source, VENDOR / name)
        print(f"{source} -> {(VENDOR / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
