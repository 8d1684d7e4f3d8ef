"""The `uplift` model of the registry: trained on past campaigns' treated vs held-out outcomes.

    rows = uplift_rows(outcomes, profiles)        # closed runs only, profile at each run's snapshot
    fitted = train_uplift(rows)                   # learner, response model, promotion report
    effect = fitted.learner.predict_effect(rows[list(UPLIFT_FEATURES)])

Training rows: every treated and held-out user of every measured run whose attribution window
has closed (`provisional` false), with the user's profile features (PROFILE_FEATURES, the
features the propensity / responsiveness models use) at the run's snapshot date. The outcome
is `converted` (an order in the window). The held-out users never got an offer, so the offer
they would have been given is unknown: the model learns the effect of *being treated by the
campaign* from user features only, and coupon valuation scales it by each offer's pull
relative to the campaign's average (`reference_pull`, the mean strength × reach of the
treated users' offers; see campaigns/valuation.py).

Evaluation: rows are split by a stable hash of the user id (TEST_SHARE held out, the same user
always on the same side); on the held-out rows the candidate's Qini and uplift at 10 / 30 % are
compared with the response model (treated-only classifier) and the hand formula's user score
responsiveness × (1 − propensity) (the offer factor is the same for every user of a campaign);
`uplift_promotion` decides.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from journey.errors import DataError, InputError, MissingInputError
from journey.models.training_data import PROFILE_FEATURES
from journey.models.uplift import (
    ResponseModel,
    UpliftLearner,
    UpliftParams,
    fit_response,
    fit_uplift,
    load_uplift,
    save_uplift,
)
from journey.models.uplift_metrics import uplift_promotion

UPLIFT_FEATURES = PROFILE_FEATURES
OUTCOME_COLUMNS = ("campaign_id", "run_id", "snapshot_date", "user_id", "arm", "converted", "provisional")
SIGNALS = ("propensity", "responsiveness")  # the hand formula's inputs, kept on the rows for the comparison
TEST_SHARE = 0.3
TRAINING_FILE = "uplift_training.json"
MIN_ARM_ROWS = 50  # fewer treated or held-out rows than this: nothing worth learning
TRAINING_BAGS = 5  # bagged learners of the registry model (uplift.UpliftParams.bags)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """InputError naming the columns a frame lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"uplift training: {what} lack column(s) {', '.join(missing)}")


