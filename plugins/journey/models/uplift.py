"""Uplift learners: who buys *because of* the offer, learnt from a randomised treated vs held-out sample.

    learner = fit_uplift(features, treated, outcome, kind="x")   # or "t"
    effect = learner.predict_effect(features)                    # P(buy | treated, x) − P(buy | untreated, x)

Meta-learners on XGBoost (Künzel et al. 2019, "Metalearners for estimating heterogeneous
treatment effects"):

- **T-learner**: one classifier on the treated rows, one on the control rows; the effect is the
  difference of their purchase probabilities.
- **X-learner**: the T-learner's two classifiers impute each row's effect from the other arm
  (treated: y − μ0(x); control: μ1(x) − y); a regressor per arm learns those imputed effects and
  the two are blended by the treated share g: τ(x) = g·τ0(x) + (1 − g)·τ1(x). The sample is
  randomised (campaign holdouts are drawn at random), so g is the treated share, not a model.

The **response model** (`fit_response`) is the usual comparison: a classifier on the treated
rows only, ranking by P(buy | treated) — it finds buyers, not persuadable buyers.

**Bagging** (`UpliftParams.bags` > 1): the learner is also fitted on that many random BAG_SHARE
subsamples of its rows, drawn without replacement (seeds seed+1 …; a bootstrap's duplicated rows
would land on both sides of each model's early-stopping split and overfit); its effect is then their mean and `effect_spread` their standard
deviation, so a caller can act on a pessimistic effect (mean − k × spread) where one fit's noise
would pay coupons to the wrong users (docs/campaigns.md, two-campaign loop).

**Redemptions**: given each treated row's `redeemed` 0/1, a classifier on the treated rows learns
P(redeem | treated, x) (`redeem_probability`), which prices what a coupon will cost; without it
`redeem_probability` falls back to P(buy | treated), the upper bound (every treated buyer redeems).

Every XGBoost model uses `UpliftParams` (seeded, small trees, 2 threads) and early-stops on a
seeded validation share of its own rows. Features are a pandas frame of numeric columns; the
learner remembers their names and order and refuses a frame without them. `save_uplift` /
`load_uplift` keep a learner as XGBoost JSON files plus `uplift.json` in one folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from journey.errors import DataError, InputError, MissingInputError
from journey.models.uplift_metrics import binary_array, check_arms

LEARNERS = ("t", "x")
META_FILE = "uplift.json"
MODEL_FILES = ("treated.json", "control.json", "effect_treated.json", "effect_control.json")
REDEEM_FILE = "redeem.json"
BAG_FOLDER = "bag_{}"
BAG_SHARE = 0.8  # of the rows, drawn without replacement, per bag


@dataclass(frozen=True)
class UpliftParams:
    """XGBoost settings of every uplift model (outcome classifiers, effect regressors, response model)."""

    n_estimators: int = 300
    max_depth: int = 3
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 1.0
    min_child_weight: float = 20.0
    reg_lambda: float = 5.0
    early_stopping_rounds: int = 30  # 0: no early stopping, all n_estimators rounds
    validation_share: float = 0.2  # of each model's rows, for early stopping
    n_jobs: int = 2
    seed: int = 42
    bags: int = 1  # > 1: also fit on this many row subsamples; the effect is their mean


def feature_matrix(features: pd.DataFrame, columns: tuple[str, ...] | None = None) -> np.ndarray:
    """float32 matrix of a frame's numeric columns (in `columns`' order when given); InputError otherwise."""
    if not isinstance(features, pd.DataFrame):
        raise InputError(f"features must be a pandas DataFrame, got {type(features).__name__}")
    if features.empty:
        raise InputError("features has no rows or no columns")
    if columns is not None:
        missing = [c for c in columns if c not in features.columns]
        if missing:
            raise InputError(f"features lack the columns the learner was trained on: {', '.join(missing)}")
        features = features[list(columns)]
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if text:
        raise InputError(f"features must be numeric; not numeric: {', '.join(map(str, text))}")
    return features.to_numpy(dtype=np.float32)


def _split(rows: int, params: UpliftParams, salt: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) row positions: a seeded random validation share."""
    order = np.random.default_rng(params.seed + salt).permutation(rows)
    cut = max(1, round(rows * params.validation_share))
    return order[cut:], order[:cut]


def _xgb_kwargs(params: UpliftParams) -> dict:
    """The XGBoost constructor arguments shared by classifiers and regressors."""
    return dict(n_estimators=params.n_estimators, max_depth=params.max_depth, learning_rate=params.learning_rate,
                subsample=params.subsample, colsample_bytree=params.colsample_bytree,
                min_child_weight=params.min_child_weight, reg_lambda=params.reg_lambda, tree_method="hist",
                early_stopping_rounds=params.early_stopping_rounds or None, n_jobs=params.n_jobs,
                random_state=params.seed)


