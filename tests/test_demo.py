"""`confirmnet demo`, run to completion without a person, on the in-process chain (on anvil:
test_demo_anvil.py, a file of its own so that two workers share the seasons); its summary is
checked against what the chain and the gateways report. Its table of URLs and API keys is whole
also in a file. (Stopped by SIGTERM: test_demo_sigterm.py.)"""

from __future__ import annotations

import io
import secrets
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from confirmnet.demo import DemoSummary, members, print_access, run_demo
from confirmnet.launcher import LocalNetwork
from node_gateway.chain.contracts import LetterStatus
from node_gateway.chain.network import Network, NetworkFile


def _check(network: LocalNetwork, summary: DemoSummary) -> None:
    assert network.w3 is not None
    chain = Network.attach(network.w3, NetworkFile.load(network.network_file))
    events = chain.confirmations.get_events(chain.deployment_block)
    requested = [e.args["letterId"] for e in events if e.name == "LetterRequested"]
    statuses = Counter(chain.confirmations.get_letter(letter_id).status.name for letter_id in requested)
    assert summary.letters == len(requested)
    assert summary.by_status == dict(statuses)
    assert summary.replied == sum(1 for e in events if e.name == "LetterReplied")
    assert statuses[LetterStatus.REJECTED.name] == 1
    assert statuses[LetterStatus.WITHDRAWN.name] == 1
    assert statuses[LetterStatus.REFUSED.name] == 1
    overdue = sum(chain.confirmations.is_overdue(letter_id) for letter_id in requested)
    assert summary.overdue == overdue > 0
    assert 0 < summary.exceptions < summary.replied
    assert summary.capital_confirmed == 1  # the season's 验资 letter, answered from the core's credits
    regulator = network.by_role("regulator")[0]
    with regulator.client("analyst") as client:
        stats = client.get("/v1/statistics/summary").json()
    assert stats["letters_received"] == summary.letters
    assert stats["reply_rate"] == summary.reply_rate
    firms_total = 0
    for firm in network.by_role("audit_firm"):
        with firm.client("auditor") as client:
            firms_total += client.get("/v1/letters", params={"limit": 1}).json()["total"]
    assert firms_total == summary.letters
    assert summary.verified_letters > 0
    assert summary.verification_failures == 0
    # where the time went, as the demo prints it: every phase, each ended after it began
    phases = summary.phases
    assert {"starting the network", "auditees authorise (one signature per group)"} <= set(phases)
    assert {"firms check the replies and close", "auditors follow up the overdue letters"} <= set(phases)
    assert all(0 <= began <= ended for began, ended in phases.values()), phases


def run_a_season(tmp_path: Path, *, embedded: bool) -> None:
    """Runs the demo's season to its end, on the in-process chain if ``embedded``, and checks it."""
    checked: list[DemoSummary] = []

    def inspect(network: LocalNetwork, summary: DemoSummary) -> None:
        _check(network, summary)
        checked.append(summary)

    summary = run_demo(
        tmp_path / "demo",
        letters=24,
        embedded=embedded,
        keep_running=False,
        console=Console(quiet=True),
        inspect=inspect,
    )
    assert checked == [summary]
    assert (tmp_path / "demo" / "summary.json").exists()


@pytest.mark.slow
def test_demo_runs_a_season_to_the_end_in_process(tmp_path: Path) -> None:
    run_a_season(tmp_path, embedded=True)


def test_the_key_table_is_whole_in_a_file(tmp_path: Path) -> None:
    network = LocalNetwork(tmp_path, members(tmp_path), passphrase="unused")
    for gateway in network.gateways:
        gateway.api_keys = {
            user: f"cn_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}" for user in ("officer", "reviewer")
        }
    out = io.StringIO()
    print_access(Console(file=out, width=80), network)  # what rich assumes for a file
    lines = out.getvalue().splitlines()
    assert "…" not in out.getvalue()
    for gateway in network.gateways:
        assert any(gateway.url in line for line in lines)
        for user, key in gateway.api_keys.items():
            assert any(f"{user}: {key}" in line for line in lines), out.getvalue()
    assert any(str(network.network_file) in line for line in lines)
