"""The API's read path: the published tables held in memory as pre-serialised JSON fragments.

    snapshot = load_snapshot(conn)          # one REPEATABLE READ transaction: one consistent publish
    body = snapshot.next_best_action("u_1042", channel=None, k=5, now=time.time())

`load_snapshot` reads the current campaign runs and every user's context, holdouts, candidate
treatments and recommendations with the same SQL expressions as `journey.serve.queries` (the
database path), parses them with psycopg2 like it does, and serialises each part once with the
response models' pydantic serialisers. A request then only picks the parts that apply now and
joins bytes: the answer is byte-for-byte the one the database path (and FastAPI) would give.

What stays decided at request time, so it is exact however old the snapshot is: whether a
campaign is live (start_time <= now < end_time), whether a suppression row has expired, the
channel filter and k. The rules are those of `journey.serve.queries` (its module docstring).
A Snapshot is never changed after it is built; `journey.serve.refresh` swaps in a new one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from journey.serve import queries
from journey.serve.models import Campaign, Recommendation, Segment

ITERSIZE = 20_000  # rows per round trip of the server-side cursors

CAMPAIGN_RUNS = """
SELECT r.campaign_id, r.run_id, r.snapshot_date, c.name, c.objective, r.published_at, c.start_time, c.end_time
FROM journey.campaign_runs_current r JOIN journey.campaigns c USING (campaign_id, run_id)
"""

USER_CONTEXTS = """
SELECT user_id,
       CASE WHEN g.segment_id IS NULL THEN NULL ELSE jsonb_build_object('segment_id', g.segment_id,
            'segment_name', g.segment_name, 'snapshot_date', g.snapshot_date) END,
       p.lifecycle_stage,
       CASE WHEN s.user_id IS NULL THEN NULL ELSE to_jsonb(s) - 'user_id' - 'run_id' END
FROM journey.user_segments g
FULL JOIN (SELECT user_id, lifecycle_stage FROM journey.user_profiles) p USING (user_id)
FULL JOIN journey.user_scores s USING (user_id)
"""

HOLDOUTS = """
SELECT h.user_id, h.campaign_id FROM journey.campaign_holdout h
JOIN journey.campaign_runs_current r USING (campaign_id, run_id)
"""

TREATMENTS = f"""
SELECT coalesce(co.user_id, ad.user_id), coalesce(co.campaign_id, ad.campaign_id),
       {queries.TREATMENT_PARTS},
       co.expected_value, co.channel, ad.channel
FROM journey.coupon_assignments_current co
FULL JOIN journey.ad_assignments_current ad
       ON ad.campaign_id = co.campaign_id AND ad.run_id = co.run_id AND ad.user_id = co.user_id
"""

RECOMMENDATIONS = """
SELECT user_id, campaign_id, array_agg(rank ORDER BY rank), array_agg(product_id ORDER BY rank),
       array_agg(category ORDER BY rank), array_agg(score ORDER BY rank), array_agg(source ORDER BY rank)
