"""``python -m bench.scale RESULT.json``: the model of a national season (docs/SCALE.md) from the
figures of one ``make bench`` run, as a Markdown table. Every figure says whether the run measured
it or the model derived it, and from what."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The season (docs/SCALE.md says where each comes from).
LETTERS_PER_YEAR = 10_000_000
SEASON_SHARE = 0.8  # of the year's letters, January to April
SEASON_WORKING_DAYS = 80  # January to April, less the Spring Festival
WORKING_HOURS = 8
PEAK_TO_AVERAGE = 4.0  # the busiest hour against the season's average working hour
BANKS, FIRMS = 4_000, 9_000
TOP_THREE_SHARE = 0.82
LARGEST_BANK_SHARE = 0.40  # sized for; the top three's average is 27 %
# The chain: QBFT, four validators.
BLOCK_GAS = 100_000_000
BLOCK_SECONDS = 2
VALIDATORS = 4
EVENTS_PER_LETTER = 5  # requested, authorised, accepted, replied, closed
# Bytes the node keeps beyond what the run measures (derived, not measured here).
HEADER_BYTES = 508 + 32 + 20 * VALIDATORS + 65 * VALIDATORS + 16  # RLP header, QBFT extra data
TRANSACTION_ENVELOPE_BYTES = 110  # nonce, gas, fees, to, value, chain id, signature
RECEIPT_BYTES = 256 + 40  # logs bloom, status, cumulative gas, beside the logs
STATE_BYTES_PER_SLOT = 100  # a slot's key and value with its share of the trie's nodes
NEW_SLOTS_PER_LETTER = 4  # status word, letter hash, auditee reference, reply hash
YEAR_S = 365 * 86_400
DAY_BLOCKS = 86_400 // BLOCK_SECONDS


@dataclass(frozen=True)
class Figure:
    what: str
    value: str
    how: str  # "measured: …" or "derived: …"


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return max(runs, key=lambda r: r["letters_per_second"])


def model(result: dict[str, Any]) -> list[Figure]:
    sqlite = _best(result["end_to_end_anvil"])
    postgresql = result["end_to_end_postgresql"]
    large = _best(postgresql["runs"]) if postgresql["available"] else sqlite
    store = "PostgreSQL" if postgresql["available"] else "SQLite"
    cpu_all = sum(sqlite["cpu_ms_per_letter"].values())
    operator_cpu = sqlite["cpu_ms_per_letter"]["operator gateway"]
    bank_cpu = large["cpu_ms_per_letter"]["bank gateway"] + large["cpu_ms_per_letter"].get(
        "postgresql server", 0
    )
    gas_bundled = sqlite["gas_per_letter"]
    gas_single = result["unloaded"]["gas_per_letter"]
    calldata, logs = sqlite["calldata_bytes_per_letter"], sqlite["log_bytes_per_letter"]
    transactions_per_letter = sqlite["transactions"] / sqlite["letters"]
    bank_bytes = large["database_bytes_per_letter"]["bank gateway"]
    firm_bytes = large["database_bytes_per_letter"]["audit_firm gateway"]
    caught = result["catch_up"]

    season = LETTERS_PER_YEAR * SEASON_SHARE
    average = season / (SEASON_WORKING_DAYS * WORKING_HOURS * 3600)
    peak = average * PEAK_TO_AVERAGE
    bank_peak = peak * LARGEST_BANK_SHARE
    gas_block = peak * BLOCK_SECONDS * gas_bundled
    gas_block_single = peak * BLOCK_SECONDS * gas_single
    per_letter_chain = (
        calldata
        + logs
        + transactions_per_letter * (TRANSACTION_ENVELOPE_BYTES + RECEIPT_BYTES)
        + NEW_SLOTS_PER_LETTER * STATE_BYTES_PER_SLOT
    )
    letters_growth = LETTERS_PER_YEAR * per_letter_chain
    headers_growth = YEAR_S / BLOCK_SECONDS * HEADER_BYTES
    bank_year = LETTERS_PER_YEAR * LARGEST_BANK_SHARE
    bank_day = season * LARGEST_BANK_SHARE / SEASON_WORKING_DAYS
    day_events = season / SEASON_WORKING_DAYS * EVENTS_PER_LETTER  # every bank's: its indexer reads them all
    events_per_s = caught["events_per_second"] or 0
    empty_rounds = DAY_BLOCKS / caught["empty_range_blocks"] * caught["empty_range_seconds"]
    catch_up_s = empty_rounds + (day_events / events_per_s if events_per_s else float("inf"))
    gib = 2**30
    return [
        Figure("letters in a year", f"{LETTERS_PER_YEAR:,}", "derived: the assumption in the text"),
        Figure(
            "letters in the season (four months)",
            f"{season:,.0f}",
            f"derived: {SEASON_SHARE:.0%} of the year",
        ),
        Figure(
            "letters/s, the season's average working hour",
            f"{average:.1f}",
            f"derived: {SEASON_WORKING_DAYS} working days of {WORKING_HOURS} h",
        ),
        Figure("letters/s at peak", f"{peak:.1f}", f"derived: × {PEAK_TO_AVERAGE:g} for the busiest hour"),
        Figure(
            "letters/s at peak, the largest bank",
            f"{bank_peak:.1f}",
            f"derived: {LARGEST_BANK_SHARE:.0%} of them (the top three {TOP_THREE_SHARE:.0%})",
        ),
        Figure("gas per letter, bundled", f"{gas_bundled:,}", "measured: the highest load of the run"),
        Figure("gas per letter, one per transaction", f"{gas_single:,}", "measured: unloaded"),
        Figure(
            "gas per block at peak",
            f"{gas_block / 1e6:.1f} M of {BLOCK_GAS / 1e6:.0f} M ({gas_block / BLOCK_GAS:.1%}); "
            f"{gas_block_single / 1e6:.1f} M unbundled ({gas_block_single / BLOCK_GAS:.1%})",
            f"derived: peak × {BLOCK_SECONDS} s × the measured gas",
        ),
        Figure(
            "letters/s the chain could carry",
            f"{BLOCK_GAS / BLOCK_SECONDS / gas_bundled:,.0f} bundled, {BLOCK_GAS / BLOCK_SECONDS / gas_single:,.0f} unbundled",
            "derived: block gas over the measured gas per letter",
        ),
        Figure(
            "bytes on chain per letter",
            f"{per_letter_chain:,.0f} (calldata {calldata:,}, logs {logs:,})",
            "measured: calldata and logs; derived: envelopes, receipts, "
            f"{NEW_SLOTS_PER_LETTER} new storage slots at {STATE_BYTES_PER_SLOT} bytes",
        ),
        Figure(
            "chain growth per year",
            f"{(letters_growth + headers_growth) / gib:.1f} GiB: letters {letters_growth / gib:.1f}, "
            f"block headers {headers_growth / gib:.1f}",
            f"derived: {YEAR_S // BLOCK_SECONDS:,} blocks a year of about {HEADER_BYTES} bytes whether empty or not",
        ),
        Figure(
            "CPU per letter, every process",
            f"{cpu_all:.1f} ms",
            "measured: the highest load, SQLite stores, operator, firm, bank, anvil and driver",
        ),
        Figure(
            "the operator's gateway (and each regulator's): CPU at peak",
            f"{peak * operator_cpu / 1000:.2f} cores ({operator_cpu:.1f} ms a letter)",
            "measured: the operator gateway's CPU per letter (it indexes every event); derived: × the national peak",
        ),
        Figure(
            f"the largest bank's gateway: CPU at peak ({store})",
            f"{bank_peak * bank_cpu / 1000:.2f} cores ({bank_cpu:.1f} ms a letter)",
            "measured: the bank gateway's CPU per letter"
            + (" with the PostgreSQL server's" if postgresql["available"] else "")
            + "; derived: × its peak rate",
        ),
        Figure(
            f"the largest bank's database per year ({store})",
            f"{bank_year * bank_bytes / gib:.0f} GiB ({bank_bytes:,} bytes a letter)",
            f"measured: bytes a letter added; derived: × {bank_year:,.0f} letters",
        ),
        Figure(
            f"an audit firm's database per 10,000 letters ({store})",
            f"{10_000 * firm_bytes / gib:.2f} GiB ({firm_bytes:,} bytes a letter)",
            "measured: bytes a letter added",
        ),
        Figure(
            "indexer catch-up rate",
            f"{caught['events_per_second']:,} events/s, {caught['blocks_per_second']:,} blocks/s "
            f"({caught['blocks']:,} blocks with {caught['events']:,} events in {caught['catch_up_seconds']:g} s); "
            f"an empty range of {caught['empty_range_blocks']:,} blocks {caught['empty_range_seconds'] * 1000:.0f} ms",
            "measured: the bank's gateway back after letters moved and empty blocks were mined",
        ),
        Figure(
            "indexer catch-up after a day offline, the largest bank",
            f"{catch_up_s / 60:.1f} min ({DAY_BLOCKS:,} blocks, {day_events:,.0f} events of every bank, "
            f"{bank_day * EVENTS_PER_LETTER:,.0f} of them its own)",
            "derived: a season's day; every event at the measured rate (those of other banks cost less)",
        ),
    ]


def markdown(figures: list[Figure]) -> str:
    lines = ["| figure | value | measured or derived |", "| --- | --- | --- |"]
    lines += [f"| {f.what} | {f.value} | {f.how} |" for f in figures]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="a make bench JSON (bench/results/latest.json)")
    args = parser.parse_args(argv)
    print(markdown(model(json.loads(args.result.read_text(encoding="utf-8")))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
