"""`make demo` prints every gateway's pages, with a user and this run's password."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from confirmnet.demo import members, print_access
from confirmnet.launcher import LocalNetwork


def test_the_demo_prints_each_gateways_pages_with_its_user(tmp_path: Path) -> None:
    network = LocalNetwork(tmp_path, members(tmp_path), passphrase="unused")
    passwords = {
        gateway.name: f"password of {gateway.role} {n}" for n, gateway in enumerate(network.gateways)
    }
    out = io.StringIO()
    print_access(Console(file=out, width=80), network, passwords)
    printed = out.getvalue()
    for gateway in network.gateways:
        assert f"{gateway.pages_origin}/web/" in printed
        assert passwords[gateway.name] in printed
    assert printed.count("user admin") == len(network.gateways)
