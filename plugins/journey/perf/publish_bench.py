"""Publishing profile rows to PostgreSQL: COPY (the warehouse path) against executemany INSERT.

Rows go to a temporary copy of journey.user_profiles, so the published tables are never
touched. The profile rows of a lake snapshot are repeated with suffixed user ids up to the
requested count.
"""

from __future__ import annotations

import time

import pyarrow as pa
import pyarrow.dataset as ds
from psycopg2 import sql

from journey.perf.figures import Figure, suffixed
from journey.profiles.build import PROFILE_COLUMNS
from journey.warehouse import copy_from_arrow
from journey.warehouse.bulk import BATCH_ROWS, _for_column, column_types

SCRATCH = "bench_user_profiles"
COLUMNS = [c for c in PROFILE_COLUMNS if c != "snapshot_date"]


def profile_rows(profiles_path: str, rows: int) -> pa.Table:
    """`rows` profile rows: the snapshot's rows repeated, user ids made unique with a copy suffix."""
    base = ds.dataset(profiles_path, format="parquet").to_table(columns=COLUMNS)
    copies, start = [], 0
    while start < rows:
        copies.append(suffixed(base.slice(0, min(base.num_rows, rows - start)), ["user_id"], f"-{len(copies)}"))
        start += copies[-1].num_rows
    return pa.concat_tables(copies).combine_chunks()


def _fresh_scratch(cur) -> dict[str, str]:
    """An empty temporary table shaped like journey.user_profiles; returns its column types."""
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCRATCH)))
    cur.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE journey.user_profiles)").format(sql.Identifier(SCRATCH)))
    cur.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN snapshot_date DROP NOT NULL, ALTER COLUMN run_id DROP NOT NULL")
                .format(sql.Identifier(SCRATCH)))
    return column_types(cur, SCRATCH)


def time_copy(conn, table: pa.Table) -> Figure:
    """COPY the rows (binary COPY, encoded batch by batch) and commit."""
    with conn.cursor() as cur:
        _fresh_scratch(cur)
        conn.commit()
        started = time.perf_counter()
        rows = copy_from_arrow(cur, SCRATCH, table, COLUMNS)
        conn.commit()
    return Figure("COPY", time.perf_counter() - started, rows)


def _python_rows(table: pa.Table, types: dict[str, str]) -> list[tuple]:
    """Rows as Python tuples, maps as JSON text and lists as Python lists (what psycopg2 adapts)."""
    shaped = []
    for name in COLUMNS:
        column = table.column(name).combine_chunks()
        shaped.append(_for_column(column, types[name]) if types[name] in ("json", "jsonb") else column)
    return list(zip(*[c.to_pylist() for c in shaped], strict=True))


def time_executemany(conn, table: pa.Table) -> Figure:
    """executemany INSERT of the same rows (in BATCH_ROWS slices) and commit."""
    with conn.cursor() as cur:
        types = _fresh_scratch(cur)
        conn.commit()
        statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(SCRATCH), sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
            sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
        started = time.perf_counter()
        for offset in range(0, table.num_rows, BATCH_ROWS):
            cur.executemany(statement, _python_rows(table.slice(offset, BATCH_ROWS), types))
        conn.commit()
    return Figure("executemany INSERT", time.perf_counter() - started, table.num_rows)
