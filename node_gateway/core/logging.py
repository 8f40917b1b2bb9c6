"""Structured logs: one JSON object per line, carrying the letter id whenever one is in play."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

current_letter: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_letter", default=None)
_LETTER_ID = re.compile(r"0x[0-9a-fA-F]{64}")


class JsonFormatter(logging.Formatter):
    def __init__(self, member: str) -> None:
        super().__init__()
        self.member = member

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "member": self.member,
            "message": message,
        }
        letter_id = getattr(record, "letter_id", None) or current_letter.get()
        if letter_id is None and (found := _LETTER_ID.search(message)):
            letter_id = found.group(0).lower()
        if letter_id is not None:
            entry["letter_id"] = letter_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(member: str, level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(member))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("web3", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
