"""Exploration: Thompson sampling over the offers' measured results sets each offer's share of a segment.

Arms. The offers of the campaign's coupon catalog. Each arm's unknown is the conversion rate of
the treated users given that offer, in the attribution window (journey.campaign_results).

Posterior. Beta(α, β) per segment and arm: the prior is weak and centred on the segment's
holdout conversion rate p0 (what the users do without any offer), α0 = PRIOR_STRENGTH × p0,
β0 = PRIOR_STRENGTH × (1 − p0), with p0 = (holdout converters + 1) / (holdout users + 2) over
the campaign's earlier runs (0.5, i.e. Beta(1, 1), before any holdout was measured). The arm's
evidence adds its converters to α and its non-converting treated users to β. Evidence is the
segment's own segment × offer rows (level 'segment_offer') where the segment has any, else the
campaign's offer rows across segments (level 'offer': runs measured before that level
existed, or a segment new to the campaign).

Shares. N_DRAWS joint draws of every arm's posterior (numpy, seeded by the campaign, run and
segment); P(best) = the fraction of draws each arm wins. With k arms and floor f, share =
f + (1 − k·f) × P(best): every arm keeps at least f (no arm starves), the order is kept and the
shares add up to 1. No evidence at all gives equal shares.

Assignment. Each treated user draws one arm with the shares renormalised over the offers the
user is a candidate for (hash of campaign, run and user: the same run draws the same arm); the
allocator may then only give that offer, within the same budget. Held-out users are never
candidates, so the holdout is untouched. One coupon per user while exploring.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from journey import warehouse
from journey.campaigns.holdout import holdout_draws
from journey.errors import InputError

PRIOR_STRENGTH = 2.0  # pseudo-users of the prior
N_DRAWS = 20_000  # joint posterior draws per segment
EVIDENCE_COLUMNS = ("segment_id", "offer_name", "users", "converters")  # segment_id null = across segments
BASELINE_COLUMNS = ("segment_id", "users", "converters")  # holdout users per segment
EVIDENCE_SQL = """SELECT CASE WHEN level = 'segment_offer' THEN segment_id END AS segment_id, offer_name,
       sum(treated_users) AS users, sum(treated_converters) AS converters
FROM journey.campaign_results_current WHERE campaign_id = %(campaign_id)s AND run_id <> %(run_id)s
  AND (level = 'offer' OR (level = 'segment_offer' AND segment_id IS NOT NULL)) AND offer_name IS NOT NULL
GROUP BY 1, offer_name ORDER BY 1 NULLS FIRST, offer_name"""
BASELINE_SQL = """SELECT segment_id, sum(holdout_users) AS users, sum(holdout_converters) AS converters
FROM journey.campaign_results_current WHERE campaign_id = %(campaign_id)s AND run_id <> %(run_id)s
  AND level = 'segment' AND segment_id IS NOT NULL GROUP BY segment_id"""


@dataclass(frozen=True)
class ArmPosterior:
    """One segment × offer arm: its Beta posterior and its share of the segment's treated users."""

    segment_id: int
    offer_name: str
    alpha: float
    beta: float
    evidence_users: int
    p_best: float
    share: float

    @property
    def mean(self) -> float:
        """Posterior mean conversion rate."""
        return self.alpha / (self.alpha + self.beta)


def seed_for(*parts: object) -> int:
    """A 60-bit numpy seed from text parts (campaign, run, segment): stable across machines and runs."""
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:15], 16)


def check_floor(floor: float, arms: int) -> float:
    """The floor, when every arm can have it: 0 <= floor and floor × arms <= 1."""
    if not 0.0 <= floor or floor * arms > 1.0 + 1e-12:
        raise InputError(f"exploration_floor: {floor} × {arms} offers must be within [0, 1]")
    return floor


def floored(p_best: np.ndarray, floor: float) -> np.ndarray:
    """Shares f + (1 − k·f) × P(best): each at least `floor`, adding up to 1."""
    return floor + (1.0 - len(p_best) * floor) * p_best


def prob_best(alpha: np.ndarray, beta: np.ndarray, rng: np.random.Generator, draws: int = N_DRAWS) -> np.ndarray:
    """Share of joint posterior draws in which each arm has the highest rate (ties go to the first)."""
    samples = rng.beta(alpha, beta, size=(draws, len(alpha)))
    return np.bincount(samples.argmax(axis=1), minlength=len(alpha)) / draws