def fit_classifier(x: np.ndarray, y: np.ndarray, params: UpliftParams, what: str, salt: int = 0):
    """An XGBoost purchase classifier with early stopping on the log loss; DataError when y has one value."""
    import xgboost as xgb

    if len(np.unique(y)) < 2:
        raise DataError(f"{what}: the outcome is {int(y[0])} in all {len(y)} rows, nothing to learn")
    fit, validation = _split(len(y), params, salt)
    model = xgb.XGBClassifier(objective="binary:logistic", eval_metric="logloss", **_xgb_kwargs(params))
    model.fit(x[fit], y[fit], eval_set=[(x[validation], y[validation])], verbose=False)
    return model


def fit_regressor(x: np.ndarray, target: np.ndarray, params: UpliftParams, salt: int = 0):
    """An XGBoost squared-error regressor with early stopping (the X-learner's imputed effects)."""
    import xgboost as xgb

    fit, validation = _split(len(target), params, salt)
    model = xgb.XGBRegressor(objective="reg:squarederror", eval_metric="rmse", **_xgb_kwargs(params))
    model.fit(x[fit], target[fit], eval_set=[(x[validation], target[validation])], verbose=False)
    return model


def buy_probability(model, x: np.ndarray) -> np.ndarray:
    """P(buy) from a fitted classifier (its best early-stopping iteration)."""
    return model.predict_proba(x)[:, 1]


@dataclass
class UpliftLearner:
    """A fitted meta-learner: `predict_effect(features)` → P(buy | treated) − P(buy | untreated) per row."""

    kind: str
    columns: tuple[str, ...]
    treated_model: object
    control_model: object
    effect_models: tuple = ()  # X-learner: (τ1 on treated rows, τ0 on control rows)
    treated_share: float = 0.5
    params: UpliftParams = field(default_factory=UpliftParams)
    bags: tuple = ()  # learners fitted on row subsamples (UpliftParams.bags > 1)
    redeem_model: object = None  # P(redeem | treated) classifier, when the rows said who redeemed

    def single_effect(self, features: pd.DataFrame) -> np.ndarray:
        """This fit's own effect (not the bags'), one value per row."""
        x = feature_matrix(features, self.columns)
        if self.kind == "t":
            return buy_probability(self.treated_model, x) - buy_probability(self.control_model, x)
        tau_treated, tau_control = (m.predict(x) for m in self.effect_models)
        return self.treated_share * tau_control + (1.0 - self.treated_share) * tau_treated

    def bag_effects(self, features: pd.DataFrame) -> np.ndarray:
        """(bags, rows) effects of the bagged learners; this fit's own as one row without bags."""
        learners = self.bags or (self,)
        return np.vstack([learner.single_effect(features) for learner in learners])

    def predict_effect(self, features: pd.DataFrame) -> np.ndarray:
        """Individual effect of the treatment on the purchase probability, one value per row (bags: their mean)."""
        return self.bag_effects(features).mean(axis=0)

    def effect_spread(self, features: pd.DataFrame) -> np.ndarray:
        """Standard deviation of the bags' effects per row (0 without bags)."""
        return self.bag_effects(features).std(axis=0)

    def redeem_probability(self, features: pd.DataFrame) -> np.ndarray:
        """P(redeem | treated) per row; P(buy | treated) when no redemption classifier was fitted."""
        x = feature_matrix(features, self.columns)
        return buy_probability(self.redeem_model if self.redeem_model is not None else self.treated_model, x)


@dataclass
class ResponseModel:
    """A classifier on the treated rows only: `predict_response(features)` → P(buy | treated)."""

    columns: tuple[str, ...]
    model: object

    def predict_response(self, features: pd.DataFrame) -> np.ndarray:
        """P(buy | treated) per row."""
        return buy_probability(self.model, feature_matrix(features, self.columns))


