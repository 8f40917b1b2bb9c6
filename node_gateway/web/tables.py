"""Tables of the pages: filter, sort, page and export to CSV or Excel, all from the query string.

A page builds its rows as dicts (one value per column's key), and ``TableView.of`` applies the
request's ``q`` (text anywhere in a row), ``f_<column>`` (a column equal to one of its choices),
``sort`` and ``desc``, and ``page``; ``export(view, ...)`` answers ``?export=csv|xlsx`` with every
filtered row, sorted, not just the page's. The macro ``table`` of ``macros.html`` draws it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response

PER_PAGE = 25
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # a message key
    choices: Sequence[str] = ()  # filterable by these values (shown as ``choice_label``)
    choice_label: str = ""  # a message key prefix for the choices ("status." → "status.active")
    numeric: bool = False


@dataclass
class TableView:
    columns: Sequence[Column]
    rows: list[dict[str, Any]]  # the filtered rows, sorted (every page's)
    query: dict[str, str]
    sort: str
    descending: bool
    page: int
    per_page: int = PER_PAGE
    base: str = ""
    exports: tuple[str, ...] = ("csv", "xlsx")
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        request: Request,
        columns: Sequence[Column],
        rows: Sequence[Mapping[str, Any]],
        *,
        default_sort: str,
        descending: bool = False,
    ) -> TableView:
        params = request.query_params
        keys = {column.key for column in columns}
        query = {k: v for k, v in params.items() if v and (k in ("q", "sort", "desc") or k.startswith("f_"))}
        chosen = [dict(row) for row in rows]
        text = params.get("q", "").strip().lower()
        if text:
            chosen = [row for row in chosen if any(text in str(value).lower() for value in row.values())]
        for column in columns:
            wanted = params.get(f"f_{column.key}")
            if column.choices and wanted:
                chosen = [row for row in chosen if str(row.get(column.key)) == wanted]
        asked = params.get("sort", "")
        sort = asked if asked in keys else default_sort
        desc = params.get("desc", "1" if descending else "") == "1"
        chosen.sort(key=lambda row: _sort_key(row.get(sort)), reverse=desc)
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        view = cls(columns, chosen, query, sort, desc, page, base=request.url.path)
        view.page = min(page, view.pages)
        return view

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def page_rows(self) -> list[dict[str, Any]]:
        start = (self.page - 1) * self.per_page
        return self.rows[start : start + self.per_page]

    def url(self, **changes: Any) -> str:
        """This table's URL with ``changes`` to its query (None drops a parameter)."""
        query = {**self.query, **dict(changes.items())}
        kept = {k: str(v) for k, v in query.items() if v not in (None, "")}
        return self.base + ("?" + urlencode(kept) if kept else "")

    def sort_url(self, key: str) -> str:
        desc = "" if key != self.sort or self.descending else "1"
        return self.url(sort=key, desc=desc or None, page=None)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value == "":
        return (2, "")
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value))


def export(view: TableView, fmt: str, name: str, t: Callable[..., str]) -> Response:
    """Every filtered row of ``view`` as a CSV (UTF-8 with a BOM, so Excel reads the Chinese) or an
    Excel workbook, with the columns' labels in the page's language."""
    header = [t(column.label) for column in view.columns]
    body = [[_cell(row.get(column.key), column, t) for column in view.columns] for row in view.rows]
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = name[:31]
        sheet.append(header)
        for line in body:
            sheet.append(line)
        out = io.BytesIO()
        workbook.save(out)
        return Response(out.getvalue(), media_type=XLSX, headers=_attachment(f"{name}.xlsx"))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(body)
    data = "\ufeff" + text.getvalue()
    return Response(data.encode(), media_type="text/csv; charset=utf-8", headers=_attachment(f"{name}.csv"))


def _cell(value: Any, column: Column, t: Callable[..., str]) -> Any:
    if value is None:
        return ""
    if column.choice_label and column.choices:
        return t(column.choice_label + str(value))
    return value


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
