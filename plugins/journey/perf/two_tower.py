"""Offline check of the two-tower retriever: per-user temporal hold-out, recall/NDCG@K against popularity.

    python -m journey.perf.two_tower [--rees46 FILE] [--generated-users N] [--epochs E] [--k K]

Protocol: each (user, product) counts once, at its first time; users with at least `min_items`
products keep their last `held_out` products as the test rows, everything else trains; training
products of the user are excluded from every list. The random expectation of recall@K is
K / (catalog size - the user's training products), averaged over the test users.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from journey.recommend.interactions import EVENT_WEIGHTS

REES46_WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0}  # the REES46 file says cart, not add_to_cart


def rees46_frames(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(interactions, catalog) of a REES46 events CSV: every event as implicit feedback, category code's first level."""
    raw = pd.read_csv(path, dtype={"product_id": str, "user_id": str, "category_code": str, "brand": str})
    raw = raw[raw["event_type"].isin(list(REES46_WEIGHTS))]
    interactions = pd.DataFrame({"user_id": raw["user_id"], "product_id": raw["product_id"],
                                 "weight": raw["event_type"].map(REES46_WEIGHTS), "event_time": raw["event_time"]})
    catalog = (raw.groupby("product_id").agg(category=("category_code", "first"), brand=("brand", "first"))
               .reset_index())
    return interactions, catalog


