"""Published scores on CDNOW judged on the 39-week holdout: `python -m journey.perf.scores_cdnow CDNOW_sample.txt`.

Run after `journey run daily` and `journey run train` with the run date 1997-09-30 in the
same JOURNEY_HOME (the commands are in docs/models.md). Reads `journey.user_scores` from
that home's warehouse and the purchase log itself, and prints, on the same customers, the
ROC-AUC for "any purchase 1997-10-01 .. 1998-06-30" of the published propensity, of BG/NBD's
expected purchases and of the one-line rules, and the mean absolute error of the expected
purchases against the actual purchase days (beside the per-customer calibration rate).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from journey.perf.daily import machine

CALIBRATION_END = "19970930"
HOLDOUT_WEEKS = 39


def customer_truth(path: Path) -> pd.DataFrame:
    """Per sample customer id: purchase days in the calibration and in the holdout, first purchase day."""
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["full_id", "customer", "day", "cds", "dollars"],
                      dtype={"customer": str, "day": str})
    before, after = raw[raw["day"] <= CALIBRATION_END], raw[raw["day"] > CALIBRATION_END]
    first = pd.to_datetime(before.groupby("customer")["day"].min(), format="%Y%m%d")
    last = pd.to_datetime(before.groupby("customer")["day"].max(), format="%Y%m%d")
    return pd.DataFrame({"past_days": before.groupby("customer")["day"].nunique(),
                         "holdout_days": after.groupby("customer")["day"].nunique(),
                         "weeks_known": (pd.Timestamp(CALIBRATION_END) - first).dt.days / 7.0,
                         "days_since_last": (pd.Timestamp(CALIBRATION_END) - last).dt.days}).fillna(0)


def published_scores() -> pd.DataFrame:
    """journey.user_scores of the JOURNEY_HOME's warehouse, by user id."""
    from journey import warehouse
    from journey.config import get_settings

    with warehouse.connect(get_settings()) as conn, conn.cursor() as cur:
        cur.execute("SELECT user_id, propensity, expected_purchases, p_alive, model_versions->>'propensity' "
                    "FROM journey.user_scores")
        return pd.DataFrame(cur.fetchall(), columns=["customer", "propensity", "expected_purchases", "p_alive",
                                                     "propensity_model"]).set_index("customer")


def report(rows: pd.DataFrame) -> list[str]:
    """The markdown table of ROC-AUCs and the expected-purchases error."""
    from sklearn.metrics import roc_auc_score

    bought = (rows["holdout_days"] > 0).astype(int)
    scores = {"published propensity (model " + str(rows["propensity_model"].iloc[0]) + ")": rows["propensity"],
              "BG/NBD expected purchases (published)": rows["expected_purchases"],
              "rule: past purchase days": rows["past_days"], "rule: recency (fewer days is better)":
              -rows["days_since_last"]}
    lines = [f"{len(rows):,} customers, {int(bought.sum()):,} bought in the holdout", "",
             "| score | ROC-AUC |", "| --- | ---: |"]
    lines += [f"| {name} | {roc_auc_score(bought, value):.4f} |" for name, value in scores.items()]
    rate = (rows["past_days"] - 1).clip(lower=0) / rows["weeks_known"].replace(0, np.nan) * HOLDOUT_WEEKS
    lines += ["", "| expected purchases, per customer | mean absolute error |", "| --- | ---: |",
              f"| BG/NBD (published) | {(rows['expected_purchases'] - rows['holdout_days']).abs().mean():.4f} |",
              f"| calibration rate × 39 weeks | {(rate.fillna(0) - rows['holdout_days']).abs().mean():.4f} |"]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the holdout report of the published scores."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="CDNOW_sample.txt as distributed")
    args = parser.parse_args(argv)
    rows = customer_truth(args.source).join(published_scores(), how="inner")
    print("\n".join(report(rows)))
    print(f"\nmachine: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
