"""`make bench` in miniature: every measurement of bench.run on a few letters, through real gateway
processes on anvil and on the in-process chain, so the benchmark cannot rot unnoticed. The figures
themselves are not judged here (machines here are shared and noisy); that they are real is: every
letter closed on chain, a latency per step, gas spent, documents verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.e2e import STEPS, Percentiles
from bench.run import Plan, main, print_table

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

TINY = Plan(
    ceiling_letters=64,
    unloaded_letters=1,
    loads=[(20, 8), (None, 16)],
    verify_letters=8,
    in_process_letters=4,
)


def test_percentiles_interpolate_between_ranks() -> None:
    assert Percentiles.of([]) is None
    one = Percentiles.of([3.0])
    assert one is not None
    assert (one.p50, one.p95, one.n) == (3.0, 3.0, 1)
    many = Percentiles.of([float(x) for x in range(1, 101)])
    assert many is not None
    assert (many.p50, round(many.p95, 2), many.n) == (50.5, 95.05, 100)


def test_a_tiny_run_measures_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bench.run.QUICK", TINY)
    out, png = tmp_path / "quick.json", tmp_path / "plot.png"
    assert main(["--quick", "--out", str(out), "--plot", str(png), "--work-dir", str(tmp_path / "work")]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["quick"] is True
    assert result["machine"]["cpus"] >= 1
    assert result["ceiling"]["letters"] == 64
    assert result["ceiling"]["letters_per_second"] > 0
    runs = [result["unloaded"], *result["end_to_end_anvil"], result["end_to_end_in_process"]]
    for measured in runs:
        assert measured["closed"] == measured["letters"] > 0
        assert measured["letters_per_second"] > 0
        assert measured["gas_per_letter"] > 100_000  # a request alone writes four storage slots
        for step in STEPS:
            latency = measured["latency_seconds"][step]
            assert latency is not None
            assert 0 <= latency["p50"] <= latency["p95"]
    assert [r["offered_letters_per_second"] for r in result["end_to_end_anvil"]] == [20, None]
    assert all(r["ratio_to_ceiling"] > 0 for r in result["end_to_end_anvil"])
    verified = result["verification"]
    assert verified["failures"] == 0
    assert verified["documents"] == 2 * verified["letters"] == 8 * 2
    pooled = verified["pool"]  # the same package checked by a process pool of every core
    assert (pooled["workers"], pooled["documents"], pooled["failures"]) == (result["machine"]["cpus"], 16, 0)
    assert {t["name"] for t in result["targets"]} >= {"e2e_letters_per_second", "unloaded_p95_seconds"}
    assert png.read_bytes().startswith(b"\x89PNG")
    console = Console(record=True, width=200)
    print_table(result, console)
    assert "End to end through the gateways" in console.export_text()
