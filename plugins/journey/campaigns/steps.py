"""The Spark steps of a campaign run, each reading the previous steps' lake outputs.

eligibility → holdout → coupons / ads / recommendations → quality. Every step writes its
outputs atomically under the run folder (see request.py) and a summary-<step>.json the report
reads, and prints what it did.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from journey import lake
from journey.campaigns import ads as ad_rules
from journey.campaigns import coupons as coupon_step
from journey.campaigns import exploration, inputs, randomised_test
from journey.campaigns.eligibility import Targets, audience
from journey.campaigns.holdout import holdout_draw_column
from journey.campaigns.learned_uplift import with_learned_effect
from journey.campaigns.params import CAMPAIGN_CHANNELS, CampaignParams
from journey.campaigns.request import CampaignRequest, output_path, run_dir, save_step_summary
from journey.campaigns.signals import with_signals
from journey.campaigns.valuation import DEFAULT_MARGIN_RATE, candidates, offers_frame
from journey.config import Settings
from journey.errors import MissingInputError
from journey.recommend.models import RecommendParams

# recommendation_eval rows as the lake stores them (the run columns come first)
EVAL_SCHEMA = ("model string, k int, precision_at_k double, recall_at_k double, ndcg_at_k double, coverage double, "
               "users long, mean_list_length double, short_lists long, split_date date, holdout_fraction double, "
               "validation_ndcg double, settings string")
BUDGET_TOLERANCE = 1e-6  # Spark sums in another order than the allocator: last-digit differences only


def _out(settings: Settings, request: CampaignRequest, name: str) -> str:
    """Lake path of one output of this run."""
    return output_path(settings, request.params.campaign_id, request.run_id, name)


def _read(spark: SparkSession, settings: Settings, request: CampaignRequest, name: str) -> DataFrame:
    """An earlier step's output; a missing one names the step to run first."""
    path = _out(settings, request, name)
    if not lake.exists(spark, path):
        raise MissingInputError(f"no {name} output at {path}: run the {name} step of this campaign run first")
    return spark.read.parquet(path)


def _run_columns(request: CampaignRequest) -> list:
    """campaign_id, run_id and snapshot_date as literal columns."""
    return [F.lit(request.params.campaign_id).alias("campaign_id"), F.lit(request.run_id).alias("run_id"),
            F.lit(request.snapshot_date).alias("snapshot_date")]


def eligibility(spark: SparkSession, settings: Settings, request: CampaignRequest) -> dict:
    """Audience with exclusion reasons, channels and decision signals."""
    params = request.params
    folder = run_dir(settings, params.campaign_id, request.run_id)
    lookups = inputs.export_lookups(settings, folder, params.campaign_id, params.start_time, request.snapshot_date)
    targets = Targets(tuple(request.segments), params.lifecycle_stages, params.channels, params.frequency_cap)
    flagged = audience(inputs.snapshot_users(spark, settings, request.snapshot_date), inputs.consents(spark, settings),
                       inputs.read_lookup(spark, folder, "suppressed"), inputs.read_lookup(spark, folder, "recent_messages"),
                       targets)
    scores = inputs.read_lookup(spark, folder, "scores") if lookups["scored_users"] else None
    lake.write_parquet_atomic(with_signals(flagged, scores), _out(settings, request, "audience"))
    written = _read(spark, settings, request, "audience")
    reasons = {r["reason"]: r["users"] for r in written.groupBy(
        F.coalesce("exclusion_reason", F.lit("eligible")).alias("reason")).agg(F.count("*").alias("users")).collect()}
    sources = {r["signal_source"]: r["users"] for r in written.where(F.col("exclusion_reason").isNull())
               .groupBy("signal_source").agg(F.count("*").alias("users")).collect()}
    signals = describe_signals(lookups, sources)
    summary = {"users": sum(reasons.values()), "eligible": reasons.pop("eligible", 0), "excluded_by_reason": reasons,
               "lookups": lookups, "signals": signals}
    print(f"eligibility {params.campaign_id}: {summary['users']:,} users in snapshot {request.snapshot_date}, "
          f"{summary['eligible']:,} eligible")
    for reason, users in sorted(reasons.items()):
        print(f"  excluded {users:,}: {reason}")
    print(f"  signals: {signals['description']}")
    save_step_summary(settings, request, "eligibility", summary)
    return summary


def describe_signals(lookups: dict, sources: dict[str, int]) -> dict:
    """Which inputs drove the decisions, in words and counts."""
    model, fallback = sources.get("model", 0), sources.get("fallback", 0)
    if not lookups.get("scores_table"):
        text = "journey.user_scores does not exist (models not run): profile fallbacks for every user"
    elif not lookups.get("scored_users"):
        text = "journey.user_scores has no rows for this snapshot: profile fallbacks for every user"
    else:
        text = f"model scores for {model:,} eligible users, profile fallbacks for {fallback:,}"
    return {"description": text, "model_users": model, "fallback_users": fallback,
            "fallback_rules": "propensity from RFM scores, responsiveness from coupon_usage_rate, "
                              "scene from behaviour ratios (docs/campaigns.md)"}


