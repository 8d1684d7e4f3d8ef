"""PostgreSQL warehouse: embedded server, migrations, BI role, COPY loads and atomic publish.

With no JOURNEY_DB_URL the project runs its own PostgreSQL (the `pgserver` package, data
under $JOURNEY_HOME/pg). The server outlives the process that started it, so later
processes (Airflow tasks, the CLI) reuse it; `journey db stop` stops it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds

from journey.config import BI_ROLE, DB_SCHEMA, Settings
from journey.errors import JourneyError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_NAME = re.compile(r"^V(\d{3})__([a-z0-9_]+)\.sql$")
MIGRATION_LOCK = 724_2026  # pg_advisory_lock key: one migrating process at a time
BATCH_ROWS = 65_536
_migrated: set[str] = set()


class WarehouseError(JourneyError):
    """The warehouse cannot be reached or changed; the message says which and why."""


# ---------------------------------------------------------------- embedded server


def _embedded(settings: Settings):
    """Handle on the embedded server for this JOURNEY_HOME, starting it when needed."""
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    settings.pg_dir.mkdir(parents=True, exist_ok=True)
    try:
        return pgserver.get_server(settings.pg_dir, cleanup_mode=None)
    except Exception as exc:  # pgserver raises plain exceptions from initdb/pg_ctl
        raise WarehouseError(f"could not start the embedded PostgreSQL in {settings.pg_dir}: {exc}") from exc


def start_server(settings: Settings) -> str:
    """Start (or reuse) the embedded server and return its URL."""
    return _embedded(settings).get_uri()


def _postmaster(settings: Settings):
    """Information on the running embedded server, or None."""
    from pgserver.utils import PostmasterInfo

    if not (settings.pg_dir / "PG_VERSION").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(settings.pg_dir)
    return info if info is not None and info.is_running() else None


def stop_server(settings: Settings) -> bool:
    """Stop the embedded server; False when it was not running."""
    from pgserver._commands import pg_ctl

    if _postmaster(settings) is None:
        return False
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=settings.pg_dir, user=user)
    return True


def server_status(settings: Settings) -> str:
    """One line: where the data lives and whether the server runs."""
    if settings.db_url:
        return f"external PostgreSQL (JOURNEY_DB_URL): {redact(settings.db_url)}"
    info = _postmaster(settings)
    if info is None:
        return f"stopped (data directory {settings.pg_dir})"
    return f"running: {info.get_uri()} (pid {info.pid}, data directory {settings.pg_dir})"


def database_url(settings: Settings) -> str:
    """JOURNEY_DB_URL when set, otherwise the embedded server's URL (started if needed)."""
    return settings.db_url or start_server(settings)


def redact(url: str) -> str:
    """URL with any password replaced by ***."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


# ---------------------------------------------------------------- connections and migrations


def connect(settings: Settings):
    """psycopg2 connection to the warehouse, migrated to the latest schema."""
    import psycopg2

    url = database_url(settings)
    try:
        conn = psycopg2.connect(url)
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseError(f"cannot connect to PostgreSQL at {redact(url)}: {reason}") from exc
    if url not in _migrated:
        migrate(conn)
        _migrated.add(url)
    return conn


def migration_files(folder: Path = MIGRATIONS) -> list[tuple[str, str, Path]]:
    """(version, name, path) of every migration file, in version order."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise WarehouseError(f"{path}: migration files must be named V<NNN>__<name>.sql")
        found.append((match.group(1), match.group(2), path))
    return found


