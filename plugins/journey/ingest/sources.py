"""Find and read input files as text columns, naming the file in every error.

Every column is read as a string so that a bad value becomes a quarantined row with a
reason instead of a failed job or a silent null. CSV lines with the wrong number of
fields land in `_corrupt_record`.

Text files are read by Spark's CSV reader (splittable; delimiter, header, names and encoding
from the feed's `ReadOptions`), or line by line when fields are separated by whitespace, the
encoding is UTF-16/32, or rows are identified by their line number (`rows_are_distinct`): each file is then read
whole, split into numbered lines, and each line into fields; a line with another number of
fields than the columns keeps its text in `_corrupt_record` and says why in `_malformed`.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey.errors import InputError
from journey.ingest.adapters import FeedFormat, as_feed
from journey.ingest.mapping import ReadOptions

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz", ".dat")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz")
PARQUET_SUFFIXES = (".parquet",)
CORRUPT = "_corrupt_record"
MALFORMED = "_malformed"
LINE_BREAK = r"\r\n|\r|\n"
WIDE_ENCODINGS = ("UTF-16", "UTF-16BE", "UTF-16LE", "UTF-32")  # not split on '\n' bytes: read line by line
OUTSIDE_QUOTES = '(?=(?:[^"]*"[^"]*")*[^"]*$)'  # followed by an even number of quotes


class SourceError(InputError):
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


def first_line(path: str, encoding: str = "UTF-8") -> str | None:
    """First line of a text file (a UTF-8 byte-order mark removed), or None for an empty file."""
    filesystem, inner = _filesystem(path)
    with filesystem.open_input_stream(inner) as stream:
        head = stream.read(65536)
    if not head.strip():
        return None
    codec = "utf-8-sig" if encoding == "UTF-8" else encoding
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(head)
    line = re.split(LINE_BREAK, text, maxsplit=1)[0]
    if "\ufffd" in line:
        raise SourceError(f"{path}: first line is not {encoding} text (set read.encoding in the mapping)")
    return line


def header_names(line: str, options: ReadOptions) -> list[str]:
    """Column names on a header line split by the file's delimiter."""
    if options.whitespace:
        return line.split()
    return [name.strip() for name in next(csv.reader(io.StringIO(line), delimiter=options.delimiter))]


def check_columns(path: str, columns: list[str], fmt: str | FeedFormat) -> None:
    """Raise SourceError naming the file when required columns are missing; log extras."""
    feed = as_feed(fmt)
    missing = [c for c in feed.required if c not in columns]
    if missing:
        hint = ""
        if len(columns) == 1 and any(d in columns[0] for d in ";\t|"):
            hint = " (the header looks like it uses another delimiter than ',')"
        raise SourceError(
            f"{path}: missing column(s) {', '.join(missing)} for format '{feed.name}'{hint}; "
            f"found: {', '.join(columns) or 'none'}"
        )
    extra = [c for c in columns if c not in feed.known]
    if extra:
        log.warning("%s: ignoring unknown column(s) %s", path, ", ".join(extra))


def _file_path() -> F.Column:
    """Path of the file a row came from, as listed by list_files (local paths without file:)."""
    uri = F.regexp_replace(F.col("_metadata.file_path"), r"\+", "%2B")  # url_decode reads '+' as a space
    return F.url_decode(F.regexp_replace(uri, "^file:(//)?", ""))


def _with_lineage(df: DataFrame, columns: list[str]) -> DataFrame:
    """Add the raw row as JSON text (source_file is set by the reader)."""
    for column in (CORRUPT, MALFORMED):
        if column not in df.columns:
            df = df.withColumn(column, F.lit(None).cast("string"))
    as_json = F.to_json(F.struct(*[F.col(f"`{c}`") for c in columns]), {"ignoreNullFields": "false"})
    return df.withColumn("raw", F.coalesce(F.col(CORRUPT), as_json))


def _source_file(df: DataFrame, paths: list[str]) -> DataFrame:
    """Add source_file: the path itself for one file, the row's file for several."""
    return df.withColumn("source_file", F.lit(paths[0]) if len(paths) == 1 else _file_path())


def _text_group(path: str, fmt: FeedFormat) -> tuple | None:
    """Group key of a text file (reader and column names), None when it is empty; checks the columns."""
    options = fmt.read
    line = first_line(path, options.encoding)
    if line is None:
        log.warning("%s: empty file, nothing to read", path)
        return None
    columns = header_names(line, options) if options.header else list(options.names)
    check_columns(path, columns, fmt)
    by_line = options.whitespace or fmt.line_numbers or options.encoding in WIDE_ENCODINGS
    if by_line and options.encoding != "UTF-8" and path.lower().endswith(".gz"):
        raise SourceError(f"{path}: a compressed file is read line by line only as UTF-8 text "
                          f"(read.encoding is {options.encoding}); decompress it first")
    return ("lines" if by_line else "csv", tuple(columns))


def _parquet_group(path: str, fmt: FeedFormat) -> tuple:
    """Group key of a Parquet file (its schema, read from the footer); checks the columns."""
    import pyarrow.parquet as pq

    filesystem, inner = _filesystem(path)
    try:
        schema = pq.read_schema(inner, filesystem=filesystem).remove_metadata()
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise SourceError(f"{path}: not a readable Parquet file ({exc})") from exc
    check_columns(path, schema.names, fmt)
    return ("parquet", str(schema))


