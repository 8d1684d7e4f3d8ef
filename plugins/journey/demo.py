"""`journey demo`: embedded PostgreSQL + generated data + the daily DAG run for real."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

from journey.config import get_settings
from journey.dag_ids import DAILY_DAG
from journey.orchestration.local_run import run_dag
from journey.reports.summary import print_summary

END_DATE = "2026-10-31"


def _step(message: str) -> None:
    """Print a demo step."""
    print(f"==> {message}", flush=True)


def ensure_data(inbox: Path, users: int, days: int, seed: int) -> None:
    """Generate the demo data into the inbox unless the same data is already there."""
    from journey.datagen import generate

    marker = inbox / "generated.json"
    wanted = {"users": users, "days": days, "seed": seed, "end_date": END_DATE}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        _step(f"Reusing generated data in {inbox}")
        return
    _step(f"Generating {users:,} users x {days} days (seed {seed}) into {inbox}")
    summary = generate(inbox, users=users, days=days, seed=seed, end_date=date.fromisoformat(END_DATE),
                       progress=lambda m: print(f"    {m}", flush=True))
    print(f"    {summary.events:,} events in {summary.seconds:.1f}s ({summary.events / summary.seconds:,.0f} events/s)")
    marker.write_text(json.dumps(wanted))


def run_demo(users: int, days: int, seed: int) -> int:
    """Generate the demo data and run the daily DAG on it (`journey.orchestration.local_run`); the exit code."""
    started = time.monotonic()
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    ensure_data(settings.inbox, users, days, seed)
    conf = {"source": str(settings.inbox / "events"), "users": str(settings.inbox / "users.csv")}
    code, _ = run_dag(settings, DAILY_DAG, date.fromisoformat(END_DATE), conf)
    if code != 0:
        return 1
    _step(f"Done in {time.monotonic() - started:.0f}s. Summary:")
    print_summary(settings)
    return 0