def _checksum(path: Path) -> str:
    """sha256 of a migration file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def migrate(conn, folder: Path = MIGRATIONS) -> list[str]:
    """Apply pending migrations once each (one transaction per file); return those applied."""
    applied_now = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {DB_SCHEMA}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {DB_SCHEMA}.schema_migrations (version text PRIMARY KEY, "
                "name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.commit()
            cur.execute(f"SELECT version, checksum FROM {DB_SCHEMA}.schema_migrations")
            done = dict(cur.fetchall())
            for version, name, path in migration_files(folder):
                if version in done:
                    if done[version] != _checksum(path):
                        raise WarehouseError(f"{path.name} changed after it was applied: add a new migration instead")
                    continue
                cur.execute(path.read_text(encoding="utf-8"))
                cur.execute(f"INSERT INTO {DB_SCHEMA}.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (version, name, _checksum(path)))
                conn.commit()
                applied_now.append(path.name)
                log.info("applied migration %s", path.name)
            ensure_bi_role(cur)
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        finally:
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
            conn.commit()
    return applied_now


def ensure_bi_role(cur) -> None:
    """Read-only login role for dashboards: SELECT on every table and view of the schema."""
    password = os.environ.get("JOURNEY_BI_PASSWORD", "journey_bi")
    cur.execute(f"SELECT 1 FROM pg_roles WHERE rolname = '{BI_ROLE}'")
    if cur.fetchone() is None:
        cur.execute(f"CREATE ROLE {BI_ROLE} LOGIN PASSWORD %s", (password,))
    cur.execute(f"GRANT USAGE ON SCHEMA {DB_SCHEMA} TO {BI_ROLE}")
    cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {DB_SCHEMA} TO {BI_ROLE}")
    cur.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {DB_SCHEMA} GRANT SELECT ON TABLES TO {BI_ROLE}")


# ---------------------------------------------------------------- bulk loads


def _pg_array(values: list | None) -> str | None:
    """A PostgreSQL array literal for a list of strings."""
    if values is None:
        return None
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' if v is not None else "NULL"
              for v in values)
    return "{" + ",".join(quoted) + "}"


def _csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Batch with list columns as array literals (other types CSV-encode as PostgreSQL reads them)."""
    arrays = []
    for column, field in zip(batch.columns, batch.schema, strict=False):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            column = pa.array([_pg_array(v) for v in column.to_pylist()], pa.string())
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def as_batches(source: pa.Table | Iterable[pa.RecordBatch] | str) -> Iterator[pa.RecordBatch]:
    """Record batches from an Arrow table, an iterable of batches or a Parquet path."""
    if isinstance(source, str):
        path = source[len("file://"):] if source.startswith("file://") else source
        yield from ds.dataset(path, format="parquet").to_batches(batch_size=BATCH_ROWS)
    elif isinstance(source, pa.Table):
        yield from source.to_batches(max_chunksize=BATCH_ROWS)
    else:
        yield from source


def copy_batches(cur, table: str, source: pa.Table | Iterable[pa.RecordBatch] | str, columns: list[str]) -> int:
    """COPY rows into a table batch by batch (CSV, NULL = unquoted empty); returns rows copied."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    total = 0
    for batch in as_batches(source):
        if batch.num_rows == 0:
            continue
        buffer = io.BytesIO()
        pacsv.write_csv(_csv_ready(batch.select(columns)), buffer, pacsv.WriteOptions(include_header=False))
        buffer.seek(0)
        cur.copy_expert(statement, buffer)
        total += batch.num_rows
    return total


# ---------------------------------------------------------------- atomic publish


@dataclass(frozen=True)
class TableLoad:
    """Rows for one table of a publish set and the rows they replace."""

    table: str
    source: object  # pa.Table | Iterable[pa.RecordBatch] | Parquet path
    columns: list[str]
    replace: str | None = None  # SQL condition on the rows replaced; None = the whole table
    params: dict | None = None


def publish(conn, loads: list[TableLoad]) -> dict[str, int]:
    """Load a set of tables in one transaction: stage with COPY, delete replaced rows, insert.

    Readers see the old rows until the commit and the new ones after it; on any error
    nothing changes.
    """
    loaded: dict[str, int] = {}
    try:
        with conn.cursor() as cur:
            for load in loads:
                stage = f"stage_{load.table}"
                target = f"{DB_SCHEMA}.{load.table}"
                cols = ", ".join(load.columns)
                cur.execute(f"CREATE TEMP TABLE {stage} (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP")
                loaded[load.table] = copy_batches(cur, stage, load.source, load.columns)
                where = f" WHERE {load.replace}" if load.replace else ""
                cur.execute(f"DELETE FROM {target}{where}", load.params or {})
                cur.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage}")
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return loaded