def holdout(spark: SparkSession, settings: Settings, request: CampaignRequest) -> dict:
    """Control group of the eligible users, and the audience counts per segment and status."""
    params = request.params
    flagged = _read(spark, settings, request, "audience")
    eligible = flagged.where(F.col("exclusion_reason").isNull())
    drawn = eligible.select("user_id", "segment_id", holdout_draw_column(params.campaign_id).alias("draw")).withColumn(
        "in_holdout", F.col("draw") < F.lit(params.holdout_fraction))
    lake.write_parquet_atomic(drawn, _out(settings, request, "holdout"))
    drawn = _read(spark, settings, request, "holdout")
    status = F.when(F.col("exclusion_reason").isNotNull(), "excluded").when(F.col("in_holdout"), "holdout").otherwise(
        "treated")
    counts = (flagged.join(drawn.select("user_id", "in_holdout"), "user_id", "left")
              .withColumn("status", status)
              .groupBy("segment_id", "segment_name", "status",
                       F.coalesce("exclusion_reason", F.lit("eligible")).alias("reason"))
              .agg(F.count("*").alias("users")))
    lake.write_parquet_atomic(counts.select(*_run_columns(request), "segment_id", "segment_name", "status", "reason",
                                            "users").coalesce(1), _out(settings, request, "audience_counts"))
    totals = {r["status"]: r["users"] for r in drawn.groupBy(
        F.when(F.col("in_holdout"), "holdout").otherwise("treated").alias("status")).count()
        .withColumnRenamed("count", "users").collect()}
    eligible_users = sum(totals.values())
    summary = {"eligible": eligible_users, "holdout": totals.get("holdout", 0), "treated": totals.get("treated", 0),
               "fraction": params.holdout_fraction,
               "observed_share": totals.get("holdout", 0) / eligible_users if eligible_users else 0.0}
    print(f"holdout {params.campaign_id}: {summary['holdout']:,} of {eligible_users:,} eligible users held out "
          f"({summary['observed_share']:.2%}, target {params.holdout_fraction:.0%}); {summary['treated']:,} treated")
    save_step_summary(settings, request, "holdout", summary)
    return summary


def treated_users(spark: SparkSession, settings: Settings, request: CampaignRequest) -> DataFrame:
    """Eligible users outside the holdout, with their profile and signals."""
    drawn = _read(spark, settings, request, "holdout").where(~F.col("in_holdout")).select("user_id")
    return _read(spark, settings, request, "audience").join(drawn, "user_id")


def margin_rate(products_file: str | None) -> float:
    """Mean product margin from the products CSV (DEFAULT_MARGIN_RATE without one)."""
    if not products_file or not Path(products_file).exists():
        return DEFAULT_MARGIN_RATE
    margins = pd.read_csv(products_file, usecols=["margin"])["margin"].dropna()
    return float(margins.mean()) if len(margins) else DEFAULT_MARGIN_RATE


