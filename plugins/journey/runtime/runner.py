"""Shared start-up for command-line entry points: logging, one-line errors, exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import date

from journey.errors import InputError, JourneyError


def setup_logging() -> None:
    """Plain, timestamped log lines on stderr."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("py4j", "pyspark", "pgserver", "great_expectations"):  # their INFO lines drown ours
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_main(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run an entry point; a JourneyError becomes one line on stderr and exit code 2.

    Anything else is a bug: it propagates with its traceback, so task logs show where it happened.
    """
    setup_logging()
    try:
        return main(argv)
    except JourneyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


TRUE_TEXTS, FALSE_TEXTS = ("true", "yes", "1", "on"), ("false", "no", "0", "off", "")


def boolean_text(text: str) -> bool:
    """argparse type for true/false values (what Airflow renders a boolean Param as: True / False)."""
    value = text.strip().lower()
    if value not in TRUE_TEXTS + FALSE_TEXTS:
        raise InputError(f"'{text}' is not true or false")
    return value in TRUE_TEXTS


def iso_date(text: str) -> date:
    """argparse type for YYYY-MM-DD dates with a clear message."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"'{text}' is not a date in YYYY-MM-DD form") from exc
