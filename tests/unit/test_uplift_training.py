"""The uplift model's training set, training, promotion report and save/load (models/uplift_training.py)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from journey.errors import DataError, InputError
from journey.models import uplift_training as ut
from journey.models.evaluate import comparison_rows

FEATURES = list(ut.UPLIFT_FEATURES)


def profile(user_id: str, snapshot: date, frequency: float) -> dict:
    """A profile row: every feature 0 except frequency, fixed signals."""
    return {"user_id": user_id, "snapshot_date": snapshot, **dict.fromkeys(FEATURES, 0.0), "frequency": frequency,
            "propensity": 0.1, "responsiveness": 0.5}


def outcome(run: str, snapshot: date, user_id: str, arm: str, converted: bool, provisional: bool) -> dict:
    """An outcome row of campaign c."""
    return {"campaign_id": "c", "run_id": run, "snapshot_date": snapshot, "user_id": user_id, "arm": arm,
            "converted": converted, "provisional": provisional}


def test_rows_take_the_profile_at_each_runs_snapshot_and_leave_provisional_runs_out():
    early, late = date(2026, 10, 1), date(2026, 10, 15)
    profiles = pd.DataFrame([profile("u1", early, 3), profile("u1", late, 7), profile("u2", early, 1),
                             profile("u3", late, 9)])
    outcomes = pd.DataFrame([outcome("r1", early, "u1", "treated", True, False),
                             outcome("r1", early, "u2", "holdout", False, False),
                             outcome("r2", late, "u1", "treated", False, True),   # window still open
                             outcome("r2", late, "u3", "holdout", True, True)])
    rows = ut.uplift_rows(outcomes, profiles).sort_values("user_id")
    assert rows["user_id"].tolist() == ["u1", "u2"]
    assert rows["frequency"].tolist() == [3.0, 1.0]
    assert rows["treated"].tolist() == [1, 0]
    assert rows["outcome"].tolist() == [1, 0]


def test_redemptions_mark_treated_rows_redeemed_only():
    day = date(2026, 10, 1)
    profiles = pd.DataFrame([profile(u, day, 1) for u in ("u1", "u2", "u3")])
    outcomes = pd.DataFrame([{**outcome("r", day, "u1", "treated", True, False), "redemptions": 2},
                             {**outcome("r", day, "u2", "treated", True, False), "redemptions": 0},
                             {**outcome("r", day, "u3", "holdout", True, False), "redemptions": 1}])
    rows = ut.uplift_rows(outcomes, profiles).set_index("user_id")
    assert rows["redeemed"].to_dict() == {"u1": 1, "u2": 0, "u3": 0}
    assert "redeemed" not in ut.uplift_rows(outcomes.drop(columns="redemptions"), profiles).columns


def test_bad_outcome_rows_are_named():
    profiles = pd.DataFrame([profile("u1", date(2026, 10, 1), 1)])
    with pytest.raises(InputError, match="provisional"):
        ut.uplift_rows(pd.DataFrame([{"campaign_id": "c", "run_id": "r", "snapshot_date": date(2026, 10, 1),
                                      "user_id": "u1", "arm": "treated", "converted": True}]), profiles)
    with pytest.raises(InputError, match="unknown arm"):
        ut.uplift_rows(pd.DataFrame([outcome("r", date(2026, 10, 1), "u1", "control", True, False)]), profiles)


def test_too_few_rows_are_not_applicable():
    empty = ut.uplift_rows(pd.DataFrame(columns=list(ut.OUTCOME_COLUMNS)),
                           pd.DataFrame([profile("u1", date(2026, 10, 1), 1)]))
    assert ut.not_enough(empty).startswith("not applicable: no campaign run has closed outcomes")
    few = pd.DataFrame({"treated": [1] * 60 + [0] * 10, "outcome": [0, 1] * 35})
    assert "60 treated and 10 held-out rows" in ut.not_enough(few)
    with pytest.raises(DataError, match="not applicable"):
        ut.train_uplift(empty)


def known_effect_rows(users: int, seed: int) -> pd.DataFrame:
    """Randomised rows where the hand formula is misled: big spenders buy anyway, coupon lovers are put off, frequent buyers are persuadable."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((users, len(FEATURES))), columns=FEATURES)
    frame["user_id"] = [f"u{i}" for i in range(users)]
    frame["responsiveness"] = frame["coupon_usage_rate"]
    frame["propensity"] = 0.2
    treated = rng.random(users) < 0.5
    base = 0.05 + 0.6 * frame["monetary"].to_numpy()  # big spenders buy anyway: the response model ranks them first
    effect = np.where(frame["frequency"] > 0.6, 0.35, 0.0) - np.where(frame["coupon_usage_rate"] > 0.7, 0.15, 0.0)
    frame["treated"] = treated.astype(np.int8)
    frame["outcome"] = (rng.random(users) < np.clip(base + treated * effect, 0, 1)).astype(np.int8)
    frame["campaign_id"], frame["run_id"] = "c", "r"
    return frame


def test_learned_uplift_beats_the_hand_formula_and_the_response_model_on_held_out_users(tmp_path):
    fitted = ut.train_uplift(known_effect_rows(3000, 3))
    report = fitted.report
    assert report["promote"], report["reason"]
    hand, response = report["baselines"]["hand_formula"]["qini"], report["baselines"]["response_model"]["qini"]
    assert report["challenger"]["qini"] > response + report["margin"]
    assert report["challenger"]["qini"] > hand + 0.1
    assert hand < 0  # the hand formula sends coupons to the put-off coupon lovers first
    assert report["challenger"]["uplift_at_30"] > report["baselines"]["hand_formula"]["uplift_at_30"]
    assert 750 < report["test_rows"] < 1050  # about 30 % of the users, by user hash
    assert report["refit_rows"] == 3000 and len(fitted.learner.bags) == ut.TRAINING_BAGS  # refitted on every row
    # the train DAG's evaluate task prints this table (it raised KeyError 'rows' on the first real run)
    challenger, response_row, hand_row = comparison_rows("uplift", report)
    assert challenger == (f"| uplift | challenger | {report['challenger']['qini']:.4f} | "
                          f"{report['challenger']['uplift_at_10']:.4f} | {report['challenger']['uplift_at_30']:.4f} | "
                          f"{report['test_rows']:,} |")
    assert {response_row.split(" | ")[1], hand_row.split(" | ")[1]} == {"baseline: response_model",
                                                                        "baseline: hand_formula"}

    learner, pull = ut.load_fitted(ut.save_fitted(fitted, tmp_path / "v1"))
    sample = known_effect_rows(50, 4)[FEATURES]
    assert pull == 1.0  # the rows carry no offer pull
    np.testing.assert_allclose(learner.predict_effect(sample), fitted.learner.predict_effect(sample), rtol=1e-6)


def test_held_out_users_are_chosen_by_a_stable_hash():
    ids = pd.Series([f"user-{i}" for i in range(2000)])
    held = ut.test_rows(ids)
    assert 0.26 < held.mean() < 0.34
    assert (ut.test_rows(ids[::-1])[::-1] == held).all()
