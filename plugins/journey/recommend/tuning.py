"""Per-run tuning of the hybrid on a validation split cut from the training period by time.

Each user's latest `holdout_fraction` of training events is the validation set (products not
seen before in the user's fit events); sources are fitted on the rest. For a hash sample of at
most `tune_users` validation users, each source's candidates are collected once and scored
(NDCG@K, the user's excluded products removed) on the driver: the recency half-life is picked on
co-occurrence (`half_life_grid`), then the ALS settings (`als_grid`), then the source weights by
coordinate search from the best single source (WEIGHT_STEPS, two passes). A weight change is
kept only when it raises validation NDCG, so the blend is never below the best single source; when
nothing beats it the run uses that source alone (`fallback`). The two-tower source takes part only
with `params.two_tower` (trained once, on the fit events).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from journey.recommend.hybrid import candidate_sources, unused_sources
from journey.recommend.interactions import excluded, interactions, products, temporal_split
from journey.recommend.models import RecommendParams, sources_for

WEIGHT_STEPS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
SEARCH_PASSES = 2


@dataclass(frozen=True)
class Tuning:
    """What the tuning chose and the validation NDCG@K it measured (each source alone and the blend)."""

    params: RecommendParams
    validation: dict[str, float] = field(default_factory=dict)
    unused: dict[str, str] = field(default_factory=dict)  # source → why its weight is 0
    fallback: bool = False  # the blend did not beat the best single source: that source alone
    users: int = 0  # validation users scored

    def settings(self) -> dict:
        """JSON-ready record of the chosen settings and validation scores."""
        p = self.params
        return {"weights": {n: round(w, 4) for n, w in p.weights if w > 0}, "rank": p.rank, "reg_param": p.reg_param,
                "alpha": p.alpha, "half_life_days": p.half_life_days, "lookback_days": p.lookback_days,
                "exclude": p.exclude, "per_category": p.per_category, "tuned": p.tune,
                "validation_ndcg": {n: round(v, 5) for n, v in self.validation.items()},
                "validation_users": self.users, "fallback_single_source": self.fallback, "unused": self.unused}


class Scorer:
    """NDCG@K of per-row scores over a fixed candidate table (user, product) and validation positives."""

    def __init__(self, table: pd.DataFrame, positives: pd.DataFrame, users: int, k: int):
        self.k, self.users = k, max(users, 1)
        self.user = table["user_id"].astype("category").cat.codes.to_numpy()
        relevant = table.merge(positives.assign(_rel=1.0), on=["user_id", "product_id"], how="left")["_rel"]
        per_user = positives.groupby("user_id").size()
        ideal = {u: sum(1.0 / np.log2(r + 2) for r in range(min(n, k))) for u, n in per_user.items()}
        self.gain = relevant.fillna(0.0).to_numpy() / table["user_id"].map(ideal).fillna(1.0).to_numpy()

    def ndcg(self, scores: np.ndarray) -> float:
        """Mean NDCG@K over the validation users (rows with score 0 are not recommended)."""
        order = np.lexsort((-scores, self.user))
        users = self.user[order]
        starts = np.r_[0, np.flatnonzero(np.diff(users)) + 1]
        position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        keep = (position < self.k) & (scores[order] > 0)
        return float(np.sum(self.gain[order][keep] / np.log2(position[keep] + 2)) / self.users)


def search_weights(scorer: Scorer, matrix: np.ndarray, names: list[str]) -> tuple[dict[str, float], float, bool]:
    """Coordinate search over WEIGHT_STEPS from the best single source: (weights, NDCG, fell back)."""
    alone = [scorer.ndcg(matrix[:, i]) for i in range(len(names))]
    weights = np.eye(len(names))[int(np.argmax(alone))]
    best = max(alone)
    for _ in range(SEARCH_PASSES):
        for i in range(len(names)):
            for step in WEIGHT_STEPS:
                trial = weights.copy()
                trial[i] = step
                if trial.sum() > 0 and (value := scorer.ndcg(matrix @ trial)) > best + 1e-12:
                    weights, best = trial, value
    weights = weights / weights.sum()
    return {n: float(w) for n, w in zip(names, weights, strict=True)}, best, best <= max(alone) + 1e-12


def _validation_users(val: DataFrame, limit: int) -> DataFrame:
    """At most about `limit` validation users: a deterministic hash sample."""
    users = val.select("user_id").distinct()
    total = users.count()
    if total <= limit:
        return users
    return users.where(F.pmod(F.xxhash64(F.lit("tune"), "user_id"), F.lit(total)) < F.lit(limit))


def _collect(frame: DataFrame, seen: pd.DataFrame) -> pd.DataFrame:
    """A source's candidates on the driver, without the user's excluded products."""
    rows = frame.toPandas()
    marked = rows.merge(seen.assign(_seen=True), on=["user_id", "product_id"], how="left")
    return rows[marked["_seen"].isna().to_numpy()]


def _table(collected: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (user, product) candidate with a column per source (0 where absent)."""
    merged = None
    for frame in collected.values():
        merged = frame if merged is None else merged.merge(frame, on=["user_id", "product_id"], how="outer")
    return merged.fillna(0.0).reset_index(drop=True)


