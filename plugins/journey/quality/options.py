"""The events gate's thresholds as one table: DAG Params, ingest-job options, their Jinja arguments.

    parser = argparse.ArgumentParser(); add_gate_options(parser)          # jobs/ingest_events.py
    params = gate_params(parser.parse_args(argv))                         # -> QualityParams
    dag(params={..., **dag_params()}); spark_job(..., [..., *job_args()])  # dags/journey_daily_profiles.py

Defaults are QualityParams' own; imports nothing heavy (the DAG file uses it at parse time).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from journey.quality.suites import BACKFILL_MODES, QualityParams, QualityParamsError

DEFAULTS = QualityParams()


@dataclass(frozen=True)
class GateOption:
    """One threshold: its name (DAG Param; --name-with-dashes option), JSON type, default, form text."""

    name: str
    type: str
    default: object
    title: str
    description: str
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        """The job's command-line option."""
        return "--" + self.name.replace("_", "-")

    def schema(self) -> dict:
        """JSON-schema keywords of the DAG Param."""
        keywords = {"type": self.type, "title": self.title, "minimum": self.minimum, "maximum": self.maximum,
                    "enum": list(self.enum) or None}
        return {k: v for k, v in keywords.items() if v is not None}


GATE_OPTIONS: tuple[GateOption, ...] = (
    GateOption("max_quarantine_share", "number", DEFAULTS.max_quarantine_share, "Largest quarantined share",
               "Share of the rows read that may be quarantined (reasons expected of the feed left out)", 0.0, 1.0),
    GateOption("expected_quarantine_reasons", "string", "", "Expected quarantine reasons",
               "Comma-separated reasons (e.g. missing_user_id) counted and reported but not held against "
               "max_quarantine_share; the transactions format always expects missing_user_id (guest orders)"),
    GateOption("volume_history_days", "integer", DEFAULTS.volume_history_days, "Volume history (days)",
               "Trailing days whose median each batch day is compared with", 1, 366),
    GateOption("volume_band_low", "number", DEFAULTS.volume_band[0], "Volume band, low",
               "A day below low x the median fails the volume rule", 0.0, 0.99),
    GateOption("volume_band_high", "number", DEFAULTS.volume_band[1], "Volume band, high",
               "A day above high x the median fails the volume rule", 1.01, 1000.0),
    GateOption("backfill", "string", DEFAULTS.backfill, "Backfill mode",
               "auto: a batch spanning more than volume_history_days days is a backfill; on / off force it. "
               "A backfill's days are compared with the batch's own median day and only warn", enum=BACKFILL_MODES),
)


def reasons(text: str) -> tuple[str, ...]:
    """Reasons from comma-separated text or a JSON array (empty text: none)."""
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise QualityParamsError("expected_quarantine_reasons", f"is not a JSON array: {text!r}") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise QualityParamsError("expected_quarantine_reasons", f"must be a list of reason names, got {text!r}")
    else:
        items = text.split(",")
    return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """Add one option per threshold, with QualityParams' defaults."""
    kinds = {"number": float, "integer": int, "string": str}
    for option in GATE_OPTIONS:
        parser.add_argument(option.flag, type=kinds[option.type], default=option.default,
                            choices=list(option.enum) or None, help=f"{option.description} (default: %(default)s)")


def gate_params(args: argparse.Namespace) -> QualityParams:
    """QualityParams from the parsed options (QualityParamsError names a bad one)."""
    return QualityParams(
        max_quarantine_share=args.max_quarantine_share,
        expected_quarantine_reasons=reasons(args.expected_quarantine_reasons),
        volume_history_days=args.volume_history_days,
        volume_band=(args.volume_band_low, args.volume_band_high),
        backfill=args.backfill,
    )


def dag_params() -> dict:
    """The thresholds as Airflow Params of the daily DAG, in table order."""
    from airflow.sdk import Param

    return {o.name: Param(o.default, description=o.description, **o.schema()) for o in GATE_OPTIONS}


def job_args() -> list[str]:
    """The ingest job's arguments from the DAG Params (Jinja templates)."""
    return [arg for o in GATE_OPTIONS for arg in (o.flag, f"{{{{ params.{o.name} }}}}")]
