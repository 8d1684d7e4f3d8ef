"""Errors and message helpers of the warehouse package."""

from __future__ import annotations

import re

from journey.errors import JourneyError


class WarehouseError(JourneyError):
    """The warehouse cannot be reached or changed; the message says which and why, on one line."""


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (psycopg2 messages span lines)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def redact(url: str) -> str:
    """The URL (or key=value DSN) with any password replaced by ***."""
    url = re.sub(r"(://[^:/@?]*:)[^@/?]*@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)('[^']*'|[^\s&]+)", r"\1***", url)
