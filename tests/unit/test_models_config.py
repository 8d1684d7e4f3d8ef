"""One source for the model defaults: the train DAG's Params and the train job read them from hparams."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from journey.errors import InputError
from journey.models.hparams import DataParams, ModelConfig, PromotionParams, TrainParams, model_config

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "journey_train_models.py"
JOB_FILE = Path(__file__).resolve().parents[2] / "jobs" / "train_models.py"

# Written by hand: the documented defaults (docs/models.md), the same in hparams and in the DAG.
EXPECTED_DEFAULTS = {"horizon_days": 5, "lookback_days": 28, "cutoff_step_days": 2, "min_history_days": 3,
                     "cutoffs": 6, "epochs": 12, "margin": 0.005, "scenes": ""}
EXPECTED_BOUNDS = {"horizon_days": ("integer", 1, 365), "lookback_days": ("integer", 1, 3650),
                   "cutoff_step_days": ("integer", 1, 365), "min_history_days": ("integer", 0, 3650),
                   "cutoffs": ("integer", 1, 52), "epochs": ("integer", 1, 200), "margin": ("number", 0, 1)}


def _load(path: Path):
    """Import a DAG or job file as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dag_params() -> dict:
    """The train DAG's Params, as built when the DAG file is parsed."""
    return _load(DAG_FILE).run_params()


def test_hparams_defaults_are_the_documented_ones():
    assert (DataParams().horizon_days, DataParams().lookback_days) == (5, 28)
    assert TrainParams().epochs == 12
    assert PromotionParams().margin == 0.005


def test_train_dag_param_defaults_and_bounds(dag_params):
    assert {name: param.value for name, param in dag_params.items()} == EXPECTED_DEFAULTS
    schemas = {name: param.schema for name, param in dag_params.items() if name != "scenes"}
    assert {name: (s["type"], s["minimum"], s["maximum"]) for name, s in schemas.items()} == EXPECTED_BOUNDS
    assert dag_params["epochs"].schema["title"] == "Keras epochs (early stopping)"
    assert dag_params["scenes"].schema["type"] == "string"


def test_model_config_applies_the_given_params():
    config = model_config({"horizon_days": 9, "lookback_days": 40, "epochs": 3, "margin": 0.02, "scenes": "x.parquet"})

    assert (config.data.horizon_days, config.data.lookback_days) == (9, 40)
    assert config.train.epochs == 3
    assert config.promotion.margin == 0.02
    assert config.data.behaviour_events == 30  # fields that are no run parameter keep their defaults
    assert config.train.batch_size == 256


def test_model_config_keeps_defaults_for_missing_or_none():
    config = model_config({"epochs": 7, "margin": None, "snapshot_date": "2026-10-31"})

    assert config.train.epochs == 7
    assert config.promotion.margin == 0.005
    assert config.data.horizon_days == 5
    assert model_config({}) == ModelConfig()


@pytest.mark.parametrize("params", [{"epochs": 0}, {"margin": -0.1}, {"horizon_days": 366}, {"lookback_days": 3651},
                                    {"cutoffs": 0}, {"cutoff_step_days": 0}, {"min_history_days": -1}])
def test_model_config_rejects_values_outside_the_bounds(params):
    with pytest.raises(InputError, match=next(iter(params))):
        model_config(params)


def test_train_job_defaults_come_from_hparams():
    args = _load(JOB_FILE).parse_args(["--snapshot-date", "2026-10-31", "--run-id", "r1"])

    assert (args.epochs, args.margin) == (12, 0.005)


def test_training_data_job_takes_the_data_params_and_checks_their_bounds():
    job = _load(Path(__file__).resolve().parents[2] / "jobs" / "build_training_data.py")
    args = job.parse_args(["--snapshot-date", "1997-09-30", "--run-id", "r1", "--horizon-days", "273",
                           "--cutoffs", "4", "--min-history-days", "30"])

    params = job.data_params(args)

    assert (params.horizon_days, params.cutoffs, params.min_history_days, params.cutoff_step_days) == (273, 4, 30, 2)
    with pytest.raises(InputError, match="horizon_days must be between 1 and 365"):
        job.data_params(job.parse_args(["--snapshot-date", "1997-09-30", "--run-id", "r1", "--horizon-days", "400"]))
