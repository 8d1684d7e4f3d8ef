"""How well a score ranks customers by their treatment effect: Qini coefficient, uplift at k %, the promotion rule.

Inputs are a randomised sample: `outcome` (0/1, bought), `treated` (0/1, got the offer) and a
`score` (higher = target first). Nothing here needs the individual effect, which is never observed.

**Qini curve** (Radcliffe 2007, as computed by scikit-uplift's `qini_curve`): customers sorted by
score, highest first; after the first n (ties in the score kept together, so a constant score is
one step) the curve is the incremental buyers among them, `Y_t(n) − Y_c(n) · N_t(n) / N_c(n)`
(treated buyers minus control buyers scaled to the treated count; 0 control rows count as no
control buyers). It starts at (0, 0).

**Qini coefficient** — normalised as scikit-uplift's `qini_auc_score(negative_effect=True)`: the
area between the Qini curve and the random line (the straight line from (0, 0) to the curve's
end) divided by the same area for the perfect ranking (treated buyers first, control buyers
last). 1 is the perfect order, 0 is what a random order scores in expectation, below 0 is worse
than random. Areas are trapezoids over the customer count.

**Uplift at k %**: among the top `round(k × N)` customers by score (at least one; ties broken by
row order), the treated purchase rate minus the control purchase rate.

**Promotion** (`uplift_promotion`): a candidate uplift model is promoted only when its Qini on
held-out rows beats *both* the response model's and the hand formula's (and the champion's, when
there is one) by `margin`; each comparison is the registry's own rule
(`registry.promotion_decision`) and the report has the registry's shape (primary, challenger,
champion, baselines, margin, decision).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from journey.errors import DataError, InputError
from journey.models.hparams import PromotionParams
from journey.models.registry import promotion_decision

QINI = "qini"
UPLIFT_K = (0.10, 0.30)
CHALLENGER = "uplift"


def uplift_at_name(k: float) -> str:
    """Report key of uplift at k (0.1 → "uplift_at_10")."""
    return f"uplift_at_{round(k * 100)}"


def binary_array(values, what: str) -> np.ndarray:
    """A 1-D int array of 0/1 values, or InputError naming `what` and the first bad value."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{what} must be one-dimensional, got shape {array.shape}")
    if array.dtype == bool:
        return array.astype(np.int8)
    bad = ~np.isin(array, (0, 1))
    if bad.any():
        where = int(np.flatnonzero(bad)[0])
        raise InputError(f"{what} must be 0/1, got {array[where].item()!r} at row {where}")
    return array.astype(np.int8)