def prior(baseline: pd.DataFrame, segment_id: int) -> tuple[float, float]:
    """(α0, β0): PRIOR_STRENGTH pseudo-users at the segment's smoothed holdout rate."""
    rows = baseline[baseline["segment_id"] == segment_id]
    users, converters = float(rows["users"].sum()), float(rows["converters"].sum())
    p0 = (converters + 1.0) / (users + 2.0)
    return PRIOR_STRENGTH * p0, PRIOR_STRENGTH * (1.0 - p0)


def arm_evidence(evidence: pd.DataFrame, segment_id: int, offers: list[str]) -> pd.DataFrame:
    """users and converters per offer (index = offers) for the segment: its own rows, else the across-segment ones."""
    own = evidence[evidence["segment_id"] == segment_id]
    rows = own if len(own) else evidence[evidence["segment_id"].isna()]
    summed = rows.groupby("offer_name")[["users", "converters"]].sum()
    bad = summed[(summed["users"] < 0) | (summed["converters"] < 0) | (summed["converters"] > summed["users"])]
    if len(bad):
        raise InputError(f"exploration: offer {bad.index[0]!r} has {bad['converters'].iloc[0]} converters for "
                         f"{bad['users'].iloc[0]} users in campaign_results")
    return summed.reindex(offers, fill_value=0)


def segment_arms(segment_id: int, offers: list[str], evidence: pd.DataFrame, baseline: pd.DataFrame,
                 floor: float, seed: int) -> list[ArmPosterior]:
    """The segment's arms with posteriors, P(best) and floored shares; equal shares without evidence."""
    alpha0, beta0 = prior(baseline, segment_id)
    seen = arm_evidence(evidence, segment_id, offers)
    users, converters = seen["users"].to_numpy(float), seen["converters"].to_numpy(float)
    alpha, beta = alpha0 + converters, beta0 + users - converters
    if users.sum() == 0:
        p_best = np.full(len(offers), 1.0 / len(offers))
    else:
        p_best = prob_best(alpha, beta, np.random.default_rng(seed))
    shares = floored(p_best, floor)
    return [ArmPosterior(segment_id, name, float(a), float(b), int(n), float(p), float(s))
            for name, a, b, n, p, s in zip(offers, alpha, beta, users, p_best, shares, strict=True)]


