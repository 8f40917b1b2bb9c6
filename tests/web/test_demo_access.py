"""`make demo` prints where the operator's pages are, with a user and this run's password."""

from __future__ import annotations

from pathlib import Path


def test_the_demo_prints_the_operators_page_with_its_user(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from confirmnet.demo import members, print_access
    from confirmnet.launcher import LocalNetwork

    network = LocalNetwork(tmp_path, members(tmp_path), passphrase="unused")
    out = io.StringIO()
    print_access(Console(file=out, width=80), network, "a demo password")
    expected = (
        f"web pages: {network.operator.url}/web/ (the operator's), user admin, password a demo password"
    )
    assert expected in out.getvalue()