def coupons(spark: SparkSession, settings: Settings, request: CampaignRequest, products_file: str | None) -> dict:
    """Candidate values, the budgeted allocation, and the coupon assignments."""
    params = request.params
    started, margin = time.perf_counter(), margin_rate(products_file)
    offers = offers_frame(spark, params.coupons)
    treated, uplift_source = with_learned_effect(settings, treated_users(spark, settings, request))
    lake.write_parquet_atomic(candidates(treated, offers, margin, uplift_source, positive_only=False),
                              _out(settings, request, "coupon_candidates"))
    arrays = coupon_step.candidate_arrays(_out(settings, request, "coupon_candidates"), len(params.coupons))
    offered = coupon_step.worth_offering(arrays)  # the optimiser's pairs: positive expected value
    exploring = exploration.for_run(settings, request, offered.user_ids, offered.values, offered.pools)
    if exploring:  # each user keeps only the offer drawn for it by its segment's Thompson shares
        offered = dataclasses.replace(offered, values=exploring.values)
    solved = time.perf_counter()
    optimiser_budget, test_budget = randomised_test.split_budget(params.budget, params.test_share)
    allocation = coupon_step.solve(offered, request, optimiser_budget)
    solve_seconds = time.perf_counter() - solved
    taken = randomised_test.taken_rows(allocation.chosen)  # test picks: among the candidates the optimiser left
    picks = randomised_test.randomised_picks(arrays, test_budget, taken, params.campaign_id, request.run_id)
    test = randomised_test.summary(arrays, picks, params.test_share, test_budget)
    chosen = coupon_step.chosen_pairs(spark, arrays, allocation, picks)
    rows = coupon_step.assignments(chosen, _read(spark, settings, request, "coupon_candidates"), offers,
                                   treated, request, margin)
    if exploring:
        rows = exploration.with_exploration_reason(rows, exploring.arms)
    lake.write_parquet_atomic(rows, _out(settings, request, "coupons"))
    by_offer = {r["offer_name"]: r["n"] for r in _read(spark, settings, request, "coupons").groupBy("offer_name")
                .agg(F.count("*").alias("n")).collect()}
    # budget_used, expected_value and the bound include the randomised test picks (the `test_*` keys alone)
    summary = {"budget": params.budget, "budget_used": allocation.cost + test["test_cost"],
               "expected_value": allocation.value + test["test_value"],
               "value_upper_bound": allocation.upper_bound + test["test_value"],
               "users_with_candidates": int(np.isfinite(offered.values).any(axis=1).sum()),
               "coupons": sum(by_offer.values()), "coupons_by_offer": by_offer, "margin_rate": margin,
               "uplift_source": uplift_source,
               "pools": [vars(p) for p in allocation.pools], "solve_seconds": solve_seconds, **test,
               "seconds": time.perf_counter() - started, "exploration": exploring.summary() if exploring else None}
    gap = 1 - allocation.value / allocation.upper_bound if allocation.upper_bound else 0.0
    print(f"coupons {params.campaign_id}: {summary['coupons']:,} coupons to {summary['users_with_candidates']:,} candidate "
          f"users; budget used {summary['budget_used']:,.2f} of {params.budget:,.2f}; optimised expected value "
          f"{allocation.value:,.2f} (LP bound {allocation.upper_bound:,.2f}, gap at most {gap:.2%})")
    if picks:
        print(f"  randomised test: {len(picks):,} coupons costing {test['test_cost']:,.2f} of "
              f"{test_budget:,.2f} ({params.test_share:.0%} of the budget)")
    for offer, count in sorted(by_offer.items()):
        print(f"  {offer}: {count:,}")
    save_step_summary(settings, request, "coupons", summary)
    return summary


def ads(spark: SparkSession, settings: Settings, request: CampaignRequest) -> dict:
    """One ad per treated user, with the coupon code when there is one."""
    rows = ad_rules.ad_assignments(treated_users(spark, settings, request),
                                   _read(spark, settings, request, "coupons"), request)
    lake.write_parquet_atomic(rows, _out(settings, request, "ads"))
    by_channel = {r["channel"]: r["n"] for r in _read(spark, settings, request, "ads").groupBy("channel")
                  .agg(F.count("*").alias("n")).collect()}
    summary = {"ads": sum(by_channel.values()), "ads_by_channel": by_channel}
    print(f"ads {request.params.campaign_id}: {summary['ads']:,} messages; "
          + ", ".join(f"{c}: {n:,}" for c, n in sorted(by_channel.items())))
    save_step_summary(settings, request, "ads", summary)
    return summary


def _recommend_params(params: CampaignParams) -> RecommendParams:
    """The recommender's parameters from the campaign's (K, look-back, exclusion rule, category cap, two-tower)."""
    return RecommendParams(k=params.recommendations_k, lookback_days=params.recommendations_lookback_days,
                           exclude=params.recommendations_exclude, per_category=params.recommendations_per_category,
                           two_tower=params.recommendations_two_tower)


def _evaluation_rows(result) -> list[dict]:
    """The recommendation_eval rows: hybrid, plain ALS, popularity (and the two-tower alone when on) on the
    same users, with the tuning."""
    settings = json.dumps(result.tuning.settings())
    return [{**vars(m), "split_date": None, "holdout_fraction": result.tuning.params.holdout_fraction,
             "validation_ndcg": result.tuning.validation.get("blend") if m.model == "hybrid" else None,
             "settings": settings} for m in result.models]