def uplift_rows(outcomes: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Closed runs' treated and held-out users with their profile at the run's snapshot date.

    outcomes: OUTCOME_COLUMNS (+ optional `pull`: the offer's strength × reach of treated rows, and
    `redemptions`: the user's redemptions of the run's coupon, which gives the rows `redeemed`);
    profiles: user_id, snapshot_date, UPLIFT_FEATURES, propensity, responsiveness. Provisional
    runs are left out; users without a profile at their run's snapshot are dropped. Returns one
    row per (run, user) with `treated` and `outcome` as 0/1.
    """
    _require(outcomes, OUTCOME_COLUMNS, "campaign outcome rows")
    _require(profiles, ("user_id", "snapshot_date", *UPLIFT_FEATURES, *SIGNALS), "profiles")
    bad = sorted(set(outcomes["arm"]) - {"treated", "holdout"})
    if bad:
        raise InputError(f"uplift training: unknown arm(s) {bad} in the outcome rows; expected treated, holdout")
    closed = outcomes[~outcomes["provisional"].astype(bool)]
    closed = closed.drop_duplicates(["campaign_id", "run_id", "user_id"])
    keys = closed.assign(snapshot_date=pd.to_datetime(closed["snapshot_date"]).dt.date)
    features = profiles.assign(snapshot_date=pd.to_datetime(profiles["snapshot_date"]).dt.date)
    rows = keys.merge(features[["user_id", "snapshot_date", *UPLIFT_FEATURES, *SIGNALS]],
                      on=["user_id", "snapshot_date"], how="inner")
    rows["treated"] = (rows["arm"] == "treated").astype(np.int8)
    rows["outcome"] = rows["converted"].astype(bool).astype(np.int8)
    if "redemptions" in rows.columns:
        redeemed = pd.to_numeric(rows["redemptions"], errors="coerce").fillna(0) > 0
        rows["redeemed"] = (redeemed & (rows["treated"] == 1)).astype(np.int8)
    return rows.reset_index(drop=True)


def test_rows(user_ids: pd.Series, share: float = TEST_SHARE) -> np.ndarray:
    """True for the users held out for evaluation: a stable hash of the id below `share`."""
    def unit(user_id) -> float:
        return int(hashlib.sha256(str(user_id).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    return np.array([unit(u) < share for u in user_ids], dtype=bool)


def not_enough(rows: pd.DataFrame) -> str | None:
    """Why these rows cannot train the uplift model ("not applicable …"), or None when they can."""
    if rows.empty:
        return "not applicable: no campaign run has closed outcomes yet (no treated vs held-out rows to learn from)"
    arms = rows["treated"].value_counts()
    treated, held = int(arms.get(1, 0)), int(arms.get(0, 0))
    if min(treated, held) < MIN_ARM_ROWS:
        return (f"not applicable: closed campaign outcomes have {treated} treated and {held} held-out rows "
                f"(at least {MIN_ARM_ROWS} of each are needed)")
    if rows["outcome"].nunique() < 2:
        return "not applicable: no user of the closed campaigns converted (or every one did): nothing to learn"
    return None


def hand_formula_score(rows: pd.DataFrame) -> np.ndarray:
    """The hand formula's user factor: responsiveness × (1 − propensity)."""
    return (rows["responsiveness"].to_numpy(float) * (1.0 - rows["propensity"].to_numpy(float)))


def reference_pull(rows: pd.DataFrame) -> float:
    """Mean offer pull (strength × reach) of the treated rows; 1 when the rows do not carry it."""
    if "pull" not in rows.columns:
        return 1.0
    pulls = rows.loc[rows["treated"] == 1, "pull"].dropna()
    return float(pulls.mean()) if len(pulls) and pulls.mean() > 0 else 1.0


@dataclass
class FittedUplift:
    """A trained uplift model with its comparison model and the promotion report."""

    learner: UpliftLearner
    response: ResponseModel
    report: dict
    reference_pull: float


def train_uplift(rows: pd.DataFrame, kind: str = "x", params: UpliftParams | None = None,
                 champion: UpliftLearner | None = None, margin: float | None = None) -> FittedUplift:
    """Fit on the training users, evaluate on the held-out users against the baselines (and champion).

    Default settings: TRAINING_BAGS bagged learners; the redemption classifier when the rows carry `redeemed`.
    The report judges the learner fitted on the training users; the learner returned (the one valuation
    uses when promoted) is refitted the same way on all the rows.
    """
    reason = not_enough(rows)
    if reason:
        raise DataError(f"uplift: {reason}")
    held_out = test_rows(rows["user_id"])
    train, test = rows[~held_out], rows[held_out]
    features = list(UPLIFT_FEATURES)
    params = params or UpliftParams(bags=TRAINING_BAGS)
    learner = fit_uplift(train[features], train["treated"], train["outcome"], kind, params)  # judged on effects only
    response = fit_response(train[features], train["treated"], train["outcome"], params)
    extra = {} if margin is None else {"margin": margin}
    report = uplift_promotion(test["outcome"], test["treated"], learner.predict_effect(test[features]),
                              response.predict_response(test[features]), hand_formula_score(test),
                              champion.predict_effect(test[features]) if champion is not None else None, **extra)
    report.update({"learner": kind, "train_rows": int(len(train)), "test_rows": int(len(test)),
                   "runs": int(rows[["campaign_id", "run_id"]].drop_duplicates().shape[0]), "refit_rows": int(len(rows))})
    deployed = fit_uplift(rows[features], rows["treated"], rows["outcome"], kind, params, rows.get("redeemed"))
    return FittedUplift(deployed, response, report, reference_pull(rows))


def save_fitted(fitted: FittedUplift, out_dir: Path) -> str:
    """The learner (uplift.save_uplift) plus TRAINING_FILE: its reference pull and promotion report."""
    save_uplift(fitted.learner, out_dir)
    (out_dir / TRAINING_FILE).write_text(json.dumps({"reference_pull": fitted.reference_pull,
                                                     "report": fitted.report}, indent=2, default=str))
    return str(out_dir)


def load_fitted(artifact: str | Path) -> tuple[UpliftLearner, float]:
    """(learner, reference pull) of a saved uplift model; MissingInputError naming the folder."""
    folder = Path(artifact)
    if not (folder / TRAINING_FILE).is_file():
        raise MissingInputError(f"no uplift training file {folder / TRAINING_FILE}: not a folder save_fitted wrote")
    return load_uplift(folder), float(json.loads((folder / TRAINING_FILE).read_text())["reference_pull"])
