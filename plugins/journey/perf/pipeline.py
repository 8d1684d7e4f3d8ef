"""One benchmark size: generated events (cached) → ingest → profiles → segments, with DuckDB beside.

Each step is timed on the wall clock with the peak resident memory of this process and its
children (Python + the Spark driver JVM). The lake of a size is rebuilt on every run; the
generated input is kept under the work folder and reused when present.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from journey.perf.figures import Figure
from journey.perf.memory import PeakMemory

END = date(2026, 10, 31)
DAYS = 30
EVENTS_PER_USER = 53.1  # generator: ~1.06M events from 20,000 users over 30 days


@dataclass
class SizeReport:
    """Every figure of one size."""

    label: str
    events: int
    users: int
    steps: list[Figure] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    checks: dict[str, object] = field(default_factory=dict)

    def step(self, name: str) -> Figure:
        """The figure of a named step."""
        return next(s for s in self.steps if s.step == name)

    def as_dict(self) -> dict:
        """Plain dict for the JSON result file."""
        return asdict(self)


def measure(report: SizeReport, name: str, rows_of, fn, echo=print):
    """Run fn under the wall clock and the memory sampler; record and print the figure."""
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    figure = Figure(name, seconds, int(rows_of(result)), memory.peak_gib, memory.breakdown())
    report.steps.append(figure)
    echo(f"  {name:<34} {seconds:8.1f} s {figure.rows:>12,} rows {figure.rows_per_second:>11,.0f} rows/s "
         f"peak {figure.peak_gib:5.2f} GiB ({figure.peak_processes})")
    return result


def users_for(events: int) -> int:
    """Generator users giving about `events` events over DAYS days."""
    return max(1, round(events / EVENTS_PER_USER))


def cached_events(work: Path, users: int, seed: int, echo=print) -> tuple[Path, int]:
    """Generated events folder for a size (generated once, then reused) and its row count."""
    data = work / f"gen-{users}u-{DAYS}d-{seed}"
    marker = data / "_bench.json"
    if marker.exists():
        return data / "events", json.loads(marker.read_text())["events"]
    echo(f"  generating {users:,} users x {DAYS} days into {data} (cached for later runs)")
    # in a child process, so the generator's memory is not counted in this process's peaks
    subprocess.run([sys.executable, "-m", "journey.cli", "generate", "--users", str(users), "--days", str(DAYS),
                    "--seed", str(seed), "--end-date", END.isoformat(), "--out", str(data)], check=True)
    events = pq.ParquetDataset(str(data / "events")).read(columns=["event_id"]).num_rows
    marker.write_text(json.dumps({"events": events}))
    return data / "events", events


def _write_count(df, path: str) -> int:
    """Write a DataFrame as Parquet and return its row count."""
    df.write.mode("overwrite").parquet(path)
    return df.sparkSession.read.parquet(path).count()


def run_size(spark, label: str, events_wanted: int, work: Path, seed: int, echo=print) -> SizeReport:
    """Ingest, profiles, segments (Spark) and the DuckDB profile reference for one size."""
    from journey.config import get_settings
    from journey.ingest.events import run_ingest
    from journey.perf.duckdb_profiles import duckdb_profiles, totals
    from journey.profiles.build import ProfileParams, build_profiles
    from journey.profiles.segments import SegmentParams, segment_users

    source, events = cached_events(work, users_for(events_wanted), seed, echo)
    home = work / f"home-{label}"
    shutil.rmtree(home, ignore_errors=True)
    settings = get_settings({**os.environ, "JOURNEY_HOME": str(home)})
    report = SizeReport(label, events, users_for(events_wanted), load_before=os.getloadavg())
    ingest = measure(report, "ingest (Spark)", lambda r: r.rows_read,
                     lambda: run_ingest(spark, settings, str(source), "canonical", f"bench-{label}"), echo)
    curated = ingest.curated_path
    spark_profiles = str(home / "profiles")
    measure(report, "profiles (Spark)", lambda n: n, lambda: _write_count(
        build_profiles(spark.read.parquet(curated), None, ProfileParams(snapshot_date=END)), spark_profiles), echo)
    profiles = spark.read.parquet(spark_profiles)
    measure(report, "segments k=3..8 (Spark)", lambda n: n, lambda: _write_count(
        segment_users(profiles, SegmentParams()).segments, str(home / "segments")), echo)
    threads = os.cpu_count() or 1
    duck_target = str(home / "profiles_duckdb.parquet")
    measure(report, f"profiles (DuckDB, {threads} threads)", lambda n: n,
            lambda: duckdb_profiles(curated, duck_target, END, threads), echo)
    report.checks = {"spark_totals": totals(spark_profiles), "duckdb_totals": totals(duck_target),
                     "curated": ingest.curated, "quarantined": ingest.quarantined}
    report.checks["same_totals"] = report.checks["spark_totals"] == report.checks["duckdb_totals"]
    report.load_after = os.getloadavg()
    return report
