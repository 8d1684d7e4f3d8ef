"""BTYD baseline on the CDNOW sample: `python -m journey.perf.btyd_cdnow /work/shared/data/cdnow_sample.txt`.

Fits BG/NBD and Gamma-Gamma on the calibration period 1997-01-01..1997-09-30 (time in weeks,
the published set-up of Fader, Hardie & Lee 2005) and compares the forecasts for the 39-week
holdout 1997-10-01..1998-06-30 with what the same 2,357 customers did: mean absolute error of
the expected repeat purchases against the actual purchase days, and ROC-AUC for "any purchase
in the holdout" of BG/NBD and of the one-line rules. Prints markdown tables and the machine.
With `--simulate N`, also times the BG/NBD fit on N customers drawn from the model's own story
(`simulate_bgnbd`, which the unit tests use as a customer base with a known answer).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from journey.errors import InputError
from journey.models.btyd import (
    btyd_scores,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
    probability_no_purchase,
    rfm_summary,
)
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


def simulate_bgnbd(customers: int, r: float, alpha: float, a: float, b: float, seed: int, holdout: float = 0.0):
    """(x, t_x, T, purchases in (T, T + holdout]) drawn from the BG/NBD story.

    Purchases come at Poisson rate λ ~ Gamma(r, α) from the first one at 0; after each repeat
    purchase the customer drops out with probability p ~ Beta(a, b). T is uniform on 20..40.
    """
    rng = np.random.default_rng(seed)
    rate, dropout = rng.gamma(r, 1.0 / alpha, customers), rng.beta(a, b, customers)
    horizon = rng.uniform(20.0, 40.0, customers)
    x, t_x, later, now = np.zeros(customers), np.zeros(customers), np.zeros(customers), np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        now[active] += rng.exponential(1.0 / rate[active])
        calibration, after = active & (now <= horizon), active & (now > horizon) & (now <= horizon + holdout)
        x[calibration] += 1
        t_x[calibration] = now[calibration]
        later[after] += 1
        active = (calibration | after) & (rng.random(customers) >= dropout)
    return x, t_x, horizon, later


def scale_report(customers: int, seed: int = 3) -> str:
    """Fit and forecast times on `customers` simulated ones, times rounded to days as a daily feed gives them."""
    truth = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, T, _ = simulate_bgnbd(customers, **truth, seed=seed)
    t_x, T = np.floor(t_x * WEEK_DAYS) / WEEK_DAYS, np.ceil(T * WEEK_DAYS) / WEEK_DAYS
    distinct = len(np.unique(np.column_stack([x, t_x, T]), axis=0))
    started = time.perf_counter()
    fitted = fit_bgnbd(x, t_x, T)
    fitted_at = time.perf_counter()
    expected_purchases(fitted, 13.0, x, t_x, T)
    p_alive(fitted, x, t_x, T)
    return (f"Machine {machine()}; {customers:,} simulated customers (true r, alpha, a, b = {tuple(truth.values())}), "
            f"{distinct:,} distinct histories: fit {fitted_at - started:.2f} s "
            f"(r={fitted.r:.3f} alpha={fitted.alpha:.3f} a={fitted.a:.3f} b={fitted.b:.3f}), "
            f"p_alive + expected purchases {time.perf_counter() - fitted_at:.2f} s.")


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
    parser.add_argument("--simulate", type=int, default=0, metavar="N",
                        help="also time the fit on N customers simulated from the BG/NBD story")
    args = parser.parse_args(argv)
    print(report(args.cdnow))
    if args.simulate:
        print(scale_report(args.simulate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
