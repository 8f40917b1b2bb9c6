"""What the auditor, authorise and verify commands share: options, the client, errors, progress.

The SDK (httpx, the ``auditor`` extra) is imported only where a command talks to a gateway, so
that ``confirmnet verify`` runs on the base install.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.segment import Segments
from rich.table import Table

from node_gateway.protocol.documents import CHINA_TIME

if TYPE_CHECKING:
    from auditor_client.sdk import Client, ConfirmnetError

console = Console()
errors = Console(stderr=True)

# Exit codes: 0 done, 1 refused or failed (an API error, a failed verification), 2 unusable input.
EXIT_FAILED = 1
EXIT_INPUT = 2

GatewayOption = Annotated[
    str, typer.Option("--gateway", envvar="CONFIRMNET_GATEWAY", help="The audit firm's gateway URL.")
]
ApiKeyOption = Annotated[
    str,
    typer.Option("--api-key", envvar="CONFIRMNET_API_KEY", help="A user API key (cn_…).", show_default=False),
]


_LETTER_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_LETTER_ID_FORM = "0x and 64 hex digits"


def check_letter_ids(values: list[str] | None) -> list[str] | None:
    """A command's letter ids, lower case; a malformed one is a usage error (exit code 2) that
    names it, before anything is asked of the gateway."""
    if values is None:
        return None
    bad = [value for value in values if not _LETTER_ID.fullmatch(value)]
    if len(bad) == 1:
        raise typer.BadParameter(f"{bad[0]!r} is not a letter id ({_LETTER_ID_FORM})")
    if bad:
        raise typer.BadParameter(f"not letter ids ({_LETTER_ID_FORM}): {', '.join(map(repr, bad))}")
    return [value.lower() for value in values]


def check_letter_id(value: str) -> str:
    return (check_letter_ids([value]) or [value])[0]


LetterIdArgument = Annotated[
    str,
    typer.Argument(help=f"The letter id ({_LETTER_ID_FORM}).", metavar="LETTER_ID", callback=check_letter_id),
]


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    errors.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def print_table(table: Table, out: Console = console) -> None:
    """Prints ``table`` whole: never squeezed into a narrow terminal, nor into the 80 columns rich
    assumes for a file or a pipe, where it would cut the ids and keys in it with "…" or break them
    over lines; they are there to be copied. Too wide a table is printed at its own width."""
    natural = Measurement.get(out, out.options.update_width(100_000), table).maximum
    if natural <= out.width:
        out.print(table)
    else:
        out.print(Segments(out.render(table, out.options.update_width(natural))), crop=False)


def describe(exc: ConfirmnetError) -> str:
    from auditor_client.sdk import APIError

    if isinstance(exc, APIError):
        detail = f"{exc.message}"
        if isinstance(exc.details, list):
            detail += "".join(
                f"\n  {'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}"
                for d in exc.details[:20]
                if isinstance(d, dict)
            )
        return f"the gateway refused ({exc.code}, HTTP {exc.status}): {detail}"
    return str(exc)


@contextmanager
def gateway_errors() -> Iterator[None]:
    """Turns SDK exceptions into a red message and exit code 1."""
    from auditor_client.sdk import ConfirmnetError

    try:
        yield
    except ConfirmnetError as exc:
        fail(describe(exc))


def client(gateway: str, api_key: str) -> Client:
    from auditor_client.sdk import Client

    return Client(gateway, api_key=api_key)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    )


def parse_day(text: str | None, *, end: bool = False) -> int | None:
    """A date (YYYY-MM-DD, China time) as unix seconds: its start, or with ``end`` its last second."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        fail(f"{text!r} is not a date (YYYY-MM-DD)", EXIT_INPUT)
    return int(datetime.combine(day, time(23, 59, 59) if end else time(0), CHINA_TIME).timestamp())


def when(timestamp: int | None) -> str:
    if timestamp is None:
        return "—"
    return datetime.fromtimestamp(timestamp, CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