def generated_frames(folder: str | Path, users: int, days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(interactions, catalog with titles) of a generated shop (journey.datagen) written to folder."""
    from journey.datagen import generate

    generate(folder, users=users, days=days, seed=seed)
    events = pd.concat(pd.read_parquet(f) for f in sorted(Path(folder, "events").glob("*.parquet")))
    events = events[events["product_id"].notna() & events["event_type"].isin(list(EVENT_WEIGHTS))]
    interactions = pd.DataFrame({"user_id": events["user_id"], "product_id": events["product_id"],
                                 "weight": events["event_type"].map(EVENT_WEIGHTS), "event_time": events["event_time"]})
    catalog = pd.read_csv(Path(folder, "products.csv"), dtype=str)[["product_id", "category", "brand", "title"]]
    return interactions.reset_index(drop=True), catalog


def temporal_holdout(interactions: pd.DataFrame, held_out: int = 1, min_items: int = 3
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train rows, test (user_id, product_id)): per user with >= min_items products, the last held_out by first time."""
    first = (interactions.assign(event_time=pd.to_datetime(interactions["event_time"], utc=True))
             .groupby(["user_id", "product_id"], as_index=False)["event_time"].min()
             .sort_values(["user_id", "event_time", "product_id"], kind="stable"))
    sizes = first.groupby("user_id")["product_id"].transform("size")
    from_end = first.groupby("user_id").cumcount(ascending=False)
    test = first[(sizes >= min_items) & (from_end < held_out)][["user_id", "product_id"]]
    train = interactions.merge(test, on=["user_id", "product_id"], how="left", indicator=True)
    return train[train["_merge"] == "left_only"].drop(columns="_merge"), test.reset_index(drop=True)


def popularity_lists(train: pd.DataFrame, users: pd.Series, k: int) -> pd.DataFrame:
    """(user_id, product_id, rank): the most popular products (distinct training users) the user has not seen."""
    ranked = (train.groupby("product_id")["user_id"].nunique().reset_index(name="pop")
              .sort_values(["pop", "product_id"], ascending=[False, True]))
    top = ranked["product_id"].head(k + int(train.groupby("user_id")["product_id"].nunique().max()))
    grid = pd.DataFrame({"user_id": np.repeat(users.to_numpy(), len(top)), "product_id": np.tile(top.to_numpy(),
                                                                                                 len(users))})
    seen = train[["user_id", "product_id"]].drop_duplicates()
    grid = grid.merge(seen, how="left", indicator=True)
    grid = grid[grid["_merge"] == "left_only"].drop(columns="_merge")
    grid["rank"] = grid.groupby("user_id").cumcount() + 1
    return grid[grid["rank"] <= k]


@dataclass(frozen=True)
class ListScores:
    """Recall and NDCG at K of top-K lists against the held-out rows."""

    recall: float
    ndcg: float
    users: int


def list_scores(lists: pd.DataFrame, test: pd.DataFrame, k: int) -> ListScores:
    """Mean over the test users (a user without a list scores 0) of recall@k and NDCG@k; lists need a rank column."""
    hits = lists[lists["rank"] <= k].merge(test, on=["user_id", "product_id"])
    relevant = test.groupby("user_id").size()
    gain = hits.assign(g=1.0 / np.log2(hits["rank"] + 1.0)).groupby("user_id")["g"].sum()
    ideal = relevant.clip(upper=k).map(lambda m: sum(1.0 / math.log2(r + 2) for r in range(m)))
    recall = (hits.groupby("user_id").size().reindex(relevant.index, fill_value=0) / relevant.clip(upper=k)).mean()
    ndcg = (gain.reindex(relevant.index, fill_value=0.0) / ideal).mean()
    return ListScores(float(recall), float(ndcg), len(relevant))


def ranked(candidates: pd.DataFrame, score: str) -> pd.DataFrame:
    """Candidates with a rank column (1 = best score per user)."""
    ordered = candidates.sort_values(["user_id", score, "product_id"], ascending=[True, False, True])
    return ordered.assign(rank=ordered.groupby("user_id").cumcount() + 1)


def random_recall(train: pd.DataFrame, test: pd.DataFrame, catalog_size: int, k: int) -> float:
    """Expected recall@k of a uniform random list over the products the user has not seen in training."""
    seen = train.groupby("user_id")["product_id"].nunique().reindex(test["user_id"].unique(), fill_value=0)
    return float((k / (catalog_size - seen)).clip(upper=1.0).mean())


def compare(name: str, interactions: pd.DataFrame, catalog: pd.DataFrame, params, k: int) -> list[str]:
    """Table rows (markdown) of two-tower vs popularity vs random on one data set's temporal hold-out."""
    from journey.recommend.two_tower import fit_two_tower

    train, test = temporal_holdout(interactions)
    started = time.perf_counter()
    model = fit_two_tower(train, catalog, params)
    fit_seconds = time.perf_counter() - started
    users = test["user_id"].drop_duplicates()
    history = train[train["user_id"].isin(users)]
    tower = list_scores(ranked(model.candidates(history, k), "two_tower"), test, k)
    popular = list_scores(popularity_lists(train, users, k), test, k)
    catalog_size = len(model.tables.product_ids)
    chance = random_recall(train, test, catalog_size, k)
    speed = model.training["samples_per_second"]
    return [f"| {name} | {tower.users} | {catalog_size} | {model.training['examples']} | {tower.recall:.4f} | "
            f"{tower.ndcg:.4f} | {popular.recall:.4f} | {popular.ndcg:.4f} | {chance:.4f} | {speed:,.0f} | "
            f"{fit_seconds:.1f} |"]


def main() -> None:
    """Print the comparison table for the REES46 sample and a generated shop."""
    from journey.recommend.two_tower import TwoTowerParams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rees46", default="/work/shared/data/rees46_2019-10-01_sample.csv")
    parser.add_argument("--generated-users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--pooling", default="mean")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    params = TwoTowerParams(epochs=args.epochs, pooling=args.pooling)
    print(f"| data | test users | products | train examples | two-tower recall@{args.k} | NDCG@{args.k} | "
          f"popularity recall@{args.k} | NDCG@{args.k} | random recall@{args.k} | train samples/s | fit s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    if Path(args.rees46).is_file():
        print(*compare("REES46 sample", *rees46_frames(args.rees46), params, args.k), sep="\n", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        frames = generated_frames(folder, args.generated_users, args.days, seed=11)
        print(*compare(f"generated {args.generated_users} users", *frames, params, args.k), sep="\n")
        no_features = frames[1][["product_id"]]
        print(*compare("generated, ids only", frames[0], no_features, params, args.k), sep="\n")


if __name__ == "__main__":
    main()
