"""Lake layout (Parquet under JOURNEY_LAKE) and atomic writes through the Hadoop FileSystem API.

Writes go to a temporary sibling path and are renamed into place, so a killed job never
leaves half an output where readers look. Works for local paths and any Hadoop URI.
The lake owns path handling: `as_uri`, `local_path` and the small JSON documents (`write_json`).
"""

from __future__ import annotations

import json
import uuid
from datetime import date

from journey.config import ENV_LAKE, Settings
from journey.errors import ConfigError

CURATED_EVENTS = "curated/events"
CURATED_USERS = "curated/users"
PROFILES = "features/profiles"
SEGMENTS = "features/segments"
SEGMENT_SUMMARY = "features/segment_summary"
SEGMENT_TRANSITIONS = "features/segment_transitions"
RUNS = "runs"
TRAINING_USERS = "training/users"  # user × cut-off rows: behaviour, propensity, responsiveness
TRAINING_SCENES = "training/scenes"  # session rows: scene
TRAINING_PLANS = "training/plans"  # <snapshot>.json: cut-offs and the label horizon used
MODELS = "models"  # models/<name>/v<N>/
CAMPAIGN_OUTCOMES = "campaigns/outcomes"  # campaign_id=…/run_id=…/outcomes.parquet: per-user results rows
USER_SCORES = "scores/user_scores"  # batch scores before publish, snapshot_date=…


def path(settings: Settings, *parts: str) -> str:
    """Join lake-relative parts onto the lake root."""
    return "/".join([settings.lake, *[p.strip("/") for p in parts]])


def snapshot_path(settings: Settings, dataset: str, snapshot_date: date) -> str:
    """Path of one snapshot partition of a feature dataset."""
    return path(settings, dataset, f"snapshot_date={snapshot_date.isoformat()}")


def training_plan_path(settings: Settings, snapshot_date: date) -> str:
    """The JSON record of one snapshot's training cut-off plan."""
    return path(settings, TRAINING_PLANS, f"{snapshot_date.isoformat()}.json")


def quarantine_path(settings: Settings, dataset: str, run_id: str) -> str:
    """Where one run's rejected rows of a dataset are kept."""
    return path(settings, "quarantine", dataset, f"run_id={safe_name(run_id)}")


def run_summary_path(settings: Settings, job: str, run_id: str) -> str:
    """JSON summary a job leaves for the publish step and people."""
    return path(settings, RUNS, job, f"{safe_name(run_id)}.json")


def safe_name(run_id: str) -> str:
    """Run id made safe for a path segment (Airflow run ids hold ':' and '+')."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)


def _fs(spark, target: str):
    """Hadoop FileSystem and Path objects for a target path."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(target)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def exists(spark, target: str) -> bool:
    """True when the path exists in the lake."""
    fs, hpath = _fs(spark, target)
    return bool(fs.exists(hpath))


def list_partitions(spark, dataset_path: str, key: str) -> list[str]:
    """Values of `key=value` sub-directories under a dataset path, sorted."""
    fs, hpath = _fs(spark, dataset_path)
    if not fs.exists(hpath):
        return []
    prefix = f"{key}="
    names = [status.getPath().getName() for status in fs.listStatus(hpath)]
    return sorted(n[len(prefix) :] for n in names if n.startswith(prefix))


def _swap_into_place(spark, tmp: str, target: str) -> None:
    """Replace target with tmp (delete then rename)."""
    fs, target_path = _fs(spark, target)
    _, tmp_path = _fs(spark, tmp)
    fs.mkdirs(target_path.getParent())
    if fs.exists(target_path):
        fs.delete(target_path, True)
    if not fs.rename(tmp_path, target_path):
        raise OSError(f"could not move {tmp} into place at {target}")


def _tmp_sibling(target: str) -> str:
    """A unique temporary path next to target, ignored by Spark readers (leading '_')."""
    parent, _, name = target.rstrip("/").rpartition("/")
    return f"{parent}/_tmp-{uuid.uuid4().hex[:12]}-{name}"


def write_parquet_atomic(df, target: str) -> None:
    """Write a DataFrame as Parquet to target, replacing what was there, all or nothing."""
    tmp = _tmp_sibling(target)
    df.write.mode("overwrite").parquet(tmp)
    _swap_into_place(df.sparkSession, tmp, target)


def write_partitions_atomic(df, dataset_path: str, key: str) -> list[str]:
    """Write df partitioned by `key`, replacing only the partitions it holds; returns them."""
    spark = df.sparkSession
    tmp = _tmp_sibling(dataset_path)
    df.write.mode("overwrite").partitionBy(key).parquet(tmp)
    written = list_partitions(spark, tmp, key)
    for value in written:
        _swap_into_place(spark, f"{tmp}/{key}={value}", f"{dataset_path}/{key}={value}")
    fs, tmp_path = _fs(spark, tmp)
    fs.delete(tmp_path, True)
    return written


def as_uri(target: str) -> str:
    """Local paths become file:// URIs; URIs pass through."""
    return target if "://" in target else f"file://{target}"


def local_path(target: str, needs_local: str = "") -> str:
    """What pyarrow and local tools open: a file:// URI as a plain path; other URIs pass through.

    With `needs_local` (what needs it), a URI of another file system is refused with a message naming
    JOURNEY_LAKE, for tools that work on local files only (Keras, XGBoost, the quarantine viewer).
    """
    if target.startswith("file://"):
        return target[len("file://"):]
    if needs_local and "://" in target:
        raise ConfigError(f"{needs_local} needs a local or mounted lake, not {target}: set {ENV_LAKE} to a path")
    return target


def write_json(target: str, payload: dict) -> None:
    """Write a small JSON document atomically without Spark (pyarrow file system, tmp file + move)."""
    from pyarrow import fs as pafs

    filesystem, inner = pafs.FileSystem.from_uri(as_uri(target))
    filesystem.create_dir(inner.rsplit("/", 1)[0], recursive=True)
    tmp = f"{inner}.{uuid.uuid4().hex[:8]}.tmp"
    with filesystem.open_output_stream(tmp) as stream:
        stream.write(json.dumps(payload, indent=2, default=str).encode("utf-8"))
    filesystem.move(tmp, inner)


def read_json(target: str) -> dict:
    """Read a small JSON document from the lake without Spark (pyarrow file system)."""
    from pyarrow import fs as pafs

    filesystem, inner = pafs.FileSystem.from_uri(as_uri(target))
    with filesystem.open_input_stream(inner) as stream:
        return json.loads(stream.read().decode("utf-8"))