def recommendations(spark: SparkSession, settings: Settings, request: CampaignRequest, evaluate: bool = True,
                    products_file: str | None = None) -> dict:
    """K products per treated user (tuned hybrid; popularity for cold start) and the offline evaluation.

    With `evaluate`, the evaluation's tuning (fitted on its training part) also sets the weights of
    the published lists; without it the run tunes on the whole look-back window.
    Product titles (the products CSV, the lake's product dimension) add the title-similarity source.
    """
    from journey.recommend.pipeline import SHORT_LIST_REASON, recommend_for, sized_for_audience, tune_for
    from journey.recommend.pipeline import evaluate as evaluate_offline
    from journey.recommend.titles import load_titles, title_neighbours

    params = _recommend_params(request.params)
    events = spark.read.parquet(lake.path(settings, lake.CURATED_EVENTS))
    users = treated_users(spark, settings, request).select("user_id")
    titles = load_titles(spark, settings, products_file)
    neighbours = title_neighbours(spark, titles, params.neighbours)
    print(f"recommendations {request.params.campaign_id}: "
          + (f"title embeddings of {len(titles):,} products" if neighbours is not None
             else "no product titles: title similarity not used"))
    if neighbours is not None:
        neighbours = neighbours.cache()
    audience = users.count()
    summary: dict = {"k": params.k, "titles": len(titles) if neighbours is not None else 0}
    with sized_for_audience(spark, audience):
        if evaluate:
            result = evaluate_offline(events, request.snapshot_date, params, title_neighbours=neighbours)
            tuning = result.tuning
            rows = _evaluation_rows(result)
            fields = [f.split()[0] for f in EVAL_SCHEMA.split(", ")]
            frame = spark.createDataFrame(pd.DataFrame(rows)[fields], EVAL_SCHEMA).select(*_run_columns(request), "*")
            lake.write_parquet_atomic(frame.coalesce(1), _out(settings, request, "recommendation_eval"))
            summary["evaluation"] = [{k: v for k, v in r.items() if k != "settings"} for r in rows]
            for m in result.models:
                print(f"  offline eval {m.model:<10} P@{m.k} {m.precision_at_k:.3f}  R@{m.k} {m.recall_at_k:.3f}  "
                      f"NDCG@{m.k} {m.ndcg_at_k:.4f}  coverage {m.coverage:.1%}  list {m.mean_list_length:.1f}"
                      f" ({m.short_lists:,} short: {SHORT_LIST_REASON if m.short_lists else '-'})  "
                      f"({m.users:,} test users, each user's latest {params.holdout_fraction:.0%})")
        else:
            tuning = tune_for(events, request.snapshot_date, params, neighbours)
        summary["tuning"] = tuning.settings()
        print(f"  tuning: {json.dumps(summary['tuning'])}")
        recs = recommend_for(events, request.snapshot_date, users, tuning.params, neighbours)
        lake.write_parquet_atomic(recs.select(*_run_columns(request), *recs.columns),
                                  _out(settings, request, "recommendations"))
    written = _read(spark, settings, request, "recommendations")
    by_source = {r["source"]: r["n"] for r in written.groupBy("source").agg(F.count("*").alias("n")).collect()}
    summary.update(recommendations=sum(by_source.values()), by_source=by_source)
    print(f"recommendations {request.params.campaign_id}: {summary['recommendations']:,} rows (K={params.k}); "
          + ", ".join(f"{s}: {n:,}" for s, n in sorted(by_source.items())))
    save_step_summary(settings, request, "recommendations", summary)
    return summary


def open_channels(users: DataFrame, consents: DataFrame) -> DataFrame:
    """(user_id, channel) for every campaign channel open to each user (consent rows for the gate)."""
    from journey.campaigns.eligibility import channel_open

    joined = users.select("user_id").join(consents, "user_id", "left")
    options = F.array(*[F.when(channel_open(c), F.lit(c)) for c in CAMPAIGN_CHANNELS])
    return joined.select("user_id", F.explode(F.array_compact(options)).alias("channel"))


def quality(spark: SparkSession, settings: Settings, request: CampaignRequest) -> dict:
    """Assignment and recommendation gates (GX); a failed error check stops the run before publish."""
    from journey.quality import prepare, suites
    from journey.quality.gate import gate

    params = request.params
    coupons_rows = _read(spark, settings, request, "coupons")
    held = _read(spark, settings, request, "holdout").where(F.col("in_holdout")).select("user_id")
    consents = open_channels(_read(spark, settings, request, "audience"), inputs.consents(spark, settings))
    ads_rows = _read(spark, settings, request, "ads").withColumn("expected_cost", F.lit(0.0))
    recs = _read(spark, settings, request, "recommendations")
    bought = inputs.purchases(spark, settings, request.snapshot_date)
    outcomes = gate(settings, request.run_id, f"campaign:{params.campaign_id}", [
        ("coupon_assignments", prepare.prepare_assignments(coupons_rows, held, consents),
         [*suites.assignments_suite(params.budget + BUDGET_TOLERANCE, params.max_coupons_per_user),
          suites.Check("ExpectColumnValuesToBeUnique", {"column": "coupon_code"})]),
        ("ad_assignments", prepare.prepare_assignments(ads_rows, held, consents), suites.assignments_suite(0.0, 1)),
        ("recommendation_assignments", prepare.prepare_recommendations(recs, bought), suites.recommendations_suite()),
    ])
    summary = {"checks": len(outcomes), "failed": sum(not o.success for o in outcomes)}
    save_step_summary(settings, request, "quality", summary)
    return summary