def _frame(rows: list[tuple] | pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows as a frame with the columns (numbers as floats, segment_id nullable)."""
    frame = pd.DataFrame(rows, columns=list(columns)) if not isinstance(rows, pd.DataFrame) else rows
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"exploration: evidence lacks column(s) {', '.join(missing)}")
    return frame.astype({"users": float, "converters": float})


def thompson_shares(campaign_id: str, run_id: str, segments: list[int], offers: list[str],
                    evidence: pd.DataFrame | list[tuple], baseline: pd.DataFrame | list[tuple],
                    floor: float) -> list[ArmPosterior]:
    """Every segment × offer arm of the run (EVIDENCE_COLUMNS and BASELINE_COLUMNS rows in)."""
    check_floor(floor, len(offers))
    evidence, baseline = _frame(evidence, EVIDENCE_COLUMNS), _frame(baseline, BASELINE_COLUMNS)
    return [arm for segment in sorted(segments)
            for arm in segment_arms(segment, offers, evidence, baseline, floor, seed_for(campaign_id, run_id, segment))]


def load_results(conn, campaign_id: str, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(evidence, baseline) from journey.campaign_results_current: the campaign's other runs."""
    where = {"campaign_id": campaign_id, "run_id": run_id}
    return (_frame(warehouse.fetch_all(conn, EVIDENCE_SQL, where), EVIDENCE_COLUMNS),
            _frame(warehouse.fetch_all(conn, BASELINE_SQL, where), BASELINE_COLUMNS))


def arms_frame(arms: list[ArmPosterior]) -> pd.DataFrame:
    """The arms as rows: segment_id, offer_name, share, posterior_mean, p_best, evidence_users, alpha, beta."""
    return pd.DataFrame([{"segment_id": a.segment_id, "offer_name": a.offer_name, "share": a.share,
                          "posterior_mean": a.mean, "p_best": a.p_best, "evidence_users": a.evidence_users,
                          "alpha": a.alpha, "beta": a.beta} for a in arms])


def share_matrix(arms: list[ArmPosterior], pools: np.ndarray, offers: list[str]) -> np.ndarray:
    """(users × offers) share of each user's segment arm (equal shares for a segment without arms)."""
    table = arms_frame(arms).pivot(index="segment_id", columns="offer_name", values="share") if arms else None
    out = np.full((len(pools), len(offers)), 1.0 / len(offers))
    if table is not None:
        table = table.reindex(columns=offers)
        known = np.isin(pools, table.index.to_numpy())
        out[known] = table.loc[pools[known]].to_numpy(float)
    return out


def drawn_arms(values: np.ndarray, shares: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Per user the offer index drawn by share among the user's candidates (-1 without a candidate)."""
    weights = np.where(np.isfinite(values), shares, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(weights / np.where(total > 0, total, 1.0), axis=1)
    arm = (cumulative > draws[:, None]).argmax(axis=1)
    return np.where(total[:, 0] > 0, arm, -1)


def restrict(values: np.ndarray, arm: np.ndarray) -> np.ndarray:
    """Values with every offer but the user's drawn arm removed (NaN)."""
    keep = np.zeros(values.shape, dtype=bool)
    has = arm >= 0
    keep[np.flatnonzero(has), arm[has]] = True
    return np.where(keep, values, np.nan)


def user_draws(campaign_id: str, run_id: str, user_ids) -> np.ndarray:
    """Each user's uniform draw for this run's arm choice (independent of the holdout draw); ids: list or Arrow."""
    ids = user_ids.to_pylist() if hasattr(user_ids, "to_pylist") else list(user_ids)
    return holdout_draws(f"{campaign_id}:{run_id}:exploration", ids)


@dataclass(frozen=True)
class ExplorationPlan:
    """The run's arms and the candidates restricted to each user's drawn arm."""

    arms: list[ArmPosterior]
    values: np.ndarray  # the candidates' values with only the drawn arm kept
    drawn: np.ndarray  # offer index per user (-1: no candidate)

    def summary(self) -> dict:
        """The step summary's view: arms with shares and posterior means, users per drawn offer."""
        frame = arms_frame(self.arms)
        return {"arms": frame.round(4).to_dict("records"), "prior_strength": PRIOR_STRENGTH, "draws": N_DRAWS,
                "users_by_drawn_offer": np.bincount(self.drawn[self.drawn >= 0],
                                                    minlength=len(self.values[0]) if len(self.values) else 0).tolist()}


def plan(campaign_id: str, run_id: str, offers: list[str], user_ids, values: np.ndarray, pools: np.ndarray,
         evidence, baseline, floor: float) -> ExplorationPlan:
    """Shares per segment from the evidence, then one arm per user drawn by share among its candidates."""
    arms = thompson_shares(campaign_id, run_id, sorted(set(pools.tolist())), offers, evidence, baseline, floor)
    drawn = drawn_arms(values, share_matrix(arms, pools, offers), user_draws(campaign_id, run_id, user_ids))
    return ExplorationPlan(arms, restrict(values, drawn), drawn)


def with_exploration_reason(rows, arms: list[ArmPosterior]):
    """Assignment rows (Spark) whose reason JSON also holds {"exploration": {share, posterior_mean, ...}}."""
    from pyspark.sql import functions as F

    frame = arms_frame(arms)[["segment_id", "offer_name", "share", "posterior_mean", "evidence_users"]]
    table = rows.sparkSession.createDataFrame(
        frame.round({"share": 4, "posterior_mean": 4}),
        "segment_id long, offer_name string, share double, posterior_mean double, evidence_users long")
    detail = F.to_json(F.struct("share", "posterior_mean", "evidence_users"))
    reason = F.concat(F.expr("substring(reason, 1, length(reason) - 1)"), F.lit(',"exploration":'), detail, F.lit("}"))
    return (rows.join(F.broadcast(table), ["segment_id", "offer_name"], "left")
            .withColumn("reason", F.coalesce(reason, F.col("reason"))).select(*rows.columns))


def for_run(settings, request, user_ids, values: np.ndarray, pools: np.ndarray) -> ExplorationPlan | None:
    """The run's plan from the campaign's measured earlier runs (None when the `exploration` param is off)."""
    params = request.params
    if not params.exploration:
        return None
    with warehouse.connect(settings) as conn:
        evidence, baseline = load_results(conn, params.campaign_id, request.run_id)
    planned = plan(params.campaign_id, request.run_id, [o.name for o in params.coupons], user_ids, values, pools,
                   evidence, baseline, params.exploration_floor)
    print(describe(params.campaign_id, planned.arms))
    return planned


def describe(campaign_id: str, arms: list[ArmPosterior]) -> str:
    """Log lines: each segment's shares and posterior means."""
    lines = [f"exploration {campaign_id}: Thompson shares per segment (share, posterior mean, evidence users)"]
    for segment in sorted({a.segment_id for a in arms}):
        lines.append(f"  segment {segment}: " + ", ".join(
            f"{a.offer_name} {a.share:.1%} (mean {a.mean:.3f}, n={a.evidence_users:,})"
            for a in arms if a.segment_id == segment))
    return "\n".join(lines)
