"""Keep the API's in-memory snapshot current: reload after each publish, swap in one assignment.

    holder = SnapshotHolder(url)      # loads the first snapshot (blocking)
    holder.start()                    # background thread: LISTEN + poll
    holder.current.next_best_action(...)

How a publish is noticed: `journey.warehouse.publish` sends `pg_notify('journey_publish', …)`
inside its transaction, so PostgreSQL delivers it exactly when the publish commits (never for a
rolled-back one). The thread LISTENs on its own connection and reloads at once. Every
`poll_s` seconds it also reads a cheap fingerprint of the small tables that change outside a
publish: `journey.campaigns` (count, latest published_at: a hand-inserted run) and
`journey.suppression_list` (count and a hash of its rows: an opt-out is honoured within
`poll_s`). A changed campaign fingerprint reloads everything; a changed suppression list only
reloads the list. After a lost connection the thread reconnects and reloads everything (a
notification sent while it was away is not missed).

Each reload reads one REPEATABLE READ transaction and replaces `current` with one reference
assignment: a request holds the snapshot it started with and sees either the old publish or
the new one, never a mix. The old snapshot is freed once no request holds it.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import select
import threading
import time

import psycopg2

from journey.serve import queries
from journey.serve.snapshot import Snapshot, load_snapshot, load_suppressions
from journey.warehouse.errors import WarehouseError, first_line, redact
from journey.warehouse.publish import PUBLISH_CHANNEL

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
RETRY_SECONDS = 5.0

FINGERPRINT = """
SELECT (SELECT count(*) || '/' || coalesce(max(published_at)::text, '') FROM journey.campaigns),
       (SELECT count(*) || '/' || coalesce(sum(hashtext(user_id || '/' || reason || '/'
                                                        || coalesce(expires_at::text, '')))::text, '0')
        FROM journey.suppression_list)
"""


def _connect(url: str):
    """A new connection of the refresher (statements of journey.serve.queries prepared)."""
    try:
        conn = psycopg2.connect(url, connect_timeout=10, application_name="journey-serve-snapshot")
    except psycopg2.Error as exc:
        raise WarehouseError(f"cannot connect to PostgreSQL at {redact(url)}: {first_line(exc)}") from exc
    queries.prepare(conn)
    return conn


def fingerprint(conn) -> tuple[str, str]:
    """(campaigns, suppression list) fingerprints: they change when those tables do."""
    with conn.cursor() as cur:
        cur.execute(FINGERPRINT)
        found = cur.fetchone()
    conn.rollback()
    return found


class SnapshotHolder:
    """The current Snapshot and the thread that replaces it (see the module docstring)."""

    def __init__(self, url: str, poll_s: float = POLL_SECONDS):
        self.url, self.poll_s = url, poll_s
        self.reloads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn = self._open()
        try:
            self._fingerprint = fingerprint(self._conn)
            self.current: Snapshot = self._load(self._conn)
        except BaseException:
            self._conn.close()
            raise

    def _load(self, conn) -> Snapshot:
        """A full snapshot, logged with its size and time.

        The cycle collector is off while millions of objects are built (it would scan them again
        and again) and the result is frozen out of its scans (`gc.freeze`): a full collection
        over a 1M-user snapshot would stall requests for tens of milliseconds.
        """
        gc.disable()
        try:
            snapshot = load_snapshot(conn)
        finally:
            gc.enable()
        gc.freeze()
        self.reloads += 1
        log.info("snapshot %d: %s users, %d campaign run(s), %d suppressed, loaded in %.1f s", self.reloads,
                 f"{len(snapshot.users):,}", len(snapshot.campaigns), len(snapshot.suppressed), snapshot.load_seconds)
        return snapshot

    def reload(self, conn) -> None:
        """Read everything again and swap it in (the fingerprint first: a change after it triggers another)."""
        self._fingerprint = fingerprint(conn)
        self.current = self._load(conn)

    def _check(self, conn) -> None:
        """Poll: reload everything when campaigns changed, only the suppression list when that did."""
        campaigns, suppression = fingerprint(conn)
        if campaigns != self._fingerprint[0]:
            self.reload(conn)
        elif suppression != self._fingerprint[1]:
            self._fingerprint = (campaigns, suppression)
            suppressed = load_suppressions(conn)
            conn.rollback()
            self.current = dataclasses.replace(self.current, suppressed=suppressed)
            log.info("suppression list reloaded: %d user(s)", len(suppressed))

    def _open(self):
        """A connection LISTENing to publishes (notifications queue from here on)."""
        conn = _connect(self.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {PUBLISH_CHANNEL}")
        conn.autocommit = False
        return conn

    def _listen(self) -> None:
        """One connection's life: wait for notifications or the poll interval, reload on a publish."""
        conn, self._conn = self._conn, None
        if conn is None:  # reconnected: reload whatever was published while no one listened
            conn = self._open()
            self.reload(conn)
        try:
            while not self._stop.is_set():
                if select.select([conn], [], [], self.poll_s)[0]:
                    conn.poll()
                if conn.notifies:
                    tables = sorted({note.payload for note in conn.notifies})
                    conn.notifies.clear()
                    log.info("publish of %s: reloading the snapshot", ", ".join(tables))
                    self.reload(conn)
                else:
                    self._check(conn)
        finally:
            conn.close()

    def _run(self) -> None:
        """The thread: listen until stopped, reconnecting after errors."""
        while not self._stop.is_set():
            try:
                self._listen()
            except (psycopg2.Error, WarehouseError) as exc:
                log.warning("snapshot refresh: %s; retrying in %.0f s", first_line(exc), RETRY_SECONDS)
                self._stop.wait(RETRY_SECONDS)

    def start(self) -> None:
        """Start the refresh thread (a daemon: it never holds the process up)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="journey-snapshot-refresh", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the refresh thread (it ends after its current wait or reload)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def age_seconds(self) -> float:
        """Seconds since the current snapshot was read."""
        return time.time() - self.current.loaded_at
