"""The soak: letters at a sustained rate for minutes, every process's memory sampled throughout.

The rate is just under what the run's largest load sustained before it (``bench.run``), so that
memory that grows is not a queue filling. Every few seconds the resident
memory (``VmRSS`` in ``/proc/PID/status``) of the driver, anvil and each gateway is noted; a
process's growth is the least-squares slope of its second half, in MiB a minute (the first half
holds the caches' and pools' warm-up). At the same moments the letters on their way (offered by
the schedule and not closed on chain, those still waiting for the firm to take them included;
replied and not closed): if those grow over the injection's second half the network did not
sustain the rate, and a gateway's growing memory may be that queue rather than a leak. At the end the driver waits for the letters' closes for as long as the chain moves; whatever
is not closed then is lost or stuck.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.e2e import Backlog, Driver, RunResult

SAMPLE_S = 5.0  # at most; a short soak samples more often, for enough points in its second half
# The network fell behind when its letters on their way grew by more than this share of the offered
# rate over the injection's second half (at a sustained rate they hold at rate × latency).
FALLING_BEHIND_SHARE = 0.05
# A second half shorter than this still holds the pipeline's fill: the backlog's trend is not judged.
JUDGED_HALF_S = 60.0


def rss_mib(pid: int) -> float | None:
    """The resident memory of a process in MiB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def slope_per_minute(series: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of the series' second half (seconds, a value), per minute."""
    if not series:
        return None
    middle = series[0][0] + (series[-1][0] - series[0][0]) / 2
    half = [(t, value) for t, value in series if t >= middle]
    if len(half) < 2 or half[0][0] == half[-1][0]:
        return None
    fitted = statistics.linear_regression([t for t, _ in half], [value for _, value in half])
    return fitted.slope * 60


class MemorySampler:
    """Samples the resident memory of named processes every ``every_s`` in a thread of its own, and
    with it ``backlog``'s letters on their way."""

    def __init__(
        self, processes: dict[str, int], every_s: float, backlog: Callable[[], Backlog | None] = lambda: None
    ) -> None:
        self.processes = processes
        self.every_s = every_s
        self.backlog = backlog
        self.series: dict[str, list[tuple[float, float]]] = {name: [] for name in processes}
        self.backlog_series: list[tuple[float, Backlog]] = []
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.sample()  # the end's figure

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

    def sample(self) -> None:
        at = time.monotonic() - self._started
        for name, pid in self.processes.items():
            mib = rss_mib(pid)
            if mib is not None:
                self.series[name].append((round(at, 2), round(mib, 2)))
        backlog = self.backlog()
        if backlog is not None:
            self.backlog_series.append((round(at, 2), backlog))


@dataclass(frozen=True)
class SoakResult:
    rate: float  # offered letters per second
    seconds: float  # the injection's planned length
    sample_s: float
    run: RunResult
    memory: dict[str, list[tuple[float, float]]]  # process → (seconds from the start, MiB)
    backlog: list[tuple[float, Backlog]]  # (seconds from the start, the letters on their way)

    def _injecting(self, of: Callable[[Backlog], int]) -> list[tuple[float, float]]:
        """A backlog figure while the schedule offered letters: after it the queues drain, even
        while injectors behind the schedule still send."""
        return [(t, float(of(b))) for t, b in self.backlog if t <= self.seconds]

    @property
    def backlog_slopes(self) -> dict[str, float | None]:
        """The growth of the letters on their way over the injection's second half, letters a minute."""
        return {
            "in_flight": slope_per_minute(self._injecting(lambda b: b.in_flight)),
            "awaiting_close": slope_per_minute(self._injecting(lambda b: b.awaiting_close)),
            "untaken": slope_per_minute(self._injecting(lambda b: b.untaken)),
        }

    @property
    def fell_behind(self) -> bool | None:
        """Whether the letters on their way grew over the injection's second half faster than
        ``FALLING_BEHIND_SHARE`` of the rate; None: too short a soak to tell from the fill."""
        slope = self.backlog_slopes["in_flight"]
        if slope is None or self.seconds / 2 < JUDGED_HALF_S:
            return None
        return slope / 60 > FALLING_BEHIND_SHARE * self.rate

    @property
    def lost(self) -> int:
        """Letters injected and not closed once the chain stopped moving."""
        return self.run.letters - self.run.closed

    @property
    def slopes(self) -> dict[str, float | None]:
        return {name: slope_per_minute(series) for name, series in self.memory.items()}

    def as_json(self) -> dict[str, Any]:
        slopes = {name: None if slope is None else round(slope, 3) for name, slope in self.slopes.items()}
        return {
            "offered_letters_per_second": round(self.rate, 2),
            "planned_seconds": self.seconds,
            "sample_seconds": self.sample_s,
            "letters_injected": self.run.letters,
            "letters_closed": self.run.closed,
            "letters_lost_or_stuck": self.lost,
            "fell_behind": self.fell_behind,
            "backlog": {
                "slope_letters_per_minute_second_half": {
                    name: None if slope is None else round(slope, 1)
                    for name, slope in self.backlog_slopes.items()
                },
                "series": [[t, b.in_flight, b.awaiting_close, b.untaken] for t, b in self.backlog],
            },
            "memory_mib": {
                name: {
                    "first": series[0][1] if series else None,
                    "last": series[-1][1] if series else None,
                    "peak": max((mib for _, mib in series), default=None),
                    "slope_mib_per_minute_second_half": slopes[name],
                    "series": series,
                }
                for name, series in self.memory.items()
            },
        }


def soak(driver: Driver, rate: float, seconds: float) -> SoakResult:
    """``rate`` letters a second for ``seconds``, then the drain; memory sampled throughout."""
    sample_s = min(SAMPLE_S, max(0.5, seconds / 40))
    letters = max(1, round(rate * seconds))
    with MemorySampler(driver.bench.processes(), sample_s, driver.backlog) as sampler:
        run = driver.run(letters, rate=rate)
    return SoakResult(rate, seconds, sample_s, run, sampler.series, sampler.backlog_series)
