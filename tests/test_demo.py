"""`confirmnet demo`, run to completion without a person, on the in-process chain and on anvil;
its summary is checked against what the chain and the gateways report. Stopped by SIGTERM, it
leaves nothing running; its table of URLs and API keys is whole also in a file."""

from __future__ import annotations

import io
import os
import secrets
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from confirmnet.demo import DemoSummary, members, print_access, run_demo
from confirmnet.launcher import CONFIRMNET, LocalNetwork, cpu_ticks, wait_until
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


@pytest.mark.slow
@pytest.mark.parametrize(
    "embedded", [True, pytest.param(False, marks=pytest.mark.anvil)], ids=["in_process", "anvil"]
)
def test_demo_runs_a_season_to_the_end(tmp_path: Path, embedded: bool) -> None:
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


def _alive(pid: int) -> bool:
    """Running, not gone and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(parent: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _running(pids: set[int]) -> frozenset[int]:
    return frozenset(pid for pid in pids if _alive(pid))


@pytest.mark.slow
@pytest.mark.anvil
def test_sigterm_stops_the_demo_and_everything_it_started(tmp_path: Path) -> None:
    """What a service manager or ``kill`` sends: the demo stops its network, anvil included."""
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        demo = subprocess.Popen(
            [*CONFIRMNET, "demo", "--data-dir", str(tmp_path / "demo"), "--letters", "20"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started: set[int] = set()

    def up() -> bool:
        assert demo.poll() is None, log_path.read_text()
        return len(_children(demo.pid)) == 8  # anvil and seven gateways

    def busy() -> object:  # the demo and whatever it started, at work
        return sorted((pid, cpu_ticks(pid)) for pid in {demo.pid, *_children(demo.pid)})

    try:
        wait_until(up, 120, "the demo's chain and gateways", progress=busy)
        started = _children(demo.pid)
        demo.send_signal(signal.SIGTERM)
        wait_until(
            lambda: demo.poll() is not None and not _running(started),
            60,
            "the demo and its processes to end",
            progress=lambda: (_running(started), cpu_ticks(demo.pid)),
        )
    finally:
        demo.kill()
        for pid in _running(started):
            os.kill(pid, signal.SIGKILL)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()
