"""Campaign outcome rows in the lake and the train step's uplift model on feeds without campaigns."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from journey import lake
from journey.campaigns.outcomes import outcomes_file, training_inputs, write_outcomes
from journey.campaigns.params import DEFAULT_COUPONS, parse_params
from journey.campaigns.request import CampaignRequest, output_path, save_request
from journey.config import get_settings
from journey.models.hparams import ModelConfig
from journey.models.pipeline import train_uplift_model, training_lines
from journey.models.uplift_training import SIGNALS, UPLIFT_FEATURES, uplift_rows

SNAPSHOT = date(2026, 10, 31)


def settings_in(tmp_path: Path):
    """Settings whose lake is under tmp_path."""
    return get_settings({"JOURNEY_HOME": str(tmp_path)})


def write_audience(settings, campaign_id: str, run_id: str, users: list[str]) -> None:
    """The run's request.json (its snapshot date) and audience output as the eligibility step leaves it (profile
    features and signals, no date column)."""
    params = parse_params({"campaign_id": campaign_id, "coupons": DEFAULT_COUPONS, "budget": 10.0})
    save_request(settings, CampaignRequest(params, run_id, SNAPSHOT, {}, {}))
    folder = Path(lake.local_path(output_path(settings, campaign_id, run_id, "audience")))
    folder.mkdir(parents=True)
    frame = pd.DataFrame({"user_id": users,
                          **{c: [float(i) for i in range(len(users))] for c in (*UPLIFT_FEATURES, *SIGNALS)}})
    frame.to_parquet(folder / "part-0.parquet", index=False)


def test_outcome_rows_come_back_with_the_runs_snapshot_and_profiles(tmp_path):
    settings = settings_in(tmp_path)
    write_audience(settings, "spring", "run-1", ["a", "b", "c"])
    rows = pd.DataFrame({"user_id": ["a", "a", "b"], "arm": ["treated", "treated", "holdout"],
                         "converted": [True, True, False], "orders": [1, 1, 0], "revenue": [30.0, 30.0, 0.0],
                         "coupon_cost": [3.0, 0.0, 0.0], "offer_name": ["pct10", "fixed5", None]})
    target = write_outcomes(settings, "spring", "run-1", rows, provisional=False)
    assert target == outcomes_file(settings, "spring", "run-1") and target.is_file()
    outcomes, profiles = training_inputs(settings)
    assert sorted(outcomes["user_id"]) == ["a", "b"]  # one row per user
    assert set(outcomes["snapshot_date"]) == {SNAPSHOT}
    joined = uplift_rows(outcomes, profiles).set_index("user_id")
    assert joined.loc["a", "treated"] == 1 and joined.loc["b", "frequency"] == 1.0
    write_outcomes(settings, "spring", "run-1", rows.iloc[:1], provisional=True)  # a later measurement replaces it
    assert training_inputs(settings)[0]["provisional"].tolist() == [True]


def test_without_campaign_outcomes_the_uplift_model_is_not_applicable(tmp_path):
    result = train_uplift_model(settings_in(tmp_path), tmp_path / "models" / "uplift" / "v1", ModelConfig(), None)
    assert result == {"skipped": "not applicable: no campaign run has closed outcomes yet "
                                 "(no treated vs held-out rows to learn from)"}
    assert training_lines({"uplift": result}) == [f"uplift: {result['skipped']}"]
    assert not (tmp_path / "models" / "uplift").exists()


def test_the_uplift_report_made_at_training_is_the_one_registered(tmp_path):
    from journey.models.pipeline import evaluate_all
    from journey.models.registry import decide

    report = {"primary": "qini", "challenger": {"qini": 0.12}, "champion": None, "margin": 0.005,
              "baselines": {"response_model": {"qini": 0.05}, "hand_formula": {"qini": 0.02}}}
    trained = {"uplift": {"version": 2, "artifact": str(tmp_path), "report": report}}
    reports = evaluate_all(settings_in(tmp_path), SNAPSHOT, trained, {}, ModelConfig())
    assert reports["uplift"]["challenger"] == {"qini": 0.12} and reports["uplift"]["window"] is None
    assert decide(reports["uplift"], 0.005).reason == ("promoted: qini 0.1200 vs best baseline 0.0500 + margin "
                                                       "0.0050 = 0.0550")
