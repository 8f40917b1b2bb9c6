"""`make bench` in miniature: every measurement of bench.run on a few letters, through real gateway
processes on anvil (SQLite, then PostgreSQL stores) and on the in-process chain, with a soak of a
few seconds, so the benchmark cannot rot unnoticed. The figures themselves are not judged here
(machines here are shared and noisy); that they are real is: every letter closed on chain, a
latency per step, gas and bytes on chain, bytes in the stores, documents verified, memory sampled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bench.e2e import STEPS, Percentiles
from bench.run import Plan, main, print_table
from bench.scale import markdown, model
from bench.soak import slope_mib_per_minute
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
    assert slope_mib_per_minute([]) is None
    assert slope_mib_per_minute([(0.0, 100.0)]) is None
    # 60 MiB in the first half (warm-up), then 1 MiB every 30 s: 2 MiB a minute.
    series = [(0.0, 40.0), (30.0, 100.0), (60.0, 100.0), (90.0, 101.0), (120.0, 102.0)]
    slope = slope_mib_per_minute(series)
    assert slope is not None
    assert round(slope, 6) == 2.0


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """``make bench QUICK=1`` on a few letters, once for the module: its JSON and its plot."""
    tmp_path = tmp_path_factory.mktemp("bench")
    out, png = tmp_path / "quick.json", tmp_path / "plot.png"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("bench.run.QUICK", TINY)
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
    sustained = result["end_to_end_anvil"][-1]  # the largest load
    assert soaked["offered_letters_per_second"] < sustained["letters_per_second"]
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