def check_arms(outcome, treated, score=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(outcome, treated, score) as arrays, checked: 0/1, same length, both arms present, finite score."""
    y, t = binary_array(outcome, "outcome"), binary_array(treated, "treatment")
    if len(y) != len(t):
        raise InputError(f"outcome has {len(y)} rows but treatment has {len(t)}")
    present = set(np.unique(t).tolist())
    if present != {0, 1}:
        missing = "treated (1)" if 1 not in present else "control (0)"
        raise InputError(f"treatment has no {missing} rows: both arms are needed to measure uplift")
    if score is None:
        return y, t, None
    s = np.asarray(score, dtype=float)
    if s.shape != y.shape:
        raise InputError(f"score has shape {s.shape} but outcome has {len(y)} rows")
    if not np.isfinite(s).all():
        where = int(np.flatnonzero(~np.isfinite(s))[0])
        raise InputError(f"score must be finite, got {s[where]} at row {where}")
    return y, t, s


def qini_curve(outcome, treated, score) -> tuple[np.ndarray, np.ndarray]:
    """(customers targeted, incremental buyers) at each distinct score threshold, from (0, 0)."""
    y, t, s = check_arms(outcome, treated, score)
    order = np.argsort(-s, kind="mergesort")
    y, t, s = y[order], t[order], s[order]
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    targeted = ends + 1
    n_treated = np.cumsum(t)[ends].astype(float)
    n_control = targeted - n_treated
    buyers_treated = np.cumsum(y * t)[ends]
    buyers_control = np.cumsum(y * (1 - t))[ends]
    scale = np.divide(n_treated, n_control, out=np.zeros_like(n_treated), where=n_control > 0)
    return np.r_[0, targeted], np.r_[0.0, buyers_treated - buyers_control * scale]


def _area_above_random(x: np.ndarray, gain: np.ndarray) -> float:
    """Trapezoid area of a Qini curve minus the random line's (from (0, 0) to its last point)."""
    return float(np.trapezoid(gain, x) - x[-1] * gain[-1] / 2.0)


def qini_coefficient(outcome, treated, score) -> float:
    """Qini coefficient, normalised by the perfect ranking (scikit-uplift `qini_auc_score`, negative_effect=True)."""
    y, t, s = check_arms(outcome, treated, score)
    perfect = _area_above_random(*qini_curve(y, t, y * t - y * (1 - t)))
    if perfect <= 0:
        raise DataError("the Qini coefficient is undefined: no ranking beats random on these rows "
                        f"({int((y * t).sum())} treated and {int((y * (1 - t)).sum())} control buyers)")
    return _area_above_random(*qini_curve(y, t, s)) / perfect


def uplift_at_k(outcome, treated, score, k: float) -> float:
    """Treated purchase rate − control purchase rate among the top round(k × N) customers by score."""
    if not 0 < k <= 1:
        raise InputError(f"k must be a share in (0, 1], got {k}")
    y, t, s = check_arms(outcome, treated, score)
    top = np.argsort(-s, kind="mergesort")[:max(1, round(k * len(s)))]
    y_top, t_top = y[top], t[top]
    for arm, name in ((1, "treated"), (0, "control")):
        if not (t_top == arm).any():
            raise DataError(f"uplift at {k:.0%}: the top {len(top)} customers have no {name} rows")
    return float(y_top[t_top == 1].mean() - y_top[t_top == 0].mean())


def qini_difference_interval(outcome, treated, score, other, resamples: int = 200, seed: int = 0,
                             level: float = 0.95) -> tuple[float, float, float]:
    """(Qini of score − Qini of other, low, high): the difference on these rows and its paired bootstrap interval.

    Rows are resampled with replacement `resamples` times (seeded); both scores are measured on
    the same resample, and the interval is the percentile interval of the differences.
    """
    y, t, s = check_arms(outcome, treated, score)
    o = check_arms(y, t, other)[2]
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(resamples):
        rows = rng.integers(0, len(y), len(y))
        differences.append(qini_coefficient(y[rows], t[rows], s[rows]) - qini_coefficient(y[rows], t[rows], o[rows]))
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return qini_coefficient(y, t, s) - qini_coefficient(y, t, o), float(low), float(high)


def uplift_metrics(outcome, treated, score, ks: tuple[float, ...] = UPLIFT_K) -> dict[str, float]:
    """{"qini": ..., "uplift_at_10": ..., "uplift_at_30": ...} of one score on the same rows."""
    metrics = {QINI: qini_coefficient(outcome, treated, score)}
    metrics.update({uplift_at_name(k): uplift_at_k(outcome, treated, score, k) for k in ks})
    return metrics


def uplift_promotion(outcome, treated, candidate, response, hand_formula, champion=None,
                     margin: float = PromotionParams().margin) -> dict:
    """The promotion report of a candidate uplift model's scores on held-out rows.

    `response`: the response model's scores (P(buy | treated)); `hand_formula`: the hand
    formula's uplift; `champion`: the current uplift champion's scores on the same rows, or None.
    Promoted only when the candidate's Qini ≥ each of theirs + margin. Returns the registry's
    report shape plus `promote` and `reason` (every comparison, in words).
    """
    scores: Mapping[str, object] = {"response_model": response, "hand_formula": hand_formula}
    baselines = {name: uplift_metrics(outcome, treated, s) for name, s in scores.items()}
    challenger = uplift_metrics(outcome, treated, candidate)
    held = uplift_metrics(outcome, treated, champion) if champion is not None else None
    against = {**baselines, **({"champion": held} if held else {})}
    decisions = [(name, promotion_decision(challenger[QINI], None, m[QINI], margin, QINI))
                 for name, m in against.items()]
    promote = all(d.promote for _, d in decisions)
    failed = [f"{name}: {d.reason}" for name, d in decisions if not d.promote]
    reason = (f"promoted: qini {challenger[QINI]:.4f} beats " + ", ".join(against) + f" by ≥ {margin}"
              if promote else "kept as challenger, does not beat " + "; ".join(failed))
    return {"primary": QINI, "challenger": challenger, "champion": held, "baselines": baselines,
            "margin": margin, "rows": len(np.asarray(outcome)), "promote": promote, "reason": reason,
            "comparisons": {name: d.reason for name, d in decisions}}
