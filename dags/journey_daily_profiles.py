"""
### Journey daily profiles & segments

Every day: **ingest** the new event files into the curated lake (bad rows quarantined with a
reason) → build **user profiles** (RFM, behaviour, category affinity, lifecycle stage) →
**segment** users with K-means (k chosen by silhouette, stable segment ids) → **publish**
profiles, segments, segment history/summary/transitions and the ingest accounting to
PostgreSQL (schema `journey`) in one transaction.

Every Spark step ends with a **Great Expectations gate** on what it wrote (events: schema,
types, keys, ranges, uniqueness, daily volume against the trailing 7-day median, share of
the batch quarantined; profiles; segments). A failed `error` check fails the task, so
nothing is published; results go to `journey.dq_results` and Data Docs under
`$JOURNEY_HOME/reports/dq/` (path in the task log).

The logical date is the snapshot date. Spark steps run through `spark-submit` on the
`spark_default` connection (`local[*]` unless it points at a cluster).

**Params**: `source` (events file or folder; empty = `$JOURNEY_HOME/inbox/events`),
`format` (`canonical`, `rees46`, `transactions` order lines, or `mapped` with `mapping` = a
YAML column-mapping file; see docs/formats.md), `users` (optional users CSV),
`rows_are_distinct` (identical lines are distinct events, identified by file and line), segmentation
`k_min`/`k_max`, profile `lookback_days`; the events gate's thresholds `max_quarantine_share`,
`expected_quarantine_reasons` (comma-separated; reported, not counted), `volume_history_days`,
`volume_band_low`/`volume_band_high` and `backfill` (`auto`: a batch spanning more than
`volume_history_days` days is compared with its own median day and its volume only warns;
`on`/`off`), see docs/quality.md. Transaction-only feeds have no views or carts: the
profile and segment steps say so in their logs and still publish.

Emits the `journey_segments` asset when the warehouse tables are published.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import Asset, Param, dag, task

from journey.config import get_settings
from journey.dag_ids import DAILY_DAG
from journey.orchestration import START_DATE, default_args, spark_job
from journey.quality.options import dag_params as gate_params
from journey.quality.options import job_args as gate_args

JOBS = Path(__file__).resolve().parent.parent / "jobs"
SEGMENTS_ASSET = Asset("journey_segments")
RUN_ARGS = ["--run-id", "{{ run_id }}"]
SNAPSHOT_ARGS = ["--snapshot-date", "{{ ds }}", *RUN_ARGS]


@dag(
    dag_id=DAILY_DAG,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["journey", "profiles", "segments", "spark"],
    default_args=default_args(),
    params={
        "source": Param("", type="string", title="Events source",
                        description="File or folder of event files; empty = $JOURNEY_HOME/inbox/events"),
        "format": Param("canonical", type="string", enum=["canonical", "rees46", "transactions", "mapped"],
                        title="Feed format"),
        "mapping": Param("", type="string", title="Column mapping",
                         description="YAML mapping file, for format 'mapped' only (docs/formats.md)"),
        "users": Param("", type="string", title="Users CSV", description="Optional users dimension file"),
        "rows_are_distinct": Param(False, type="boolean", title="Identical lines are distinct events",
                                   description="On: a row is identified by its file and line number, so repeated "
                                               "identical order lines are kept (off: they are duplicates)"),
        "k_min": Param(3, type="integer", minimum=2, maximum=20, title="Smallest k to try"),
        "k_max": Param(8, type="integer", minimum=2, maximum=30, title="Largest k to try"),
        "lookback_days": Param(0, type="integer", minimum=0, title="Profile look-back (days)", description="0 = all history"),
        **gate_params(),
    },
)
def journey_daily_profiles():
    """Ingest → profiles → segments → publish."""
    ingest = spark_job("ingest_events", JOBS / "ingest_events.py", [
        "--source", "{{ params.source }}", "--format", "{{ params.format }}", "--mapping", "{{ params.mapping }}",
        "--users", "{{ params.users }}", "--rows-are-distinct", "{{ params.rows_are_distinct }}", *gate_args(), *RUN_ARGS,
    ])
    profiles = spark_job("build_profiles", JOBS / "build_profiles.py",
                         [*SNAPSHOT_ARGS, "--lookback-days", "{{ params.lookback_days }}"])
    segments = spark_job("segment_users", JOBS / "segment_users.py",
                         [*SNAPSHOT_ARGS, "--k-min", "{{ params.k_min }}", "--k-max", "{{ params.k_max }}"])

    @task(outlets=[SEGMENTS_ASSET])
    def publish(ds=None, run_id=None) -> dict[str, int]:
        """Load the snapshot and the ingest accounting into PostgreSQL in one transaction."""
        from datetime import date

        from journey.campaigns.segment_names import publish_segment_names
        from journey.profiles.publish import publish_daily

        settings = get_settings()
        rows = publish_daily(settings, date.fromisoformat(ds), run_id, ingest_run_id=run_id)
        for table, count in rows.items():
            print(f"published {count:,} rows to journey.{table}")
        print(f"segment names for the campaign form: {publish_segment_names(settings)}")
        return rows

    @task
    def report(run_id=None) -> str:
        """HTML report of the run (after publish: a report never gates the data, see docs/reports.md)."""
        from journey.reports import print_run_report

        return str(print_run_report(get_settings(), DAILY_DAG, run_id))

    ingest >> profiles >> segments >> publish() >> report()


journey_daily_profiles()
