"""Per-user outcome rows of measured campaign runs in the lake: what the `uplift` model learns from.

    write_outcomes(settings, campaign_id, run_id, rows, provisional)   # the results step, each measurement
    outcomes, profiles = training_inputs(settings)                    # the train step, no warehouse

`lake/campaigns/outcomes/campaign_id=…/run_id=…/outcomes.parquet` holds the run's treated and
held-out users (results.per_user_rows: arm, converted, orders, revenue, coupon cost …) with the
run's snapshot date and whether its window was still open (`provisional`); each measurement
replaces the file. The run's snapshot date is its audience's. The profiles are the run's own audience output (the profile features and the
propensity / responsiveness the run's valuation used, at its snapshot date).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from journey import lake
from journey.campaigns.request import load_request, output_path
from journey.config import Settings
from journey.models.uplift_training import OUTCOME_COLUMNS, SIGNALS, UPLIFT_FEATURES

FILE = "outcomes.parquet"
KEPT = ("user_id", "arm", "converted", "orders", "revenue", "redemptions", "coupon_cost", "offer_name")


def outcomes_folder(settings: Settings) -> Path:
    """The local folder of every run's outcome rows."""
    return Path(lake.local_path(lake.path(settings, lake.CAMPAIGN_OUTCOMES), needs_local="campaign outcomes"))


def outcomes_file(settings: Settings, campaign_id: str, run_id: str) -> Path:
    """outcomes.parquet of one run."""
    return outcomes_folder(settings) / f"campaign_id={campaign_id}" / f"run_id={lake.safe_name(run_id)}" / FILE


def write_outcomes(settings: Settings, campaign_id: str, run_id: str, rows: pd.DataFrame, provisional: bool) -> Path:
    """Replace a run's outcome rows (one per user: the first of a user's coupon rows); returns the file."""
    frame = rows.drop_duplicates("user_id")[[c for c in KEPT if c in rows.columns]].copy()
    frame = frame.assign(campaign_id=campaign_id, run_id=run_id, provisional=bool(provisional))
    target = outcomes_file(settings, campaign_id, run_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    frame.to_parquet(partial, index=False)
    partial.replace(target)
    return target


def read_outcomes(settings: Settings) -> pd.DataFrame:
    """Every run's outcome rows (OUTCOME_COLUMNS and the rest of KEPT); an empty frame when there are none."""
    files = sorted(outcomes_folder(settings).glob(f"campaign_id=*/run_id=*/{FILE}"))
    if not files:
        return pd.DataFrame(columns=[*OUTCOME_COLUMNS])
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def run_profiles(settings: Settings, campaign_id: str, run_id: str) -> pd.DataFrame:
    """The run's audience output: user_id, the profile features and the valuation's signals, with the snapshot
    date of the run's request (the audience output has no date column)."""
    folder = lake.local_path(output_path(settings, campaign_id, run_id, "audience"), needs_local="campaign outcomes")
    audience = pd.read_parquet(folder, columns=["user_id", *UPLIFT_FEATURES, *SIGNALS])
    return audience.assign(snapshot_date=load_request(settings, campaign_id, run_id).snapshot_date)


def training_inputs(settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(outcome rows with their run's snapshot_date, profiles) of every measured run whose audience is in the lake."""
    outcomes = read_outcomes(settings)
    runs = outcomes[["campaign_id", "run_id"]].drop_duplicates().itertuples(index=False)
    frames, snapshots = [], []
    for campaign_id, run_id in runs:
        try:
            audience = run_profiles(settings, campaign_id, run_id)
        except FileNotFoundError:
            continue
        frames.append(audience)
        snapshots.append((campaign_id, run_id, audience["snapshot_date"].max()))
    known = pd.DataFrame(snapshots, columns=["campaign_id", "run_id", "snapshot_date"])
    outcomes = outcomes.drop(columns="snapshot_date", errors="ignore").merge(known, on=["campaign_id", "run_id"])
    profiles = (pd.concat(frames, ignore_index=True).drop_duplicates(["user_id", "snapshot_date"]) if frames else
                pd.DataFrame(columns=["user_id", "snapshot_date", *UPLIFT_FEATURES, *SIGNALS]))
    return outcomes, profiles
