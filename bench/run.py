"""``python -m bench.run``: every benchmark in one run on this machine; a JSON result and a table.

1. the ceiling: the same contract calls, bundled the same way, pre-signed and sent by one client
   straight to the anvil node the network uses;
2. end to end on anvil through real gateway processes: one letter at a time (unloaded), then at
   several offered loads, the last as fast as the driver can inject;
3. offline verification of evidence packages exported from the closed letters;
4. end to end on the in-process chain (gateways as threads in this process);
5. (not in ``--quick``) an idle network's CPU: the demo's seven gateways and anvil, no letter
   moving, over a minute (``bench.idle``).

``--quick`` runs each with fewer letters and loads (under two minutes); ``--plot`` draws
throughput and latency against offered load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.ceiling import CeilingResult, measure_ceiling
from bench.e2e import STEPS, BenchNetwork, Driver, Percentiles, RunResult, start_network, unloaded
from bench.idle import measure_idle
from bench.verify import VerifyResult, export_package, measure_verification, stop_gateways

TARGETS = {
    "e2e_letters_per_second": 200.0,
    "e2e_ratio_to_ceiling": 0.5,
    "unloaded_p95_seconds": 2.0,
    "verified_documents_per_second": 10_000.0,
    "in_process_letters_per_second": 10.0,
    "idle_percent_of_one_core": 2.0,
}
_AT_MOST = {"unloaded_p95_seconds", "idle_percent_of_one_core"}  # targets met at or below


@dataclass(frozen=True)
class Plan:
    ceiling_letters: int
    unloaded_letters: int
    loads: list[tuple[float | None, int]]  # (offered letters per second or None: as fast as it goes, letters)
    verify_letters: int
    in_process_letters: int
    idle_seconds: float = 0.0  # the idle network's window; 0: not measured


FULL = Plan(
    ceiling_letters=1000,
    unloaded_letters=12,
    loads=[(10, 100), (20, 200), (40, 320), (80, 480), (None, 1000)],
    verify_letters=1000,
    in_process_letters=120,
    idle_seconds=60.0,
)
QUICK = Plan(
    ceiling_letters=200,
    unloaded_letters=5,
    loads=[(20, 100), (None, 200)],
    verify_letters=150,
    in_process_letters=40,
)


# --- the machine ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "anvil": _anvil_version(),
        "load_average_at_start": list(os.getloadavg()),
    }


def _anvil_version() -> str:
    from node_gateway.chain.devnet import ANVIL

    try:
        return subprocess.run(
            [str(ANVIL), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "unknown"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes(bench: BenchNetwork) -> dict[str, int]:
    pids = {"driver": os.getpid()}
    anvil = getattr(bench.network.anvil, "_process", None)
    if anvil is not None:
        pids["anvil"] = anvil.pid
    for gateway in bench.network.gateways:
        if gateway.process is not None:
            pids[f"{gateway.role} gateway"] = gateway.process.pid
    return pids


# --- results as JSON --------------------------------------------------------------------------


def _percentiles(value: Percentiles | None) -> dict[str, float] | None:
    if value is None:
        return None
    return {"p50": round(value.p50, 4), "p95": round(value.p95, 4), "n": value.n}


def run_json(
    result: RunResult, ceiling: CeilingResult | None = None, cpu: dict[str, float] | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "offered_letters_per_second": result.offered,
        "letters": result.letters,
        "closed": result.closed,
        "seconds": round(result.seconds, 3),
        "letters_per_second": round(result.throughput, 2),
        "closing_letters_per_second": round(result.closing_rate, 2),
        "injected_letters_per_second": round(result.injected_rate, 2),
        "letters_per_chunk": result.chunk,
        "latency_seconds": {step: _percentiles(p) for step, p in result.steps.items()},
        "latency_seconds_whole_letter": _percentiles(result.total),
        "gas_per_letter": round(result.gas_per_letter),
        "gas_per_letter_by_transaction_kind": {k: round(v) for k, v in result.gas_by_step.items()},
        "transactions": result.transactions,
    }
    if ceiling is not None:
        found["ratio_to_ceiling"] = round(result.throughput / ceiling.letters_per_second, 4)
    if cpu is not None:
        found["cpu_ms_per_letter"] = {k: round(v * 1000 / max(1, result.letters), 2) for k, v in cpu.items()}
    return found


def _measured(
    bench: BenchNetwork, driver: Driver, letters: int, rate: float | None
) -> tuple[RunResult, dict[str, float]]:
    pids = _processes(bench)
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    result = driver.run(letters, rate=rate)
    return result, {name: _cpu_seconds(pid) - before[name] for name, pid in pids.items()}


# --- the run ----------------------------------------------------------------------------------


def run(plan: Plan, work: Path, console: Console) -> dict[str, Any]:
    started = time.monotonic()
    result: dict[str, Any] = {
        "command": "python -m bench.run " + " ".join(sys.argv[1:]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    passphrase = secrets.token_urlsafe(24)  # this run's only
    console.log("starting anvil, an operator, a firm and a bank (straight-through, with a core bank)")
    bench = start_network(work / "anvil", embedded=False, passphrase=passphrase)
    try:
        console.log(f"the ceiling: {plan.ceiling_letters} letters pre-signed, straight to anvil")
        ceiling = measure_ceiling(bench.w3, plan.ceiling_letters)
        result["ceiling"] = {
            "letters": ceiling.letters,
            "seconds": round(ceiling.seconds, 3),
            "letters_per_second": round(ceiling.letters_per_second, 1),
            "transactions": ceiling.transactions,
            "gas_per_letter": ceiling.gas_per_letter,
        }
        driver = Driver(bench)
        driver.run(20, rate=None)  # warm-up: connections, caches, the first blocks
        console.log(f"unloaded: {plan.unloaded_letters} letters one at a time")
        result["unloaded"] = run_json(unloaded(driver, plan.unloaded_letters))
        runs: list[dict[str, Any]] = []
        for rate, letters in plan.loads:
            console.log(
                f"end to end: {letters} letters offered at {rate or 'as fast as the driver goes'} per second"
            )
            measured, cpu = _measured(bench, driver, letters, rate)
            runs.append(run_json(measured, ceiling, cpu))
        result["end_to_end_anvil"] = runs
        closed = driver.closed_ids[-plan.verify_letters :]
        console.log(f"offline verification: the evidence of {len(closed)} closed letters")
        path = export_package(bench.firm, closed, work / "evidence.json")
        stop_gateways(bench)
        # One core (the target's figure), then a process pool over every core, on the same file.
        network_file = bench.network.network_file
        verified = measure_verification(path, bench.w3, network_file=network_file)
        pooled = measure_verification(path, bench.w3, network_file=network_file, workers=os.cpu_count() or 1)
        result["verification"] = {**_verify_json(verified), "pool": _verify_json(pooled)}
    finally:
        bench.stop()
    console.log(f"end to end on the in-process chain: {plan.in_process_letters} letters")
    embedded = start_network(work / "in-process", embedded=True, passphrase=passphrase)
    try:
        embedded_driver = Driver(embedded)
        embedded_driver.run(5, rate=None)
        in_process, _ = _measured(embedded, embedded_driver, plan.in_process_letters, None)
        result["end_to_end_in_process"] = run_json(in_process)
    finally:
        embedded.stop()
    if plan.idle_seconds:
        console.log(f"idle: the demo's network with no letter moving, {plan.idle_seconds:g} s")
        idle = measure_idle(work / "idle", window_s=plan.idle_seconds, passphrase=passphrase)
        result["idle"] = {"load_average": list(os.getloadavg()), **idle.as_json()}
    result["gas"] = _gas(result)
    result["targets"] = _targets(result)
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def _verify_json(verified: VerifyResult) -> dict[str, Any]:
    return {
        "workers": verified.workers,
        "letters": verified.letters,
        "documents": verified.documents,
        "seconds": round(verified.seconds, 4),
        "rounds_seconds": [round(x, 4) for x in verified.rounds],
        "load_seconds": round(verified.load_seconds, 4),
        "documents_per_second": round(verified.documents_per_second),
        "documents_per_second_once_loaded": round(verified.verifying_documents_per_second),
        "cpu_seconds": round(verified.cpu_seconds, 4),
        "documents_per_cpu_second": round(verified.documents_per_cpu_second),
        "failures": verified.failures,
    }


def _best(result: dict[str, Any]) -> dict[str, Any]:
    runs: list[dict[str, Any]] = result["end_to_end_anvil"]
    return max(runs, key=lambda r: r["letters_per_second"])


def _gas(result: dict[str, Any]) -> dict[str, Any]:
    bundled = _best(result)
    single = result["unloaded"]
    return {
        "per_letter_bundled": bundled["gas_per_letter"],
        "by_transaction_kind_bundled": bundled["gas_per_letter_by_transaction_kind"],
        "per_letter_one_letter_per_transaction": single["gas_per_letter"],
        "by_transaction_kind_one_letter_per_transaction": single["gas_per_letter_by_transaction_kind"],
        "ceiling_per_letter": result["ceiling"]["gas_per_letter"],
    }


def _targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    best = _best(result)
    whole = result["unloaded"]["latency_seconds_whole_letter"]
    measured = {
        "e2e_letters_per_second": best["letters_per_second"],
        "e2e_ratio_to_ceiling": best["ratio_to_ceiling"],
        "unloaded_p95_seconds": whole["p95"] if whole else None,
        "verified_documents_per_second": result["verification"]["documents_per_second"],
        "in_process_letters_per_second": result["end_to_end_in_process"]["letters_per_second"],
    }
    if "idle" in result:
        measured["idle_percent_of_one_core"] = result["idle"]["percent_of_one_core_total"]
    found = []
    for name, target in TARGETS.items():
        if name not in measured:
            continue
        value = measured[name]
        met = value is not None and (value <= target if name in _AT_MOST else value >= target)
        found.append({"name": name, "target": target, "measured": value, "met": met})
    return found


# --- the table and the plot -------------------------------------------------------------------


def _ms(p: dict[str, float] | None) -> str:
    return "–" if p is None else f"{p['p50'] * 1000:,.0f} / {p['p95'] * 1000:,.0f}"


def print_table(result: dict[str, Any], console: Console) -> None:
    m = result["machine"]
    console.print(
        f"[bold]{m['cpus']} × {m['cpu_model']}, {m['memory_gib']} GiB[/bold]  ({result['command']})"
    )
    c = result["ceiling"]
    console.print(
        f"ceiling: {c['letters_per_second']:,.0f} letters/s ({c['letters']} letters, {c['transactions']} transactions, "
        f"{c['gas_per_letter']:,} gas/letter)"
    )
    rows = [("unloaded", result["unloaded"])] + [("anvil", r) for r in result["end_to_end_anvil"]]
    rows.append(("in-process", result["end_to_end_in_process"]))
    throughput = Table(title="End to end through the gateways")
    for column in (
        "chain",
        "offered letters/s",
        "closed letters/s",
        "of the ceiling",
        "gas/letter",
        "transactions",
    ):
        throughput.add_column(column, justify="right")
    latency = Table(title="Latency, p50 / p95 (ms)")
    for column in ("chain", "offered", *STEPS, "whole letter"):
        latency.add_column(column, justify="right")
    for name, r in rows:
        offered_rate = r["offered_letters_per_second"]
        offered = (
            "1 at a time" if name == "unloaded" else "max" if offered_rate is None else f"{offered_rate:g}"
        )
        ratio = f"{r['ratio_to_ceiling']:.1%}" if "ratio_to_ceiling" in r else ""
        throughput.add_row(
            name,
            offered,
            f"{r['letters_per_second']:.1f}",
            ratio,
            f"{r['gas_per_letter']:,}",
            str(r["transactions"]),
        )
        latency.add_row(
            name,
            offered,
            *(_ms(r["latency_seconds"][step]) for step in STEPS),
            _ms(r["latency_seconds_whole_letter"]),
        )
    console.print(throughput)
    console.print(latency)
    v = result["verification"]
    for run in (v, v["pool"]):
        console.print(
            f"offline verification, {run['workers']} process(es): {run['documents_per_second']:,} documents/s "
            f"({run['documents_per_second_once_loaded']:,} once loaded; {run['documents']} documents, "
            f"{run['failures']} failures)"
        )
    idle = result.get("idle")
    if idle is not None:
        shares = ", ".join(f"{kind} {share:g} %" for kind, share in idle["percent_of_one_core"].items())
        console.print(
            f"idle network: {idle['percent_of_one_core_total']:g} % of one core over "
            f"{idle['window_seconds']:g} s ({shares})"
        )
    targets = Table(title="Targets")
    for column in ("target", "wanted", "measured", "met"):
        targets.add_column(column)
    for t in result["targets"]:
        targets.add_row(
            t["name"], f"{t['target']:g}", f"{t['measured']}", "yes" if t["met"] else "[red]no[/red]"
        )
    console.print(targets)


def plot(result: dict[str, Any], path: Path) -> None:
    """Throughput and latency against offered load (the unbounded run at its injected rate)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["end_to_end_anvil"]
    offered = [r["offered_letters_per_second"] or r["injected_letters_per_second"] for r in runs]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    left.plot(
        offered, [r["letters_per_second"] for r in runs], "o-", label="closed/s over the run's wall time"
    )
    left.plot(offered, [r["closing_letters_per_second"] for r in runs], "^--", label="closed/s while closing")
    top = max(offered) * 1.1
    left.plot([1, top], [1, top], ":", color="grey", label="closed = offered")
    left.axhline(
        result["ceiling"]["letters_per_second"],
        color="tab:red",
        linestyle="--",
        label="ceiling (anvil alone)",
    )
    left.axhline(TARGETS["e2e_letters_per_second"], color="tab:green", linestyle="-.", label="target")
    left.set_xlabel("offered load, letters/s (last point: as fast as the driver injects)")
    left.set_ylabel("letters/s (log)")
    left.set_yscale("log")
    left.legend(fontsize=7, loc="lower right")
    left.set_title("Throughput through the gateways (anvil)")
    unloaded_run = result["unloaded"]["latency_seconds_whole_letter"]
    right.plot(offered, [r["latency_seconds_whole_letter"]["p50"] for r in runs], "o-", label="p50")
    right.plot(offered, [r["latency_seconds_whole_letter"]["p95"] for r in runs], "s-", label="p95")
    right.plot([0], [unloaded_run["p95"]], "k*", markersize=10, label="p95 unloaded (one at a time)")
    right.axhline(
        TARGETS["unloaded_p95_seconds"], color="tab:green", linestyle="-.", label="unloaded p95 target"
    )
    right.set_xlabel("offered load, letters/s")
    right.set_ylabel("request → close, seconds")
    right.legend(fontsize=7)
    right.set_title("Latency of one whole letter")
    m = result["machine"]
    figure.suptitle(f"confirmnet on {m['cpus']} × {m['cpu_model']} ({result['started_at']})", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer letters and loads (under two minutes)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/latest.json"))
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG of throughput and latency")
    parser.add_argument("--work-dir", type=Path, default=None, help="where the networks keep their data")
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="confirmnet-bench-") as scratch:
        work = args.work_dir or Path(scratch)
        result = run(QUICK if args.quick else FULL, work, console)
    result["quick"] = args.quick
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(result, console)
    if args.plot is not None:
        plot(result, args.plot)
        console.print(f"plot: {args.plot}")
    console.print(f"result: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
