"""The API's reads: one user's next best action and recommendations, the segments, data freshness.

Every read goes to the published tables through the `*_current` views (the latest published run
of each campaign) inside one REPEATABLE READ transaction per request (`journey.serve.pool`), as
statements prepared once per pooled connection (`prepare`).

Next best action, in this order:
1. suppressed (an unexpired row in journey.suppression_list) → fallback `suppressed`;
2. the best treatment among live campaigns (current run, start_time <= now < end_time) that did
   not hold the user out: highest coupon expected_value first, then the latest published;
3. no treatment but held out of a live campaign → fallback `holdout` (the control group stays clean);
4. no profile, segment or score → fallback `unknown_user`; else fallback `no_assignment`.
"""

from __future__ import annotations

from datetime import UTC, datetime

DEFAULT_RECOMMENDATIONS = 5

LIVE_CAMPAIGNS = """
live AS (
    SELECT r.campaign_id, r.run_id, r.snapshot_date, r.published_at, c.name, c.objective, c.end_time
    FROM journey.campaign_runs_current r
    JOIN journey.campaigns c USING (campaign_id, run_id)
    WHERE now() >= c.start_time AND now() < c.end_time
      AND NOT EXISTS (SELECT 1 FROM journey.campaign_holdout h
                      WHERE h.campaign_id = r.campaign_id AND h.run_id = r.run_id AND h.user_id = $1)
)"""

USER_CONTEXT = """
SELECT (SELECT jsonb_build_object('segment_id', segment_id, 'segment_name', segment_name,
                                  'snapshot_date', snapshot_date)
        FROM journey.user_segments WHERE user_id = $1),
       (SELECT lifecycle_stage FROM journey.user_profiles WHERE user_id = $1),
       (SELECT to_jsonb(s) - 'user_id' - 'run_id' FROM journey.user_scores s WHERE user_id = $1),
       EXISTS (SELECT 1 FROM journey.suppression_list
               WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > now())),
       EXISTS (SELECT 1 FROM journey.campaign_holdout h
               JOIN journey.campaign_runs_current r USING (campaign_id, run_id)
               JOIN journey.campaigns c USING (campaign_id, run_id)
               WHERE h.user_id = $1 AND now() >= c.start_time AND now() < c.end_time)
"""

# offer, creative and reason of a (coupon co, ad ad) pair: shared with journey.serve.snapshot's bulk load
TREATMENT_PARTS = """CASE WHEN co.user_id IS NULL THEN NULL ELSE jsonb_build_object(
           'offer_name', co.offer_name, 'kind', co.kind, 'offer_value', co.offer_value,
           'min_spend', co.min_spend, 'coupon_code', co.coupon_code, 'channel', co.channel,
           'expected_value', co.expected_value) END,
       CASE WHEN ad.user_id IS NULL THEN NULL ELSE jsonb_build_object(
           'creative_id', ad.creative_id, 'channel', ad.channel, 'send_at', ad.send_at,
           'coupon_code', ad.coupon_code) END,
       jsonb_strip_nulls(jsonb_build_object('offer', co.reason, 'creative', ad.reason))"""

TREATMENT = f"""
WITH {LIVE_CAMPAIGNS}
SELECT l.campaign_id, l.run_id, l.snapshot_date, l.name, l.objective,
       {TREATMENT_PARTS}
FROM live l
LEFT JOIN journey.coupon_assignments_current co
       ON co.campaign_id = l.campaign_id AND co.run_id = l.run_id AND co.user_id = $1
LEFT JOIN journey.ad_assignments_current ad
       ON ad.campaign_id = l.campaign_id AND ad.run_id = l.run_id AND ad.user_id = $1
WHERE (co.user_id IS NOT NULL OR ad.user_id IS NOT NULL)
  AND ($2::text IS NULL OR co.channel = $2 OR ad.channel = $2)
ORDER BY co.expected_value DESC NULLS LAST, l.published_at DESC, l.campaign_id
LIMIT 1
"""

RECOMMENDATIONS = f"""
WITH {LIVE_CAMPAIGNS},
chosen AS (
    SELECT l.campaign_id, l.run_id FROM live l
    WHERE ($3::text IS NULL OR l.campaign_id = $3)
      AND EXISTS (SELECT 1 FROM journey.recommendation_assignments_current a
                  WHERE a.campaign_id = l.campaign_id AND a.run_id = l.run_id AND a.user_id = $1)
    ORDER BY l.published_at DESC, l.campaign_id LIMIT 1
)
SELECT a.campaign_id, a.rank, a.product_id, a.category, a.score, a.source
FROM journey.recommendation_assignments_current a JOIN chosen USING (campaign_id, run_id)
WHERE a.user_id = $1
ORDER BY a.rank LIMIT $2
"""

