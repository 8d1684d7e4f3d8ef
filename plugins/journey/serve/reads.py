"""The read endpoints' two sources, both answering JSON bytes identical to FastAPI's serialisation.

- `SnapshotReads` (the service's path): the in-memory snapshot (`journey.serve.snapshot`), kept
  current by `journey.serve.refresh`; no database round trip, no thread hop.
- `DatabaseReads` (the reference): the prepared statements of `journey.serve.queries` on a
  pooled connection per request, run in the thread pool (psycopg2 blocks). Tests compare the two.
"""

from __future__ import annotations

import time

from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from journey.serve import queries
from journey.serve.models import NextBestAction, Recommendation
from journey.serve.pool import ConnectionPool
from journey.serve.refresh import SnapshotHolder
from journey.serve.snapshot import SEGMENT, SEGMENTS, dump

NEXT_BEST_ACTION = TypeAdapter(NextBestAction)
RECOMMENDATIONS = TypeAdapter(list[Recommendation])


class SnapshotReads:
    """Answers from the holder's current snapshot (taken once per request: one publish per answer)."""

    def __init__(self, holder: SnapshotHolder):
        self.holder = holder

    async def next_best_action(self, user_id: str, channel: str | None, k: int) -> bytes:
        """NextBestAction JSON."""
        return self.holder.current.next_best_action(user_id, channel, k, time.time())

    async def recommendations(self, user_id: str, k: int) -> bytes:
        """list[Recommendation] JSON."""
        return self.holder.current.recommendations(user_id, k, time.time())

    async def segments(self) -> bytes:
        """list[Segment] JSON."""
        return self.holder.current.segments

    async def segment(self, segment_id: int) -> bytes | None:
        """Segment JSON, None when the latest snapshot has no such id."""
        return self.holder.current.segment(segment_id)


class DatabaseReads:
    """Answers from the published views, one REPEATABLE READ transaction per request."""

    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    def _in_transaction(self, read, *args):
        """Run `read(conn, *args)` on a pooled connection."""
        with self.pool.transaction() as conn:
            return read(conn, *args)

    async def _read(self, read, *args):
        """`_in_transaction` in the thread pool."""
        return await run_in_threadpool(self._in_transaction, read, *args)

    async def next_best_action(self, user_id: str, channel: str | None, k: int) -> bytes:
        """NextBestAction JSON."""
        return dump(NEXT_BEST_ACTION, await self._read(queries.next_best_action, user_id, channel, k))

    async def recommendations(self, user_id: str, k: int) -> bytes:
        """list[Recommendation] JSON."""
        return dump(RECOMMENDATIONS, await self._read(queries.recommendations, user_id, k))

    async def segments(self) -> bytes:
        """list[Segment] JSON."""
        return dump(SEGMENTS, await self._read(queries.segments))

    async def segment(self, segment_id: int) -> bytes | None:
        """Segment JSON, None when the latest snapshot has no such id."""
        found = await self._read(queries.segments, segment_id)
        return dump(SEGMENT, found[0]) if found else None