def training_arrays(features: pd.DataFrame, treated, outcome) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, treated, outcome) checked: numeric frame, 0/1 arrays of its length, both arms present."""
    x = feature_matrix(features)
    t = binary_array(treated, "treatment")
    if len(t) != len(x):
        raise InputError(f"features have {len(x)} rows but treatment has {len(t)}")
    y, t, _ = check_arms(outcome, t)
    return x, t, y


def fit_uplift(features: pd.DataFrame, treated, outcome, kind: str = "x",
               params: UpliftParams | None = None, redeemed=None) -> UpliftLearner:
    """Fit a T- or X-learner on a randomised sample (features, treated 0/1, outcome 0/1); with `params.bags`
    > 1 also its bagged learners; with `redeemed` (0/1 per row, read on treated rows) the redemption classifier."""
    if kind not in LEARNERS:
        raise InputError(f"unknown uplift learner {kind!r}: expected one of {', '.join(LEARNERS)}")
    params = params or UpliftParams()
    learner = fit_single(features, treated, outcome, kind, params)
    if params.bags > 1:
        learner.bags = tuple(fit_bag(features, treated, outcome, kind, params, bag) for bag in range(1, params.bags + 1))
    if redeemed is not None:
        learner.redeem_model = fit_redeem(features, treated, redeemed, params)
    return learner


def fit_bag(features: pd.DataFrame, treated, outcome, kind: str, params: UpliftParams, bag: int) -> UpliftLearner:
    """One bagged learner: BAG_SHARE of the rows drawn without replacement (seed + bag), fitted with seed + bag."""
    rng = np.random.default_rng(params.seed + bag)
    rows = np.sort(rng.choice(len(features), round(BAG_SHARE * len(features)), replace=False))
    return fit_single(features.iloc[rows].reset_index(drop=True), np.asarray(treated)[rows],
                      np.asarray(outcome)[rows], kind, replace(params, bags=1, seed=params.seed + bag))


def fit_redeem(features: pd.DataFrame, treated, redeemed, params: UpliftParams):
    """P(redeem | treated) classifier on the treated rows; None when all or none of them redeemed
    (`redeem_probability` then falls back to P(buy | treated))."""
    t = binary_array(treated, "treatment")
    r = binary_array(redeemed, "redeemed")
    if len(r) != len(t):
        raise InputError(f"redeemed has {len(r)} values but treatment has {len(t)}")
    if len(np.unique(r[t == 1])) < 2:
        return None
    x = feature_matrix(features)
    return fit_classifier(x[t == 1], r[t == 1], params, "uplift, redemptions of treated rows", salt=5)


def fit_single(features: pd.DataFrame, treated, outcome, kind: str, params: UpliftParams) -> UpliftLearner:
    """One T- or X-learner fit on all the rows given."""
    x, t, y = training_arrays(features, treated, outcome)
    arms = t == 1, t == 0
    mu1 = fit_classifier(x[arms[0]], y[arms[0]], params, "uplift, treated rows", salt=1)
    mu0 = fit_classifier(x[arms[1]], y[arms[1]], params, "uplift, control rows", salt=2)
    learner = UpliftLearner(kind, tuple(map(str, features.columns)), mu1, mu0, params=params,
                            treated_share=float(t.mean()))
    if kind == "x":
        imputed_treated = y[arms[0]] - buy_probability(mu0, x[arms[0]])
        imputed_control = buy_probability(mu1, x[arms[1]]) - y[arms[1]]
        learner.effect_models = (fit_regressor(x[arms[0]], imputed_treated, params, salt=3),
                                 fit_regressor(x[arms[1]], imputed_control, params, salt=4))
    return learner


def fit_response(features: pd.DataFrame, treated, outcome, params: UpliftParams | None = None) -> ResponseModel:
    """The response model: a purchase classifier on the treated rows only."""
    x, t, y = training_arrays(features, treated, outcome)
    model = fit_classifier(x[t == 1], y[t == 1], params or UpliftParams(), "response model, treated rows", salt=1)
    return ResponseModel(tuple(map(str, features.columns)), model)


def save_uplift(learner: UpliftLearner, out_dir: Path) -> str:
    """Write a learner's XGBoost models (JSON) and its meta (kind, columns, treated share, settings); returns the folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    models = (learner.treated_model, learner.control_model, *learner.effect_models)
    for model, name in zip(models, MODEL_FILES, strict=False):
        model.save_model(out_dir / name)
    if learner.redeem_model is not None:
        learner.redeem_model.save_model(out_dir / REDEEM_FILE)
    for index, bag in enumerate(learner.bags, start=1):
        save_uplift(bag, out_dir / BAG_FOLDER.format(index))
    meta = {"kind": learner.kind, "columns": list(learner.columns), "treated_share": learner.treated_share,
            "params": asdict(learner.params), "bags": len(learner.bags), "redeem": learner.redeem_model is not None}
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2))
    return str(out_dir)


def load_uplift(artifact: str | Path) -> UpliftLearner:
    """A learner saved by `save_uplift`; MissingInputError naming the folder when it is not one."""
    import xgboost as xgb

    folder = Path(artifact)
    if not (folder / META_FILE).is_file():
        raise MissingInputError(f"no uplift model in {folder}: {META_FILE} is missing (train the uplift model first)")
    meta = json.loads((folder / META_FILE).read_text())
    kinds = (xgb.XGBClassifier, xgb.XGBClassifier, xgb.XGBRegressor, xgb.XGBRegressor)
    models = []
    for kind, name in zip(kinds, MODEL_FILES[:4 if meta["kind"] == "x" else 2], strict=False):
        model = kind()
        model.load_model(folder / name)
        models.append(model)
    redeem = None
    if meta.get("redeem"):
        redeem = xgb.XGBClassifier()
        redeem.load_model(folder / REDEEM_FILE)
    bags = tuple(load_uplift(folder / BAG_FOLDER.format(index)) for index in range(1, meta.get("bags", 0) + 1))
    return UpliftLearner(meta["kind"], tuple(meta["columns"]), models[0], models[1], tuple(models[2:]),
                         meta["treated_share"], UpliftParams(**meta["params"]), bags, redeem)
