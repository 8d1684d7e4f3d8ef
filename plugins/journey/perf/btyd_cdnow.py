"""BTYD baseline on the CDNOW sample: `python -m journey.perf.btyd_cdnow /work/shared/data/cdnow_sample.txt`.

Fits BG/NBD and Gamma-Gamma on the calibration period 1997-01-01..1997-09-30 (time in weeks,
the published set-up of Fader, Hardie & Lee 2005) and compares the forecasts for the 39-week
holdout 1997-10-01..1998-06-30 with what the same 2,357 customers did: mean absolute error of
the expected repeat purchases against the actual purchase days, and ROC-AUC for "any purchase
in the holdout" of BG/NBD and of the one-line rules. Prints markdown tables and the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from journey.errors import InputError
from journey.models.btyd import btyd_scores, fit_bgnbd, fit_gamma_gamma, probability_no_purchase, rfm_summary
from journey.perf.daily import machine

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
WEEK_DAYS = 7.0
HORIZON_WEEKS = 39.0
CDNOW_COLUMNS = ("user_id", "sample_id", "date", "cds", "amount")


def read_cdnow(path: Path) -> pd.DataFrame:
    """The CDNOW sample as user_id, date, amount rows (whitespace-separated, no header, dates YYYYMMDD)."""
    if not Path(path).is_file():
        raise InputError(f"CDNOW sample: no file {path}")
    lines = pd.read_csv(path, sep=r"\s+", header=None, names=list(CDNOW_COLUMNS), dtype={"date": str})
    lines["date"] = pd.to_datetime(lines["date"], format="%Y%m%d")
    return lines[["user_id", "date", "amount"]]


def holdout_purchase_days(transactions: pd.DataFrame, users: pd.Series) -> np.ndarray:
    """Distinct purchase days of each of `users` after the calibration end, up to the holdout end."""
    after = transactions[(transactions["date"] > CALIBRATION_END) & (transactions["date"] <= HOLDOUT_END)]
    days = after.groupby("user_id")["date"].nunique()
    return days.reindex(users.to_numpy(), fill_value=0).to_numpy()


def rule_scores(summary: pd.DataFrame) -> dict[str, np.ndarray]:
    """The one-line rules: past purchase days (more is better) and days since the last one (fewer is better)."""
    return {
        "rule: number of past purchase days": summary["frequency"].to_numpy() + 1.0,
        "rule: recency (days since last purchase, lower is better)":
            -(summary["T"] - summary["recency"]).to_numpy() * WEEK_DAYS,
    }


def report(path: Path) -> str:
    """The markdown report: fitted parameters, errors and ROC-AUCs on the holdout."""
    from sklearn.metrics import roc_auc_score

    transactions = read_cdnow(path)
    started = time.perf_counter()
    summary = rfm_summary(transactions, CALIBRATION_END, unit_days=WEEK_DAYS)
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    scores = btyd_scores(summary, HORIZON_WEEKS, bgnbd, gamma_gamma)
    seconds = time.perf_counter() - started
    actual = holdout_purchase_days(transactions, summary["user_id"])
    bought = (actual > 0).astype(int)
    naive = summary["frequency"].to_numpy() / np.maximum(summary["T"].to_numpy(), 1e-9) * HORIZON_WEEKS
    ranked = {"BG/NBD expected purchases (39 weeks)": scores["expected_purchases"].to_numpy(),
              "BG/NBD P(any purchase in 39 weeks) = 1 − P(X=0)": 1.0 - probability_no_purchase(
                  bgnbd, HORIZON_WEEKS, summary["frequency"], summary["recency"], summary["T"]),
              "BG/NBD P(alive) (1 for every one-time buyer)": scores["p_alive"].to_numpy(),
              **rule_scores(summary)}
    lines = [
        f"Machine {machine()}; fit + scores {seconds:.2f} s.",
        f"Customers {len(summary):,}; repeat buyers in calibration {int((summary['frequency'] > 0).sum()):,}; "
        f"holdout buyers {int(bought.sum()):,} ({bought.mean():.1%}); holdout purchase days {int(actual.sum()):,}, "
        f"BG/NBD expects {scores['expected_purchases'].sum():,.1f}.",
        f"BG/NBD r={bgnbd.r:.4f} alpha={bgnbd.alpha:.4f} a={bgnbd.a:.4f} b={bgnbd.b:.4f} "
        f"log-likelihood {bgnbd.log_likelihood:.2f}; Gamma-Gamma p={gamma_gamma.p:.4f} q={gamma_gamma.q:.4f} "
        f"v={gamma_gamma.v:.4f}.",
        "",
        "| expected repeat purchase days, weeks 40-78 | MAE per customer |",
        "| --- | ---: |",
        f"| BG/NBD conditional expectation | {np.mean(np.abs(scores['expected_purchases'] - actual)):.4f} |",
        f"| naive: calibration rate x / T × 39 | {np.mean(np.abs(naive - actual)):.4f} |",
        "",
        "| score for \"any purchase in the holdout\" | ROC-AUC |",
        "| --- | ---: |",
        *(f"| {name} | {roc_auc_score(bought, score):.4f} |" for name, score in ranked.items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the report for the CDNOW file given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cdnow", type=Path, help="cdnow_sample.txt (e.g. /work/shared/data/cdnow_sample.txt)")
    args = parser.parse_args(argv)
    print(report(args.cdnow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
