"""Uplift learners on a real randomised promotion: `python -m journey.perf.uplift_starbucks [--data DIR]`.

Trains the T-learner, the X-learner and the response model (treated-only classifier) on
`starbucks_promo_training.csv` (84,534 customers; `Promotion` Yes/No assigned at random,
`purchase` 0/1, anonymised attributes V1–V7), ranks `starbucks_promo_test.csv` (41,650) and
prints, per contender, the Qini coefficient and the uplift at 10 % and 30 % on the test file,
beside a seeded random order (expected Qini 0), and each learner's Qini minus the response
model's with a 95 % paired bootstrap interval over the test rows. The data folder defaults to ../shared/data
beside the checkout, then /work/shared/data (as tests/samples.py looks). Exits 1 when no
learner beats both the response model and random on Qini.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from journey.errors import InputError, MissingInputError
from journey.models.uplift import UpliftParams, fit_response, fit_uplift
from journey.models.uplift_metrics import QINI, UPLIFT_K, qini_difference_interval, uplift_at_name, uplift_metrics
from journey.perf.daily import machine

TRAINING_FILE = "starbucks_promo_training.csv"
TEST_FILE = "starbucks_promo_test.csv"
FEATURES = tuple(f"V{i}" for i in range(1, 8))
TREATMENT_VALUES = {"Yes": 1, "No": 0}
DATA_FOLDERS = (Path(__file__).resolve().parents[3].parent / "shared" / "data", Path("/work/shared/data"))
RANDOM_SEED = 7
BOOTSTRAP_RESAMPLES = 200
LEARNER_NAMES = ("T-learner", "X-learner")


def data_folder(given: Path | None) -> Path:
    """The folder holding both Starbucks files: `given`, else the first of DATA_FOLDERS that has them."""
    candidates = (given,) if given is not None else DATA_FOLDERS
    for folder in candidates:
        if (folder / TRAINING_FILE).is_file() and (folder / TEST_FILE).is_file():
            return folder
    raise MissingInputError(f"no {TRAINING_FILE} and {TEST_FILE} in {' or '.join(map(str, candidates))}")


def read_promotion(path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(features V1–V7, treated 0/1, purchase 0/1) of one Starbucks file; InputError naming a bad column."""
    frame = pd.read_csv(path)
    missing = [c for c in ("Promotion", "purchase", *FEATURES) if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)}")
    unknown = sorted(set(frame["Promotion"].unique()) - set(TREATMENT_VALUES))
    if unknown:
        raise InputError(f"{path}: Promotion must be Yes or No, got {unknown[:3]}")
    return frame[list(FEATURES)], frame["Promotion"].map(TREATMENT_VALUES).to_numpy(), frame["purchase"].to_numpy()


def contender_scores(train: tuple, test_features: pd.DataFrame, params: UpliftParams, log) -> dict[str, np.ndarray]:
    """Test-file scores of each contender trained on the training file (progress lines through `log`)."""
    scores = {}
    for kind, name in (("t", "T-learner"), ("x", "X-learner")):
        started = time.perf_counter()
        scores[name] = fit_uplift(*train, kind=kind, params=params).predict_effect(test_features)
        log(f"{name}: trained and scored in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    scores["response model"] = fit_response(*train, params=params).predict_response(test_features)
    log(f"response model: trained and scored in {time.perf_counter() - started:.1f} s")
    scores["random"] = np.random.default_rng(RANDOM_SEED).random(len(test_features))
    return scores


def evaluate(folder: Path, params: UpliftParams, log=print) -> tuple[dict[str, dict[str, float]], dict[str, tuple]]:
    """({contender: {qini, uplift_at_10, uplift_at_30}}, {learner: Qini − response model's, with its 95 % interval})
    on the test file, trained on the training file."""
    train = read_promotion(folder / TRAINING_FILE)
    features, treated, outcome = read_promotion(folder / TEST_FILE)
    log(f"read {len(train[1]):,} training and {len(treated):,} test customers from {folder}")
    scores = contender_scores(train, features, params, log)
    metrics = {name: uplift_metrics(outcome, treated, s) for name, s in scores.items()}
    log(f"paired bootstrap of the Qini difference, {BOOTSTRAP_RESAMPLES} resamples of the test file")
    margins = {name: qini_difference_interval(outcome, treated, scores[name], scores["response model"],
                                              BOOTSTRAP_RESAMPLES, seed=RANDOM_SEED) for name in LEARNER_NAMES}
    return metrics, margins


def table(results: dict[str, dict[str, float]]) -> str:
    """A markdown table: contender | Qini | uplift at 10 % | uplift at 30 %."""
    keys = (QINI, *(uplift_at_name(k) for k in UPLIFT_K))
    lines = ["| contender | Qini coefficient | " + " | ".join(f"uplift at {k:.0%}" for k in UPLIFT_K) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in UPLIFT_K) + " |"]
    for name, metrics in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{metrics[k]:+.4f}" for k in keys) + " |")
    return "\n".join(lines)


def best_learner(results: dict[str, dict[str, float]]) -> str:
    """The learner with the highest Qini."""
    return max(LEARNER_NAMES, key=lambda name: results[name][QINI])


def main(argv: list[str] | None = None) -> int:
    """Train, rank, print the table and a summary; exit 1 when no learner beats the response model and random."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with the two Starbucks files (default ../shared/data)")
    parser.add_argument("--rounds", type=int, default=UpliftParams().n_estimators, help="boosting rounds at most")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results, margins = evaluate(data_folder(args.data), replace(UpliftParams(), n_estimators=args.rounds))
    print(table(results))
    for name, (difference, low, high) in margins.items():
        print(f"{name} − response model, Qini: {difference:+.4f} (95 % paired bootstrap {low:+.4f} .. {high:+.4f})")
    best = best_learner(results)
    wins = results[best][QINI] > max(results["response model"][QINI], results["random"][QINI], 0.0)
    print(f"\n{best}: Qini {results[best][QINI]:+.4f} vs response model {results['response model'][QINI]:+.4f} "
          f"and random {results['random'][QINI]:+.4f}: {'beats both' if wins else 'does NOT beat both'}")
    print(f"{time.perf_counter() - started:.1f} s on {machine()}")
    return 0 if wins else 1


if __name__ == "__main__":
    sys.exit(main())
