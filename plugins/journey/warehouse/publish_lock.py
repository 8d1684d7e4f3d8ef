"""One publisher per name at a time: a PostgreSQL advisory lock held until the transaction ends.

Two runs publishing the same thing (two triggers of one campaign id, two daily runs) take the
same lock: the second waits until the first commits or rolls back, saying so in its log, then
publishes on top of the first's committed state. A wait longer than PUBLISH_LOCK_WAIT fails with
a message naming what was being published. The lock is released by the commit or rollback that
ends the publish, also when the process dies (the server ends the session's transaction).
"""

from __future__ import annotations

import hashlib

import psycopg2.errors

from journey.warehouse.errors import WarehouseError

PUBLISH_LOCK_WAIT = "30min"  # lock_timeout while waiting for another publisher of the same name


def lock_key(name: str) -> int:
    """The signed 64-bit advisory lock key of `name` (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(f"journey publish: {name}".encode()).digest()[:8], "big", signed=True)


def hold_publish_lock(conn, name: str, wait: str = PUBLISH_LOCK_WAIT) -> None:
    """Take the transaction-level lock of `name` on `conn` (autocommit off), waiting up to `wait` for it."""
    key = lock_key(name)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (key,))
        if cur.fetchone()[0]:
            return
        print(f"{name} is being published by another run: waiting up to {wait} for it to finish", flush=True)
        cur.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)", (wait,))
        previous = cur.fetchone()[0]
        try:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
        except psycopg2.errors.LockNotAvailable as exc:
            conn.rollback()
            raise WarehouseError(f"{name} is being published by another run, still after {wait}: "
                                 "nothing was published; rerun once it has finished") from exc
        cur.execute("SELECT set_config('lock_timeout', %s, true)", (previous,))
    print(f"{name}: the other run finished; publishing now", flush=True)
