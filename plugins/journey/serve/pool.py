"""A bounded pool of warehouse connections for the API's request threads.

Each request borrows one connection for one transaction and gives it back. The read queries run
inside that transaction at REPEATABLE READ, so every query of a request sees the same committed
state: the publish (`journey.warehouse.publish`) swaps a whole table set in one transaction, so a
request sees either the previous publish or the new one, never a half-swapped mix.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import psycopg2
import psycopg2.extensions
from psycopg2.pool import ThreadedConnectionPool

from journey.warehouse.errors import WarehouseError, first_line, redact

DEFAULT_SIZE = 8
BORROW_TIMEOUT_S = 10.0
BROKEN = (psycopg2.OperationalError, psycopg2.InterfaceError)


class PooledConnection(psycopg2.extensions.connection):
    """A connection that remembers whether the pool's `setup` has run on it."""

    ready = False


class ConnectionPool:
    """`size` connections to `url`; a borrower waits (up to BORROW_TIMEOUT_S) when all are out.

    `setup(conn)` runs once on each new connection (e.g. to PREPARE statements).
    """

    def __init__(self, url: str, size: int = DEFAULT_SIZE, setup: Callable | None = None):
        self._setup = setup
        try:
            self._pool = ThreadedConnectionPool(1, size, url, connect_timeout=10, application_name="journey-serve",
                                                connection_factory=PooledConnection)
        except psycopg2.Error as exc:
            raise WarehouseError(f"cannot connect to PostgreSQL at {redact(url)}: {first_line(exc)}") from exc
        self._free = threading.BoundedSemaphore(size)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.connection]:
        """A connection in a REPEATABLE READ transaction: committed on success, rolled back on error."""
        if not self._free.acquire(timeout=BORROW_TIMEOUT_S):
            raise WarehouseError(f"no database connection free within {BORROW_TIMEOUT_S:.0f}s")
        conn, broken = None, False
        try:
            conn = self._pool.getconn()
            if not conn.ready:
                self._ready(conn)
            try:
                yield conn
                conn.commit()
            except BaseException as exc:
                broken = isinstance(exc, BROKEN) or conn.closed != 0
                if not broken:
                    conn.rollback()
                raise
        finally:
            if conn is not None:
                self._pool.putconn(conn, close=broken)
            self._free.release()

    def _ready(self, conn: PooledConnection) -> None:
        """First use of a connection: REPEATABLE READ transactions, then `setup`."""
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        if self._setup is not None:
            self._setup(conn)
        conn.ready = True

    def close(self) -> None:
        """Close every connection."""
        self._pool.closeall()
