"""Atomic publish of a table set: stage every load with COPY, then swap rows in one transaction."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from psycopg2 import sql

from journey.config import DB_SCHEMA
from journey.warehouse.bulk import copy_from_arrow, copy_from_parquet
from journey.warehouse.errors import WarehouseError
from journey.warehouse.publish_lock import hold_publish_lock

log = logging.getLogger(__name__)

PUBLISH_CHANNEL = "journey_publish"  # LISTENed to by journey.serve.refresh
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class TableLoad:
    """Rows for one table of a publish set and the rows of that table they replace."""

    table: str  # a table of schema journey, e.g. "user_segments"
    source: pa.Table | Iterable[pa.RecordBatch] | str | Path  # Arrow data, or a Parquet file/folder
    columns: list[str]
    replace: str | None = None  # SQL condition on the rows replaced, e.g. "snapshot_date = %(snapshot_date)s"
    params: dict | None = None  # parameters of `replace`


def _stage(cur, index: int, load: TableLoad) -> tuple[sql.Identifier, int]:
    """COPY one load into a temporary table shaped like its target; returns (staging table, rows)."""
    if not TABLE_NAME.match(load.table):
        raise WarehouseError(f"{load.table!r} is not a table name of schema {DB_SCHEMA}")
    name = f"stage_{index}_{load.table}"[:63]
    cur.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP")
                .format(sql.Identifier(name), sql.Identifier(DB_SCHEMA, load.table)))
    if isinstance(load.source, str | Path):
        rows = copy_from_parquet(cur, name, load.source, load.columns)
    else:
        rows = copy_from_arrow(cur, name, load.source, load.columns)
    return sql.Identifier(name), rows


def _check_replace(cur, stage: sql.Identifier, load: TableLoad) -> None:
    """Every staged row must match `replace`, or a rerun would leave it behind as a duplicate."""
    if load.replace is None:
        return
    cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE ({}) IS NOT TRUE").format(stage, sql.SQL(load.replace)),
                load.params)
    outside = cur.fetchone()[0]
    if outside:
        raise WarehouseError(f"{outside} row(s) for {DB_SCHEMA}.{load.table} do not match its replace condition "
                             f"({load.replace} with {load.params}): a rerun would not replace them")


def _swap(cur, stage: sql.Identifier, load: TableLoad) -> None:
    """Delete the rows the load replaces from the target, then insert the staged rows."""
    target = sql.Identifier(DB_SCHEMA, load.table)
    where = sql.SQL(" WHERE {}").format(sql.SQL(load.replace)) if load.replace else sql.SQL("")
    cur.execute(sql.SQL("DELETE FROM {}{}").format(target, where), load.params)
    columns = sql.SQL(", ").join(map(sql.Identifier, load.columns))
    cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, columns, columns, stage))


def announce(cur, tables: list[str]) -> None:
    """NOTIFY journey_publish with the tables' names: delivered to listeners (the API) when the publish commits."""
    cur.execute("SELECT pg_notify(%s, %s)", (PUBLISH_CHANNEL, ",".join(tables)))


def publish(conn, loads: list[TableLoad], lock: str | None = None) -> dict[str, int]:
    """Publish a table set in one transaction; returns rows loaded per table.

    With `lock` (e.g. "campaign spring"), the transaction first takes that name's advisory lock
    (`hold_publish_lock`): a second publisher of the same name waits for the first to finish.

    All loads are staged first (COPY into temporary tables), then each target is locked
    against other writers (readers are never blocked), its `replace` rows deleted (the whole
    table when None) and the staged rows inserted, and `journey_publish` is notified. Readers see the old set until the commit
    and the new set after it; on any error the transaction is rolled back and nothing changes.
    """
    if conn.autocommit:
        raise WarehouseError("publish needs a connection with autocommit off (one transaction per set)")
    counts: dict[str, int] = {}
    try:
        if lock:
            hold_publish_lock(conn, lock)
        with conn.cursor() as cur:
            staged = [(_stage(cur, i, load), load) for i, load in enumerate(loads)]
            for table in sorted({load.table for load in loads}):  # fixed order: publishers cannot deadlock
                cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE")
                            .format(sql.Identifier(DB_SCHEMA, table)))
            for (stage, rows), load in staged:
                _check_replace(cur, stage, load)
                _swap(cur, stage, load)
                counts[load.table] = counts.get(load.table, 0) + rows
            announce(cur, sorted(counts))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("published %s", ", ".join(f"{table}: {rows:,} rows" for table, rows in counts.items()))
    return counts