FROM journey.recommendation_assignments_current GROUP BY user_id, campaign_id
"""
ITEM_START = b',{"campaign_id":'  # only between items: inside a JSON string every " is escaped

SUPPRESSIONS = "SELECT user_id, expires_at FROM journey.suppression_list"

ANY_OBJECT = TypeAdapter(dict[str, Any] | None)
TEXT = TypeAdapter(str | None)
CAMPAIGN = TypeAdapter(Campaign)
RECOMMENDATION_LIST = TypeAdapter(list[Recommendation])
SEGMENT = TypeAdapter(Segment)
SEGMENTS = TypeAdapter(list[Segment])
UNKNOWN_TAIL = b'"segment":null,"lifecycle_stage":null,"scores":null}'
NO_TREATMENT = b',"campaign":null,"offer":null,"creative":null,"recommendations":[],"reason":null,'


def dump(adapter: TypeAdapter, value) -> bytes:
    """JSON bytes of `value` as FastAPI writes a response of that type (validated, then pydantic's serialiser)."""
    return adapter.dump_json(adapter.validate_python(value))


@dataclass(frozen=True)
class CampaignRun:
    """A campaign's current run: its window (epoch seconds), its order among campaigns, its JSON."""

    campaign_id: str
    start: float
    end: float
    order: tuple  # newest publish first, then campaign_id (the database path's tie-breaks)
    json: bytes


@dataclass(slots=True)
class UserEntry:
    """One user's published rows, pre-serialised. Built by the loader, never changed once published."""

    tail: bytes = UNKNOWN_TAIL  # "segment":…,"lifecycle_stage":…,"scores":…}
    known: bool = False  # has a segment, a profile or scores
    held_out: tuple[str, ...] = ()  # campaign ids of current runs holding the user out
    treatments: tuple[tuple, ...] = ()  # (campaign_id, expected value, offer channel, ad channel, head, reason)
    recommendations: tuple[tuple[str, bytes, tuple[int, ...]], ...] = ()  # (campaign_id, objects, where each ends)


UNKNOWN = UserEntry()  # a user the snapshot has no row for


@dataclass(frozen=True)
class Snapshot:
    """The published state one transaction saw, ready to answer the read endpoints."""

    campaigns: dict[str, CampaignRun]
    users: dict[str, UserEntry]
    suppressed: dict[str, float | None]  # user → expiry (epoch seconds), None = for good
    segments: bytes
    segment_by_id: dict[int, bytes]
    loaded_at: float
    load_seconds: float

    def live(self, now: float) -> set[str]:
        """Campaign ids whose current run is live at `now` (epoch seconds)."""
        return {c.campaign_id for c in self.campaigns.values() if c.start <= now < c.end}

    def is_suppressed(self, user_id: str, now: float) -> bool:
        """An unexpired suppression row for the user."""
        if user_id not in self.suppressed:
            return False
        expires = self.suppressed[user_id]
        return expires is None or expires > now

    def _rank(self, treatment: tuple) -> tuple:
        """The database path's ORDER BY co.expected_value DESC NULLS LAST, published_at DESC, campaign_id."""
        value = treatment[1]
        return (value is None, -(value or 0.0), *self.campaigns[treatment[0]].order)

    @staticmethod
    def _recommendation_items(entry: UserEntry, campaign_id: str, k: int) -> bytes:
        """The first k recommendation objects of one campaign, comma-joined (b'' when none)."""
        for campaign, items, ends in entry.recommendations:
            if campaign == campaign_id:
                return items[:ends[min(k, len(ends)) - 1]]
        return b""

    def recommendations(self, user_id: str, k: int, now: float) -> bytes:
        """JSON list: top-k of the newest live campaign (not holding the user out) with a list for the user."""
        entry = self.users.get(user_id)
        if entry is None or not entry.recommendations:
            return b"[]"
        live = self.live(now).difference(entry.held_out)
        chosen = [self.campaigns[campaign] for campaign, _, _ in entry.recommendations if campaign in live]
        if not chosen:
            return b"[]"
        best = min(chosen, key=lambda run: run.order)
        return b"[" + self._recommendation_items(entry, best.campaign_id, k) + b"]"

    def next_best_action(self, user_id: str, channel: str | None, k: int, now: float) -> bytes:
        """JSON of NextBestAction: the rules of journey.serve.queries, on the snapshot at time `now`."""
        head = b'{"user_id":' + TEXT.dump_json(user_id) + b',"decision":'
        entry = self.users.get(user_id, UNKNOWN)
        if self.is_suppressed(user_id, now):
            return head + b'"fallback","fallback_reason":"suppressed"' + NO_TREATMENT + entry.tail
        live = self.live(now)
        candidates = [t for t in entry.treatments if t[0] in live and t[0] not in entry.held_out
                      and (channel is None or channel == t[2] or channel == t[3])]
        if not candidates:
            reason = ("holdout" if live.intersection(entry.held_out) else
                      "no_assignment" if entry.known else "unknown_user")
            return head + b'"fallback","fallback_reason":"' + reason.encode() + b'"' + NO_TREATMENT + entry.tail
        campaign_id, _, _, _, parts, why = min(candidates, key=self._rank) if len(candidates) > 1 else candidates[0]
        return (head + b'"treatment","fallback_reason":null,"campaign":' + self.campaigns[campaign_id].json
                + b"," + parts + b"[" + self._recommendation_items(entry, campaign_id, k) + b"]" + why + entry.tail)

    def segment(self, segment_id: int) -> bytes | None:
        """JSON of one segment of the latest snapshot, None when there is none with this id."""
        return self.segment_by_id.get(segment_id)


def _epoch(moment: datetime | None) -> float | None:
    """Seconds since the epoch of a timestamptz (None stays None)."""
    return None if moment is None else moment.timestamp()


def _rows(conn, name: str, query: str):
    """Stream the rows of `query` through a server-side cursor (bounded client memory)."""
    with conn.cursor(name=name) as cur:
        cur.itersize = ITERSIZE
        cur.execute(query)
        yield from cur


def _load_campaigns(conn) -> dict[str, CampaignRun]:
    """Current run of every campaign (live or not: liveness is decided per request)."""
    runs = {}
    for campaign_id, run_id, snapshot_date, name, objective, published_at, start, end in _rows(
            conn, "journey_snapshot_campaigns", CAMPAIGN_RUNS):
        body = dump(CAMPAIGN, {"campaign_id": campaign_id, "run_id": run_id, "snapshot_date": snapshot_date,
                               "name": name, "objective": objective})
        runs[campaign_id] = CampaignRun(campaign_id, start.timestamp(), end.timestamp(),
                                        (-published_at.timestamp(), campaign_id), body)
    return runs


def _entry(users: dict[str, UserEntry], user_id: str) -> UserEntry:
    """The user's entry, created empty on first sight."""
    entry = users.get(user_id)
    if entry is None:
        entry = users[user_id] = UserEntry()
    return entry


def _load_contexts(conn, users: dict[str, UserEntry]) -> None:
    """Segment, lifecycle stage and scores of every user who has any (identical tails shared)."""
    tails: dict[bytes, bytes] = {}
    for user_id, segment, lifecycle, scores in _rows(conn, "journey_snapshot_contexts", USER_CONTEXTS):
        tail = (b'"segment":' + ANY_OBJECT.dump_json(segment) + b',"lifecycle_stage":' + TEXT.dump_json(lifecycle)
                + b',"scores":' + ANY_OBJECT.dump_json(scores) + b"}")
        entry = _entry(users, user_id)
        entry.tail = tails.setdefault(tail, tail)
        entry.known = segment is not None or lifecycle is not None or scores is not None


def _load_holdouts(conn, users: dict[str, UserEntry]) -> None:
    """Which current runs hold each user out."""
    for user_id, campaign_id in _rows(conn, "journey_snapshot_holdouts", HOLDOUTS):
        entry = _entry(users, user_id)
        entry.held_out = (*entry.held_out, campaign_id)


def _load_treatments(conn, users: dict[str, UserEntry]) -> None:
    """Every (coupon, ad) pair of the current runs, as the parts of a treatment answer."""
    shared: dict[bytes, bytes] = {}
    for user_id, campaign_id, offer, creative, why, value, offer_channel, ad_channel in _rows(
            conn, "journey_snapshot_treatments", TREATMENTS):
        parts = (b'"offer":' + ANY_OBJECT.dump_json(offer) + b',"creative":' + ANY_OBJECT.dump_json(creative)
                 + b',"recommendations":')
        reason = b',"reason":' + ANY_OBJECT.dump_json(why) + b","
        reason = shared.setdefault(reason, reason)
        entry = _entry(users, user_id)
        entry.treatments = (*entry.treatments, (campaign_id, value, offer_channel, ad_channel, parts, reason))


def _items(ranked: bytes) -> tuple[bytes, tuple[int, ...]]:
    """A serialised list of recommendations → (its objects comma-joined, where each object ends)."""
    items = ranked[1:-1]
    ends, start = [], 0
    while (found := items.find(ITEM_START, start)) >= 0:
        ends.append(found)
        start = found + 1
    return items, (*ends, len(items))


def _load_recommendations(conn, users: dict[str, UserEntry]) -> None:
    """Each user's ranked list per current run (one serialisation per list, split at the objects)."""
    names = ("rank", "product_id", "category", "score", "source")
    for user_id, campaign_id, *columns in _rows(conn, "journey_snapshot_recommendations", RECOMMENDATIONS):
        ranked = [dict(zip(names, values, strict=True), campaign_id=campaign_id) for values in zip(*columns, strict=True)]
        entry = _entry(users, user_id)
        entry.recommendations = (*entry.recommendations, (campaign_id, *_items(dump(RECOMMENDATION_LIST, ranked))))


def load_suppressions(conn) -> dict[str, float | None]:
    """user → the latest expiry of their suppression rows (None = for good)."""
    found: dict[str, float | None] = {}
    for user_id, expires_at in _rows(conn, "journey_snapshot_suppressions", SUPPRESSIONS):
        expires = _epoch(expires_at)
        if user_id in found and (found[user_id] is None or (expires is not None and expires < found[user_id])):
            continue
        found[user_id] = expires
    return found


def _load_segments(conn) -> tuple[bytes, dict[int, bytes]]:
    """The latest segment snapshot as the list answer and one answer per id."""
    listed = queries.segments(conn)
    return dump(SEGMENTS, listed), {row["segment_id"]: dump(SEGMENT, row) for row in listed}


def load_snapshot(conn) -> Snapshot:
    """Everything the read endpoints need, from one REPEATABLE READ transaction (`queries.prepare` has run)."""
    started = time.perf_counter()
    conn.rollback()
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    try:
        campaigns = _load_campaigns(conn)
        users: dict[str, UserEntry] = {}
        _load_contexts(conn, users)
        _load_holdouts(conn, users)
        _load_treatments(conn, users)
        _load_recommendations(conn, users)
        suppressed = load_suppressions(conn)
        segments, segment_by_id = _load_segments(conn)
    finally:
        conn.rollback()
        conn.set_session(isolation_level="DEFAULT", readonly=False)
    return Snapshot(campaigns, users, suppressed, segments, segment_by_id, time.time(),
                    time.perf_counter() - started)
