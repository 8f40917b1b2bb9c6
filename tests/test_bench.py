"""`make bench` in miniature: every measurement of bench.run on a few letters, through real gateway
processes on anvil (SQLite, then PostgreSQL stores) and on the in-process chain, with a soak of a
few seconds, so the benchmark cannot rot unnoticed. The figures themselves are not judged here
(machines here are shared and noisy); that they are real is: every letter closed on chain, a
latency per step, gas and bytes on chain, bytes in the stores, documents verified, memory sampled."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from bench.e2e import STEPS, Backlog, Percentiles, RunResult
from bench.run import (
    FULL,
    QUICK,
    SOAK_RATE_SHARE,
    Plan,
    _soak_targets,
    _sustained,
    disk_short_of,
    main,
    print_table,
)
from bench.scale import markdown, model
from bench.soak import SoakResult, slope_per_minute
from tools.postgres_cluster import PostgresUnavailable, find_binaries

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

TINY = Plan(
    ceiling_letters=64,
    unloaded_letters=1,
    loads=[(20, 8), (None, 16)],
    verify_letters=8,
    in_process_letters=4,
    postgres_unloaded_letters=1,
    postgres_loads=[(None, 8)],
    soak_seconds=4.0,
    catch_up_letters=8,
)


def _postgresql_installed() -> str | None:
    """Why PostgreSQL's part cannot run here, or None."""
    try:
        find_binaries()
    except PostgresUnavailable as exc:
        return str(exc)
    return None


def test_percentiles_interpolate_between_ranks() -> None:
    assert Percentiles.of([]) is None
    one = Percentiles.of([3.0])
    assert one is not None
    assert (one.p50, one.p95, one.n) == (3.0, 3.0, 1)
    many = Percentiles.of([float(x) for x in range(1, 101)])
    assert many is not None
    assert (many.p50, round(many.p95, 2), many.n) == (50.5, 95.05, 100)


def test_a_memory_slope_is_fitted_over_the_second_half() -> None:
    assert slope_per_minute([]) is None
    assert slope_per_minute([(0.0, 100.0)]) is None
    # 60 MiB in the first half (warm-up), then 1 MiB every 30 s: 2 MiB a minute.
    series = [(0.0, 40.0), (30.0, 100.0), (60.0, 100.0), (90.0, 101.0), (120.0, 102.0)]
    slope = slope_per_minute(series)
    assert slope is not None
    assert round(slope, 6) == 2.0


