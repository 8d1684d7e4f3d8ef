"""Find and read input files as text columns, naming the file in every error.

Every column is read as a string so that a bad value becomes a quarantined row with a
reason instead of a failed job or a silent null. CSV lines with the wrong number of
fields land in `_corrupt_record`.
"""

from __future__ import annotations

import csv
import io
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey.adapters import KNOWN_COLUMNS, REQUIRED_COLUMNS

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz")
PARQUET_SUFFIXES = (".parquet",)
CORRUPT = "_corrupt_record"


class SourceError(ValueError):
    """An input file or folder cannot be read; the message names it and says why."""


def _filesystem(source: str):
    """pyarrow filesystem and inner path for a local path or URI."""
    from pyarrow import fs as pafs

    uri = source if "://" in source else f"file://{_absolute(source)}"
    return pafs.FileSystem.from_uri(uri)


def _absolute(source: str) -> str:
    """Absolute local path."""
    import os

    return os.path.abspath(source)


def _spark_path(source: str, inner: str) -> str:
    """Path Spark can open for a file found under `source`."""
    if "://" not in source or source.startswith("file://"):
        return inner
    scheme_and_host = source[: source.index("://") + 3] + source.split("://", 1)[1].split("/", 1)[0]
    return scheme_and_host + "/" + inner.lstrip("/")


def list_files(source: str) -> list[str]:
    """Data files under a file or folder (hidden and `_` files skipped), sorted."""
    from pyarrow import fs as pafs

    filesystem, inner = _filesystem(source)
    info = filesystem.get_file_info(inner)
    if info.type == pafs.FileType.NotFound:
        raise SourceError(f"input not found: {source}")
    if info.type == pafs.FileType.File:
        found = [info]
    else:
        found = filesystem.get_file_info(pafs.FileSelector(inner, recursive=True))
    files = [
        f.path for f in found
        if f.type == pafs.FileType.File and not f.base_name.startswith(("_", "."))
    ]
    if not files:
        raise SourceError(f"no input files in {source}")
    return sorted(_spark_path(source, f) for f in files)


def _kind(path: str) -> str:
    """csv, json or parquet, from the file name."""
    lower = path.lower()
    for kind, suffixes in (("csv", CSV_SUFFIXES), ("json", JSON_SUFFIXES), ("parquet", PARQUET_SUFFIXES)):
        if lower.endswith(suffixes):
            return kind
    raise SourceError(f"{path}: unsupported file type (expected .csv, .json/.jsonl or .parquet)")


def csv_header(path: str) -> list[str] | None:
    """Column names on the first line of a CSV file, or None for an empty file."""
    filesystem, inner = _filesystem(path)
    with filesystem.open_input_stream(inner) as stream:
        head = stream.read(65536)
    if not head.strip():
        return None
    try:
        first_line = head.split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: header is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return [name.strip() for name in next(csv.reader(io.StringIO(first_line)))]


def check_columns(path: str, columns: list[str], fmt: str) -> None:
    """Raise SourceError naming the file when required columns are missing; log extras."""
    missing = [c for c in REQUIRED_COLUMNS[fmt] if c not in columns]
    if missing:
        hint = ""
        if len(columns) == 1 and any(d in columns[0] for d in ";\t|"):
            hint = " (the header looks like it uses another delimiter than ',')"
        raise SourceError(
            f"{path}: missing column(s) {', '.join(missing)} for format '{fmt}'{hint}; "
            f"found: {', '.join(columns) or 'none'}"
        )
    extra = [c for c in columns if c not in KNOWN_COLUMNS[fmt]]
    if extra:
        log.warning("%s: ignoring unknown column(s) %s", path, ", ".join(extra))


def _with_lineage(df: DataFrame, columns: list[str], path: str) -> DataFrame:
    """Add source_file and the raw row as JSON text."""
    if CORRUPT not in df.columns:
        df = df.withColumn(CORRUPT, F.lit(None).cast("string"))
    as_json = F.to_json(F.struct(*[F.col(f"`{c}`") for c in columns]), {"ignoreNullFields": "false"})
    raw = F.coalesce(F.col(CORRUPT), as_json)
    return df.withColumns({"source_file": F.lit(path), "raw": raw})


def _read_csv(spark: SparkSession, path: str, fmt: str) -> DataFrame | None:
    """One CSV file as text columns, or None when it is empty."""
    header = csv_header(path)
    if header is None:
        log.warning("%s: empty file, nothing to read", path)
        return None
    check_columns(path, header, fmt)
    schema = ", ".join(f"`{c}` string" for c in header) + f", {CORRUPT} string"
    df = spark.read.csv(path, header=True, schema=schema, mode="PERMISSIVE",
                        columnNameOfCorruptRecord=CORRUPT, multiLine=False)
    return _with_lineage(df, header, path)


def _read_typed(spark: SparkSession, path: str, kind: str, fmt: str) -> DataFrame:
    """One JSON or Parquet file with every column turned into text (timestamps as ISO UTC)."""
    if kind == "json":
        df = spark.read.json(path, primitivesAsString=True, mode="PERMISSIVE",
                             columnNameOfCorruptRecord=CORRUPT)
    else:
        df = spark.read.parquet(path)
    columns = [c for c in df.columns if c != CORRUPT]
    check_columns(path, columns, fmt)
    as_text = {
        c: F.date_format(F.col(c), "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
        if dict(df.dtypes)[c].startswith("timestamp") else F.col(c).cast("string")
        for c in columns
    }
    return _with_lineage(df.withColumns(as_text), columns, path)


def read_source(spark: SparkSession, source: str, fmt: str) -> tuple[DataFrame, list[str]]:
    """All files under `source` as one text DataFrame, and the list of files read."""
    files = list_files(source)
    frames = []
    for path in files:
        kind = _kind(path)
        frame = _read_csv(spark, path, fmt) if kind == "csv" else _read_typed(spark, path, kind, fmt)
        if frame is not None:
            frames.append(frame)
    if not frames:
        raise SourceError(f"no rows in {source}: all {len(files)} file(s) are empty")
    combined = frames[0]
    for frame in frames[1:]:
        combined = combined.unionByName(frame, allowMissingColumns=True)
    return combined, files
