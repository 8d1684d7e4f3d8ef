"""
### Journey model training (weekly, or on demand)

**build_training_data** (Spark): from the curated events up to the logical date, the user ×
cut-off set (last events, aggregates, profile and BTYD features before each cut-off; purchase
and coupon labels after it; the latest cut-off's labels end on the logical date; customers
split into train / validation / test) and the
session set (scene labels from the ground truth when `scenes` is given, else the documented
weak-labelling rules) → **train** the Keras behaviour and scene models and the XGBoost
propensity and responsiveness models (GPU when TensorFlow sees one: mixed precision,
MirroredStrategy over several GPUs, larger batches, XGBoost on cuda) → **evaluate** each on
the test window beside its baselines and the current champion on the same rows, register it
as a challenger in `journey.model_registry` → **promote** the challengers whose primary
metric beats the champion (or, with none, the best baseline) by `margin` → **score_users**
(Spark, `mapInPandas`) with the champions into `journey.user_scores` (one transaction).

**Params**: `horizon_days` (label window, up to 365; cut to what fits the data), `lookback_days`
(feature window), `cutoff_step_days`, `min_history_days`, `cutoffs` (the cut-off plan),
`epochs`, `margin` (promotion margin), `scenes` (ground-truth scenes Parquet; empty = weak
rules). A model whose label has one class on the feed (no coupons, no views) is skipped as
"not applicable to this feed"; the others go on.
Rules, metrics and the registry: docs/models.md.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import Param, dag, task

from journey.config import get_settings
from journey.dag_ids import TRAIN_DAG
from journey.models.hparams import RUN_PARAMS, data_run_params, model_config, run_param_defaults
from journey.orchestration import START_DATE, default_args, spark_job

JOBS = Path(__file__).resolve().parent.parent / "jobs"
RUN_ARGS = ["--snapshot-date", "{{ ds }}", "--run-id", "{{ run_id }}"]
DATA_ARGS = [arg for key in data_run_params() for arg in ("--" + key.replace("_", "-"), "{{ params." + key + " }}")]


def run_params() -> dict[str, Param]:
    """The DAG's Params: the ModelConfig fields a run may set (defaults, bounds, titles from hparams) and scenes."""
    defaults = run_param_defaults()
    knobs = {key: Param(defaults[key], type=spec.kind, minimum=spec.minimum, maximum=spec.maximum, title=spec.title)
             for key, spec in RUN_PARAMS.items()}
    return {**knobs, "scenes": Param("", type="string", title="Ground-truth scenes",
                                     description="Parquet with session_id, scene; empty = weak-labelling rules")}


@dag(
    dag_id=TRAIN_DAG,
    schedule="@weekly",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["journey", "models", "tensorflow", "xgboost", "spark"],
    default_args=default_args(),
    params=run_params(),
)
def journey_train_models():
    """Training sets → train → evaluate → promote → score users."""
    training_data = spark_job("build_training_data", JOBS / "build_training_data.py", [
        *RUN_ARGS, *DATA_ARGS, "--scenes", "{{ params.scenes }}"])

    @task
    def train(ds=None, params=None) -> dict:
        """Train every model at its next registry version."""
        from datetime import date

        from journey.models.pipeline import train_step, training_lines

        trained = train_step(get_settings(), date.fromisoformat(ds), model_config(params))
        print("\n".join(training_lines(trained)))
        return trained

    @task
    def evaluate(trained: dict, ds=None, run_id=None, params=None) -> dict:
        """Metrics on the test window beside baselines and champion; register the challengers."""
        from datetime import date

        from journey.models.evaluate import comparison_rows
        from journey.models.pipeline import evaluate_step

        reports = evaluate_step(get_settings(), date.fromisoformat(ds), run_id, trained, model_config(params))
        for name, report in reports.items():
            print("\n".join(comparison_rows(name, report)))
        return reports

    @task
    def promote(trained: dict, params=None) -> dict:
        """Promote the challengers that pass the rule."""
        from journey.models.pipeline import decision_lines, promote_step

        decisions = promote_step(get_settings(), trained, model_config(params))
        print("\n".join(decision_lines(trained, decisions)))
        return decisions

    @task
    def report(run_id=None) -> str:
        """HTML report: metrics of the registered models against champions and baselines (docs/reports.md)."""
        from journey.reports import print_run_report

        return str(print_run_report(get_settings(), TRAIN_DAG, run_id))

    scores = spark_job("score_users", JOBS / "score_users.py", [
        *RUN_ARGS, "--lookback-days", "{{ params.lookback_days }}", "--horizon-days", "{{ params.horizon_days }}"])
    trained = train()
    training_data >> trained
    evaluate(trained) >> promote(trained) >> scores >> report()


journey_train_models()