def _soaked(rate: float, seconds: float, in_flight: list[int], injected_s: float | None = None) -> SoakResult:
    """A soak's result whose letters on their way were ``in_flight``, one sample every 5 s; the
    injectors done ``injected_s`` after the start (the schedule's ``seconds`` if None)."""
    letters = round(rate * seconds)
    injected = injected_s or seconds
    run = RunResult(
        offered=rate,
        letters=letters,
        closed=letters,
        injected_seconds=injected,
        seconds=injected + 10,
        closing_seconds=injected,
        chunk=10,
        step_samples={step: [] for step in STEPS},
        total_samples=[],
        gas_per_letter=0.0,
        gas_by_step={},
        transactions=0,
        calldata_bytes_per_letter=0.0,
        log_bytes_per_letter=0.0,
    )
    backlog = [(5.0 * i, Backlog(n, n // 2, 0)) for i, n in enumerate(in_flight)]
    return SoakResult(rate, seconds, 5.0, run, {"audit_firm gateway": [(0.0, 100.0)]}, backlog)


def test_a_soak_tells_a_growing_backlog_from_a_steady_one() -> None:
    # 40 letters/s for 300 s: at a steady rate the letters on their way hover around rate × latency
    # (here 160, as chunks come and close); the drain after the injection (t > 300) empties them.
    steady = [160 + (15 if i % 2 else -15) for i in range(61)] + [80, 0]
    assert _soaked(40, 300, steady).fell_behind is False
    # Falling behind by 4 letters a second (10 % of the rate): 240 more on their way each minute.
    growing = [160 + 20 * i for i in range(61)] + [600, 0]
    soaked = _soaked(40, 300, growing)
    assert soaked.fell_behind is True
    slopes = soaked.as_json()["backlog"]["slope_letters_per_minute_second_half"]
    assert slopes == {"in_flight": 240.0, "awaiting_close": 120.0, "untaken": 0.0}
    # Injectors behind the schedule send for 100 s after it, while the queues drain: the schedule's
    # second half is judged, not the injection's.
    assert _soaked(40, 300, [*growing[:61], *range(1300, 0, -65)], injected_s=400).fell_behind is True
    # Too short to tell a queue from the pipeline filling.
    assert _soaked(40, 30, growing[:7]).fell_behind is None


def test_the_sustained_rate_is_the_highest_load_whose_closes_kept_pace() -> None:
    def run(offered: float | None, letters: int, closed_per_s: float, closing_per_s: float) -> dict[str, Any]:
        return {
            "offered_letters_per_second": offered,
            "letters": letters,
            "letters_per_second": closed_per_s,
            "closing_letters_per_second": closing_per_s,
        }

    # As in the run of 2026-12-01: 80/s closed at 75.4/s while closing (behind), the burst at 91.5/s.
    runs = [
        run(10, 100, 9.9, 10.1),
        run(40, 320, 38.7, 39.9),
        run(80, 480, 69.9, 75.4),
        run(None, 1000, 91.5, 175.2),
    ]
    assert _sustained({"end_to_end_anvil": runs}) == (40, "offered 40/s, closed 39.9/s while closing")
    # No offered load kept pace: the largest run's closes over its whole time.
    assert _sustained({"end_to_end_anvil": [runs[2], runs[3]]}) == (
        91.5,
        "1000 letters closed at 91.5/s over their run",
    )


def test_memory_growth_while_the_soak_falls_behind_is_not_judged() -> None:
    def targets(fell_behind: bool | None, slope: float) -> dict[str, Any]:
        soaked = {
            "fell_behind": fell_behind,
            "backlog": {
                "slope_letters_per_minute_second_half": {"in_flight": 240.0, "awaiting_close": 120.0}
            },
            "memory_mib": {"audit_firm gateway": {"slope_mib_per_minute_second_half": slope}},
            "letters_lost_or_stuck": 0,
        }
        return {t["name"]: t["met"] for t in _soak_targets(soaked)}

    assert targets(True, 1.4) == {
        "soak_rate_sustained": False,
        "soak_gateway_memory_slope_mib_per_minute": None,
        "soak_letters_lost_or_stuck": True,
    }
    assert targets(True, 0.2)["soak_gateway_memory_slope_mib_per_minute"] is True
    assert targets(False, 1.4)["soak_gateway_memory_slope_mib_per_minute"] is False
    assert targets(None, 0.2)["soak_rate_sustained"] is None


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """``make bench QUICK=1`` on a few letters, once for the module: its JSON and its plot."""
    tmp_path = tmp_path_factory.mktemp("bench")
    out, png = tmp_path / "quick.json", tmp_path / "plot.png"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("bench.run.QUICK", TINY)
        # The closer reads the firm's replied letters in pages of 3: every letter closes only if
        # it follows the list's cursor from page to page.
        monkeypatch.setattr("bench.e2e.LIST_PAGE", 3)
        argv = ["--quick", "--out", str(out), "--plot", str(png), "--work-dir", str(tmp_path / "work")]
        assert main(argv) == 0
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result, png


def _each_letter_measured(measured: dict[str, Any]) -> None:
    assert measured["closed"] == measured["letters"] > 0
    assert measured["letters_per_second"] > 0
    assert measured["gas_per_letter"] > 100_000  # a request alone writes new storage slots
    assert measured["calldata_bytes_per_letter"] > 32  # a letter id at least
    assert measured["log_bytes_per_letter"] > 4 * (20 + 32)  # an event per step, its address and topics
    for step in STEPS:
        latency = measured["latency_seconds"][step]
        assert latency is not None
        assert 0 <= latency["p50"] <= latency["p95"]


def _stores_measured(loaded: dict[str, Any]) -> None:
    stored = loaded["database_bytes_per_letter"]
    assert set(stored) == {"audit_firm gateway", "bank gateway"}
    assert stored["bank gateway"] > 0  # the bank's compliance record, draft and reply at least
    assert loaded["cpu_ms_per_letter"]["bank gateway"] > 0


def test_a_tiny_run_measures_everything(tiny_run: tuple[dict[str, Any], Path]) -> None:
    result, png = tiny_run
    assert result["quick"] is True
    assert result["machine"]["cpus"] >= 1
    assert result["ceiling"]["letters"] == 64
    assert result["ceiling"]["letters_per_second"] > 0
    soaked = result["soak"]
    for measured in [
        result["unloaded"],
        *result["end_to_end_anvil"],
        soaked["run"],
        result["end_to_end_in_process"],
    ]:
        _each_letter_measured(measured)
    assert [r["offered_letters_per_second"] for r in result["end_to_end_anvil"]] == [20, None]
    assert all(r["ratio_to_ceiling"] > 0 for r in result["end_to_end_anvil"])
    for loaded in result["end_to_end_anvil"]:
        _stores_measured(loaded)
    # The soak: every letter closed, every process's memory sampled, a slope for each.
    assert soaked["letters_lost_or_stuck"] == 0
    assert soaked["letters_closed"] == soaked["letters_injected"] > 0
    assert soaked["run"]["cpu_ms_per_letter"]["bank gateway"] > 0
    sustained, basis = _sustained(result)
    assert soaked["offered_letters_per_second"] == round(SOAK_RATE_SHARE * sustained, 2)
    assert soaked["rate_from"] == basis
    memory = soaked["memory_mib"]
    assert {"driver", "anvil", "operator gateway", "audit_firm gateway", "bank gateway"} <= set(memory)
    for sampled in memory.values():
        assert len(sampled["series"]) >= 3
        assert 0 < sampled["first"] <= sampled["peak"]
        assert sampled["slope_mib_per_minute_second_half"] is not None
    caught = result["catch_up"]  # the bank back after the letters and an indexer range of blocks
    assert caught["closed_after_the_return"] == caught["letters"] == 8
    assert caught["blocks"] > caught["empty_range_blocks"] >= 20
    assert caught["events"] >= 2 * 8  # requested and authorised while it was away
    assert caught["catch_up_seconds"] > 0
    verified = result["verification"]
    assert verified["failures"] == 0
    assert verified["documents"] == 2 * verified["letters"] == 8 * 2
    pooled = verified["pool"]  # the same package checked by a process pool of every core
    assert (pooled["workers"], pooled["documents"], pooled["failures"]) == (result["machine"]["cpus"], 16, 0)
    targets = {t["name"]: t for t in result["targets"]}
    assert set(targets) >= {
        "e2e_letters_per_second",
        "e2e_share_of_ceiling",
        "postgresql_recorded",
        "unloaded_p95_seconds",
        "verified_documents_per_second",
        "verification_process_pool",
        "in_process_letters_per_second",
        "gas_per_letter_by_step",
        "soak_gateway_memory_slope_mib_per_minute",
        "soak_letters_lost_or_stuck",
    }
    assert targets["soak_letters_lost_or_stuck"]["met"] is True
    assert soaked["fell_behind"] is None  # a soak of seconds is all fill
    series = soaked["backlog"]["series"]
    assert max(in_flight for _, in_flight, _, _ in series) > 0  # sampled as they moved
    assert all(0 <= untaken <= in_flight for _, in_flight, _, untaken in series)
    assert png.read_bytes().startswith(b"\x89PNG")
    console = Console(record=True, width=200)
    print_table(result, console)
    printed = console.export_text()
    assert "End to end through the gateways" in printed
    season = model(result)  # SCALE.md's model from the run: each figure measured or derived
    assert all(f.how.startswith(("measured", "derived")) for f in season)
    assert markdown(season).count("\n") == len(season) + 1
    assert "Soak: resident memory" in printed
    assert "Targets (issue 15)" in printed


def test_the_tiny_run_with_postgresql_stores(tiny_run: tuple[dict[str, Any], Path]) -> None:
    result, _ = tiny_run
    postgresql = result["end_to_end_postgresql"]
    missing = _postgresql_installed()
    if missing is not None:
        assert postgresql == {"available": False, "reason": postgresql["reason"]}
        assert result["targets"][2] == {
            "name": "postgresql_recorded",
            "wanted": "recorded beside SQLite",
            "measured": f"not available: {postgresql['reason']}",
            "met": False,
        }
        pytest.skip(f"PostgreSQL is not installed; the bench records it as unavailable: {missing}")
    assert postgresql["available"] is True, postgresql.get("reason")
    assert postgresql["server"].startswith("postgres")
    for measured in [postgresql["unloaded"], *postgresql["runs"]]:
        _each_letter_measured(measured)
    for loaded in postgresql["runs"]:
        _stores_measured(loaded)
        assert loaded["cpu_ms_per_letter"]["postgresql server"] > 0
    assert {t["name"]: t["met"] for t in result["targets"]}["postgresql_recorded"] is True
    console = Console(record=True, width=200)
    print_table(result, console)
    assert "anvil, PostgreSQL" in console.export_text()


def test_a_soak_that_would_fill_the_disk_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bench.run.shutil.disk_usage", lambda _: SimpleNamespace(free=20e9))  # 20 GB
    short = disk_short_of(FULL, tmp_path)
    assert short is not None
    assert "--soak-seconds" in short
    assert str(tmp_path) in short
    assert disk_short_of(QUICK, tmp_path) is None  # a 30 s soak needs well under a GB
    assert main(["--out", str(tmp_path / "r.json")]) == 2
    assert not (tmp_path / "r.json").exists()
