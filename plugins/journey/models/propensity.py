"""XGBoost models on tabular features: purchase propensity, coupon responsiveness, the behaviour baseline.

`hist` trees, `device=cuda` when the device plan has a GPU. Explanations are per-row
feature contributions from XGBoost itself (`pred_contribs=True`, TreeSHAP): the three
features with the largest absolute contribution to the log-odds, with sign.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journey.errors import DataError
from journey.models.datasets import open_set
from journey.models.hparams import XGBParams

MODEL_FILE = "model.json"
META_FILE = "meta.json"
TOP_FEATURES = 3


def feature_table(path: str, split: str, features: tuple[str, ...], label: str) -> tuple[np.ndarray, np.ndarray]:
    """(X float32 with NaN for missing, y) of one split, reading only those columns."""
    table = open_set(path).to_table(columns=[*features, label], filter=pc.field("split") == split)
    if table.num_rows == 0:
        raise DataError(f"split {split!r} of {path} has no rows")
    return feature_matrix(table, features), table.column(label).to_numpy().astype(np.int32)


def feature_matrix(table: pa.Table, features: tuple[str, ...]) -> np.ndarray:
    """Feature columns of an Arrow table as a float32 matrix (nulls as NaN)."""
    columns = [table.column(name).to_numpy(zero_copy_only=False).astype(np.float64) for name in features]
    return np.stack(columns, axis=1).astype(np.float32)


def fit_xgb(train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray], params: XGBParams,
            device: str = "cpu"):
    """A binary XGBClassifier with early stopping on the validation log loss."""
    import xgboost as xgb

    for name, (_, y) in (("train", train), ("validation", validation)):
        if len(np.unique(y)) < 2:
            raise DataError(f"the {name} rows need both label values to fit XGBoost, got only {np.unique(y).tolist()}")
    positives = max(int(train[1].sum()), 1)
    model = xgb.XGBClassifier(
        n_estimators=params.n_estimators, max_depth=params.max_depth, learning_rate=params.learning_rate,
        subsample=params.subsample, colsample_bytree=params.colsample_bytree, min_child_weight=params.min_child_weight,
        tree_method=params.tree_method, device=device, random_state=params.seed, eval_metric="logloss",
        early_stopping_rounds=params.early_stopping_rounds,
        scale_pos_weight=(len(train[1]) - positives) / positives if params.balance else 1.0,
    )
    model.fit(train[0], train[1], eval_set=[validation], verbose=False)
    return model


def save_xgb(model, out_dir: Path, meta: dict) -> str:
    """Write the booster (JSON) and its meta (features, label) to a folder; returns the folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.get_booster().save_model(out_dir / MODEL_FILE)
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2, default=float))
    return str(out_dir)


def load_xgb(artifact: str):
    """A saved booster (on CPU) and its meta."""
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(Path(artifact) / MODEL_FILE)
    booster.set_param({"device": "cpu"})
    return booster, json.loads((Path(artifact) / META_FILE).read_text())


def predict_booster(booster, features: np.ndarray) -> np.ndarray:
    """Probabilities of a binary booster (best iteration when early stopping kept one)."""
    import xgboost as xgb

    return booster.predict(xgb.DMatrix(features), iteration_range=_best_range(booster))


def _best_range(booster) -> tuple[int, int]:
    """Trees up to the best iteration (all when none was recorded)."""
    best = booster.attributes().get("best_iteration")
    return (0, int(best) + 1) if best is not None else (0, 0)


def top_contributions(booster, features: np.ndarray, names: tuple[str, ...], k: int = TOP_FEATURES) -> list[list[dict]]:
    """Per row, the k features with the largest |contribution| to the log-odds: [{feature, contribution}]."""
    import xgboost as xgb

    contributions = booster.predict(xgb.DMatrix(features), pred_contribs=True, iteration_range=_best_range(booster))
    per_feature = contributions[:, :-1]  # last column: the bias
    order = np.argsort(-np.abs(per_feature), axis=1, kind="stable")[:, :k]
    return [[{"feature": names[j], "contribution": round(float(row[j]), 4)} for j in top]
            for row, top in zip(per_feature, order, strict=True)]