SEGMENT_COLUMNS = ("segment_id", "segment_name", "users", "user_share", "revenue", "revenue_share",
                   "avg_recency_days", "avg_frequency", "avg_monetary", "avg_conversion_rate", "top_category",
                   "snapshot_date", "run_id")
SEGMENTS = f"""
SELECT {", ".join(SEGMENT_COLUMNS)} FROM journey.segment_summary
WHERE snapshot_date = (SELECT max(snapshot_date) FROM journey.segment_summary)
  AND ($1::integer IS NULL OR segment_id = $1)
ORDER BY segment_id
"""

FRESHNESS = """
SELECT (SELECT max(published_at) FROM journey.campaigns),
       (SELECT max(snapshot_date) FROM journey.segment_summary),
       (SELECT max(snapshot_date) FROM journey.user_scores)
"""


STATEMENTS: dict[str, str] = {
    "journey_user_context": USER_CONTEXT,
    "journey_treatment": TREATMENT,
    "journey_recommendations": RECOMMENDATIONS,
    "journey_segments": SEGMENTS,
    "journey_freshness": FRESHNESS,
}


def prepare(conn) -> None:
    """PREPARE every statement on a new connection: each request then skips the planner (~1 ms a query)."""
    with conn.cursor() as cur:
        for name, query in STATEMENTS.items():
            cur.execute(f"PREPARE {name} AS {query}")
    conn.commit()


def _rows(conn, name: str, *args) -> list[tuple]:
    """All rows of one prepared statement (`prepare` has run on this connection)."""
    placeholders = f" ({', '.join(['%s'] * len(args))})" if args else ""
    with conn.cursor() as cur:
        cur.execute(f"EXECUTE {name}{placeholders}", args)
        return cur.fetchall()


def recommendations(conn, user_id: str, k: int, campaign_id: str | None = None) -> list[dict]:
    """Top-k products of the user's latest live campaign with a list (or of `campaign_id`), by rank."""
    rows = _rows(conn, "journey_recommendations", user_id, k, campaign_id)
    names = ("campaign_id", "rank", "product_id", "category", "score", "source")
    return [dict(zip(names, row, strict=True)) for row in rows]


def _fallback(user_id: str, reason: str, context: dict) -> dict:
    """The answer when there is no treatment to give: no offer, no creative, no campaign recommendations."""
    return {"user_id": user_id, "decision": "fallback", "fallback_reason": reason, "campaign": None,
            "offer": None, "creative": None, "recommendations": [], "reason": None, **context}


def next_best_action(conn, user_id: str, channel: str | None, k: int = DEFAULT_RECOMMENDATIONS) -> dict:
    """What to show this user now (see the module docstring for the order of the rules)."""
    segment, lifecycle, scores, suppressed, held_out = _rows(conn, "journey_user_context", user_id)[0]
    context = {"segment": segment, "lifecycle_stage": lifecycle, "scores": scores}
    if suppressed:
        return _fallback(user_id, "suppressed", context)
    found = _rows(conn, "journey_treatment", user_id, channel)
    if not found:
        known = segment is not None or lifecycle is not None or scores is not None
        reason = "holdout" if held_out else "no_assignment" if known else "unknown_user"
        return _fallback(user_id, reason, context)
    campaign_id, run_id, snapshot_date, name, objective, offer, creative, why = found[0]
    return {"user_id": user_id, "decision": "treatment", "fallback_reason": None,
            "campaign": {"campaign_id": campaign_id, "run_id": run_id, "snapshot_date": snapshot_date,
                         "name": name, "objective": objective},
            "offer": offer, "creative": creative,
            "recommendations": recommendations(conn, user_id, k, campaign_id),
            "reason": why, **context}


def segments(conn, segment_id: int | None = None) -> list[dict]:
    """Segments of the latest published snapshot (one when `segment_id` is given)."""
    return [dict(zip(SEGMENT_COLUMNS, row, strict=True))
            for row in _rows(conn, "journey_segments", segment_id)]


def freshness(conn) -> dict:
    """When campaigns, segments and scores were last published, and the age of the latest campaign publish."""
    published_at, segments_date, scores_date = _rows(conn, "journey_freshness")[0]
    age = None if published_at is None else round((datetime.now(UTC) - published_at).total_seconds())
    return {"latest_campaign_publish": published_at, "campaign_publish_age_seconds": age,
            "latest_segment_snapshot": segments_date, "latest_score_snapshot": scores_date}
