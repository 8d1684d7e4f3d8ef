"""Run suites with Great Expectations Core (Spark DataFrames), record results, enforce the gate.

Results go to `journey.dq_results` (replacing earlier rows of the same run and dataset) and
to GX Data Docs under $JOURNEY_HOME/reports/dq/. A failed `error` check raises
QualityGateError, so the Airflow task fails and nothing downstream is published; `warn`
checks are only recorded.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa

from journey import warehouse
from journey.config import Settings
from journey.errors import JourneyError
from journey.quality.suites import ERROR, Check

log = logging.getLogger(__name__)

DATASOURCE = "journey_spark"
RESULT_COLUMNS = ["run_id", "dataset", "suite", "expectation", "column_name", "severity", "success",
                  "observed_value", "unexpected_count", "element_count"]


class QualityGateError(JourneyError):
    """An error-severity expectation failed: the run must stop before publishing."""


@dataclass(frozen=True)
class Outcome:
    """One checked expectation."""

    dataset: str
    suite: str
    expectation: str
    column_name: str | None
    severity: str
    success: bool
    observed_value: str
    unexpected_count: int | None
    element_count: int | None
    hint: str = ""  # limit and Param / option, said when the check failed (not stored)

    def describe(self) -> str:
        """Short human line (with the hint when the check failed)."""
        where = f" on {self.column_name}" if self.column_name else ""
        seen = f" ({self.unexpected_count:,} unexpected)" if self.unexpected_count else (
            f" (observed {self.observed_value})" if self.observed_value is not None else "")
        hint = f" {self.hint}" if self.hint and not self.success else ""
        return f"{self.expectation}{where}{seen}{hint}"


def dq_root(settings: Settings) -> Path:
    """Folder of the GX project (Data Docs under gx/uncommitted/data_docs/local_site)."""
    return settings.reports_dir / "dq"


def docs_index(settings: Settings) -> Path:
    """Path of the Data Docs home page."""
    return dq_root(settings) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def _context(settings: Settings):
    """File-backed GX context in the reports folder (created on first use)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    root = dq_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in task logs
    return context


def _data_source(context):
    """The Spark data source, created once and then kept: replacing it would drop every other dataset's asset,
    which the stored validation definitions still name (a second campaign's gate failed on the first's)."""
    try:
        return context.data_sources.get(DATASOURCE)
    except (KeyError, LookupError, ValueError):
        return context.data_sources.add_spark(name=DATASOURCE)


def _batch_definition(context, dataset: str):
    """Whole-DataFrame batch definition for a dataset, created once."""
    source = _data_source(context)
    try:
        asset = source.get_asset(dataset)
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset(name=dataset)
    try:
        return asset.get_batch_definition("whole")
    except (LookupError, ValueError):
        return asset.add_batch_definition_whole_dataframe("whole")


def _expectations(checks: list[Check]):
    """GX expectation objects, each carrying its severity and index in meta."""
    import great_expectations as gx

    return [getattr(gx.expectations, c.expectation)(**c.kwargs, meta={"severity": c.severity, "check": i})
            for i, c in enumerate(checks)]


def _text(value) -> str:
    """A value as short text."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:500]


def observed(result: dict, exception: str = "") -> str:
    """What a check saw, never empty: GX's observed value, else the unexpected share, else the row count."""
    if result.get("observed_value") is not None:
        return _text(result["observed_value"])
    if result.get("unexpected_count") is not None:
        percent = result.get("unexpected_percent") or 0.0
        sample = result.get("partial_unexpected_list") or []
        return _text(f"{result['unexpected_count']} unexpected of {result.get('element_count')} ({percent:.2f} %)"
                     + (f": {_text(sample[:5])}" if sample else ""))
    if result.get("element_count") is not None:
        return f"{result['element_count']} rows"
    return _text(f"no result: {exception or 'GX returned none'}")


def run_suite(settings: Settings, df, dataset: str, suite_name: str, checks: list[Check], run_id: str) -> list[Outcome]:
    """Validate a Spark DataFrame against checks with a GX checkpoint (Data Docs updated)."""
    import great_expectations as gx

    context = _context(settings)
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=_expectations(checks)))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=_batch_definition(context, dataset), suite=suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name=suite_name, validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
        result_format={"result_format": "SUMMARY"}))
    result = checkpoint.run(batch_parameters={"dataframe": df}, run_id=gx.RunIdentifier(run_name=run_id))
    outcomes = []
    for validation in result.run_results.values():
        for item in validation.results:
            check = checks[item.expectation_config.meta["check"]]
            error = (item.exception_info or {}).get("exception_message") or ""
            outcomes.append(Outcome(
                dataset=dataset, suite=suite_name, expectation=item.expectation_config.type,
                column_name=check.column, severity=check.severity, success=bool(item.success),
                observed_value=observed(item.result or {}, str(error)),
                unexpected_count=item.result.get("unexpected_count"),
                element_count=item.result.get("element_count"), hint=check.hint,
            ))
    return outcomes


def record(settings: Settings, run_id: str, dataset: str, outcomes: list[Outcome]) -> None:
    """Replace this run's results for the dataset in journey.dq_results."""
    rows = [{**{k: v for k, v in asdict(o).items() if k in RESULT_COLUMNS}, "run_id": run_id} for o in outcomes]
    table = pa.Table.from_pylist(rows, schema=pa.schema([
        ("run_id", pa.string()), ("dataset", pa.string()), ("suite", pa.string()), ("expectation", pa.string()),
        ("column_name", pa.string()), ("severity", pa.string()), ("success", pa.bool_()),
        ("observed_value", pa.string()), ("unexpected_count", pa.int64()), ("element_count", pa.int64()),
    ]))
    conn = warehouse.connect(settings)
    try:
        warehouse.publish(conn, [warehouse.TableLoad(
            "dq_results", table, RESULT_COLUMNS, "run_id = %(run_id)s AND dataset = %(dataset)s",
            {"run_id": run_id, "dataset": dataset})])
    finally:
        conn.close()


def summarise(dataset: str, outcomes: list[Outcome]) -> list[str]:
    """Lines for the task log: totals, then each failed check."""
    failed = [o for o in outcomes if not o.success]
    errors = [o for o in failed if o.severity == ERROR]
    lines = [f"quality gate {dataset}: {len(outcomes)} checks, {len(errors)} failed (error), "
             f"{len(failed) - len(errors)} failed (warn)"]
    lines += [f"  {o.severity.upper()}: {o.describe()}" for o in failed]
    return lines


def enforce(dataset: str, outcomes: list[Outcome]) -> None:
    """Raise QualityGateError naming every failed error check."""
    errors = [o for o in outcomes if not o.success and o.severity == ERROR]
    if errors:
        raise QualityGateError(f"quality gate '{dataset}' failed: " + "; ".join(o.describe() for o in errors))


def gate(settings: Settings, run_id: str, dataset: str, suites: list[tuple[str, object, list[Check]]]) -> list[Outcome]:
    """Run (suite name, DataFrame, checks) triples, record, print, then enforce."""
    started = time.perf_counter()
    outcomes = [o for name, df, checks in suites for o in run_suite(settings, df, dataset, name, checks, run_id)]
    record(settings, run_id, dataset, outcomes)
    for line in summarise(dataset, outcomes):
        print(line)
    print(f"  gate time: {time.perf_counter() - started:.1f} s")
    print(f"  data docs: {docs_index(settings)}")
    enforce(dataset, outcomes)
    return outcomes