def _read_csv(spark: SparkSession, paths: list[str], header: tuple[str, ...], options: ReadOptions) -> DataFrame:
    """Delimited files sharing one header (or the mapping's names), as text columns, in one read."""
    schema = ", ".join(f"`{c}` string" for c in header) + f", {CORRUPT} string"
    df = spark.read.csv(paths, header=options.header, sep=options.delimiter, encoding=options.encoding,
                        schema=schema, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT, multiLine=False)
    return _with_lineage(_source_file(df, paths), list(header))


def _file_texts(spark: SparkSession, paths: list[str], encoding: str) -> DataFrame:
    """One row per file: source_file and its whole text (decoded from `encoding`, byte-order mark removed)."""
    if encoding == "UTF-8":
        files, text = spark.read.text(paths, wholetext=True), F.col("value")
    else:
        files = spark.read.format("binaryFile").load(paths)
        text = F.decode(F.col("content"), encoding)
    return _source_file(files, paths).select("source_file", F.regexp_replace(text, "^\ufeff", "").alias("text"))


def _fields(line: F.Column, options: ReadOptions) -> F.Column:
    """A line split into its fields: on runs of whitespace, or on the delimiter outside double quotes."""
    if options.whitespace:
        return F.split(F.regexp_replace(line, r"^\s+|\s+$", ""), r"\s+")
    return F.split(line, rf"\Q{options.delimiter}\E{OUTSIDE_QUOTES}", -1)


def _field_value(field: F.Column, options: ReadOptions) -> F.Column:
    """Text of one field: surrounding quotes and doubled quotes undone; empty → null (as the CSV reader does)."""
    if options.whitespace:
        return field
    unquoted = F.regexp_replace(F.regexp_replace(field, r'^"(.*)"$', "$1"), '""', '"')
    return F.nullif(unquoted, F.lit(""))


def _read_lines(spark: SparkSession, paths: list[str], names: tuple[str, ...], options: ReadOptions) -> DataFrame:
    """Text files line by line: fields by position, `_line` numbers from 1; blank lines (and the header) skipped."""
    lines = _file_texts(spark, paths, options.encoding).select(
        "source_file", F.posexplode(F.split(F.col("text"), LINE_BREAK)).alias("pos", "line"))
    lines = lines.where((F.col("pos") >= (1 if options.header else 0)) & F.col("line").rlike(r"\S"))
    fields, number = _fields(F.col("line"), options), (F.col("pos") + 1).cast("string")
    fits = F.size(fields) == len(names)
    why = F.concat(F.lit("line "), number, F.lit(" has "), F.size(fields).cast("string"),
                   F.lit(f" field(s), expected {len(names)} ({', '.join(names)}): "), F.col("line"))
    df = lines.select(
        "source_file",
        (F.col("pos") + 1).alias("_line"),
        *[F.when(fits, _field_value(fields[i], options)).alias(name) for i, name in enumerate(names)],
        F.when(~fits, F.col("line")).alias(CORRUPT),
        F.when(~fits, why).alias(MALFORMED),
    )
    return _with_lineage(df, list(names))


def _read_typed(spark: SparkSession, paths: list[str], kind: str, fmt: FeedFormat) -> DataFrame:
    """JSON or Parquet files with every column turned into text (timestamps as ISO UTC), in one read."""
    if kind == "json":
        df = spark.read.json(paths, primitivesAsString=True, mode="PERMISSIVE",
                             columnNameOfCorruptRecord=CORRUPT)
        check_columns(paths[0], [c for c in df.columns if c != CORRUPT], fmt)
    else:
        df = spark.read.parquet(*paths)
    columns = [c for c in df.columns if c != CORRUPT]
    as_text = {
        c: F.date_format(F.col(c), "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
        if dict(df.dtypes)[c].startswith("timestamp") else F.col(c).cast("string")
        for c in columns
    }
    return _with_lineage(_source_file(df, paths).withColumns(as_text), columns)


def _groups(files: list[str], fmt: FeedFormat) -> dict[tuple, list[str]]:
    """Files that can be read together: text by reader and columns, Parquet by schema, JSON one by one."""
    groups: dict[tuple, list[str]] = {}
    for path in files:
        kind = _kind(path)
        if kind == "csv":
            key = _text_group(path, fmt)
        elif kind == "parquet":
            key = _parquet_group(path, fmt)
        else:
            key = ("json", path)
        if key is not None:
            groups.setdefault(key, []).append(path)
    return groups


def _read_group(spark: SparkSession, key: tuple, paths: list[str], fmt: FeedFormat) -> DataFrame:
    """One read of a group of alike files, by the reader its key names."""
    kind, detail = key
    if kind == "csv":
        return _read_csv(spark, paths, detail, fmt.read)
    if kind == "lines":
        return _read_lines(spark, paths, detail, fmt.read)
    return _read_typed(spark, paths, kind, fmt)


def read_source(spark: SparkSession, source: str, fmt: str | FeedFormat) -> tuple[DataFrame, list[str]]:
    """All files under `source` as one text DataFrame (one read per group of alike files), and the files read."""
    fmt = as_feed(fmt)
    files = list_files(source)
    frames = [_read_group(spark, key, paths, fmt) for key, paths in _groups(files, fmt).items()]
    if not frames:
        raise SourceError(f"no rows in {source}: all {len(files)} file(s) are empty")
    combined = frames[0]
    for frame in frames[1:]:
        combined = combined.unionByName(frame, allowMissingColumns=True)
    return combined, files