def _alone(name: str, frame: pd.DataFrame, positives: pd.DataFrame, users: int, k: int) -> float:
    """Validation NDCG of one source's candidates."""
    return Scorer(frame, positives, users, k).ndcg(frame[name].to_numpy())


def tune(train_events: DataFrame, params: RecommendParams, title_neighbours: DataFrame | None = None) -> Tuning:
    """Tune half-life, ALS settings and source weights on the latest training events of each user."""
    fit_events, val = temporal_split(train_events, params.holdout_fraction)
    fit_events = fit_events.cache()
    users = _validation_users(val, params.tune_users).cache()
    positives = val.join(users, "user_id").toPandas()
    n_users = positives["user_id"].nunique()
    if n_users == 0:
        return Tuning(replace(params, tune=False), unused={"*": "no validation users (every user has 1 event)"})
    seen = excluded(fit_events, params.exclude).join(users, "user_id").toPandas()
    catalog = products(fit_events).cache()
    unused = unused_sources(catalog, title_neighbours, params, fit_events)

    def collect(name: str, p: RecommendParams, train: DataFrame) -> pd.DataFrame:
        frame = candidate_sources(fit_events, train, catalog, users, p, title_neighbours, (name,))[name]
        return _collect(frame, seen)

    def trained(half_life: float) -> DataFrame:
        return interactions(fit_events, half_life).cache()

    strengths = {h: trained(h) for h in params.half_life_grid}
    by_half_life = {h: collect("cooc_score", replace(params, half_life_days=h), strengths[h]) for h in strengths}
    half_life = max(strengths, key=lambda h: _alone("cooc_score", by_half_life[h], positives, n_users, params.k))
    chosen, train = replace(params, half_life_days=half_life), strengths[half_life]
    by_als = {s: collect("als_score", replace(chosen, rank=s[0], reg_param=s[1], alpha=s[2]), train)
              for s in params.als_grid}
    rank, reg, alpha = max(by_als, key=lambda s: _alone("als_score", by_als[s], positives, n_users, params.k))
    chosen = replace(chosen, rank=rank, reg_param=reg, alpha=alpha)
    collected = {"als_score": by_als[(rank, reg, alpha)], "cooc_score": by_half_life[half_life]}
    for name in sources_for(params):
        if name not in collected and name not in unused:
            collected[name] = collect(name, chosen, train)
    table = _table(collected)
    names = list(collected)
    scorer = Scorer(table, positives, n_users, params.k)
    weights, best, fallback = search_weights(scorer, table[names].to_numpy(), names)
    validation = {n: scorer.ndcg(table[n].to_numpy()) for n in names} | {"blend": best}
    for frame in (fit_events, users, catalog, *strengths.values()):
        frame.unpersist()
    return Tuning(replace(chosen, weights=tuple(weights.items())), validation, unused, fallback, n_users)
