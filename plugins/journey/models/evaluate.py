"""Metrics on the test window, always with the baselines on the same rows.

Binary models (behaviour, propensity, responsiveness): ROC-AUC, PR-AUC, log loss and the
expected calibration error (10 equal-width bins). Rules give scores, not probabilities, so
only their ranking metrics are reported (log loss and calibration are null). Scenes:
macro-F1, accuracy and the confusion matrix (rows = true scene, columns = predicted).
"""

from __future__ import annotations

import numpy as np

from journey.errors import DataError

CALIBRATION_BINS = 10
BINARY_PRIMARY = "roc_auc"
COMPARED = {BINARY_PRIMARY: ("roc_auc", "pr_auc", "log_loss", "calibration_error"),  # by primary metric; else scene
            "qini": ("qini", "uplift_at_10", "uplift_at_30")}  # the uplift model (rows: the report's, one for all)
SCENE_PRIMARY = "macro_f1"


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error: row-weighted |mean prediction − positive rate| over equal-width bins."""
    edges = np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(edges):
        inside = edges == b
        total += inside.sum() * abs(p[inside].mean() - y[inside].mean())
    return float(total / len(y))


def binary_metrics(y: np.ndarray, score: np.ndarray, probabilities: bool = True) -> dict[str, float | int | None]:
    """ROC-AUC, PR-AUC (+ log loss and calibration error for probabilities) of scores against 0/1 labels."""
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    y = np.asarray(y, dtype=np.int32)
    if len(np.unique(y)) < 2:
        raise DataError(f"the test rows hold only label {np.unique(y).tolist()}: ROC-AUC needs both classes")
    score = np.asarray(score, dtype=np.float64)
    clipped = np.clip(score, 1e-7, 1 - 1e-7)
    return {
        "roc_auc": round(float(roc_auc_score(y, score)), 4),
        "pr_auc": round(float(average_precision_score(y, score)), 4),
        "log_loss": round(float(log_loss(y, clipped, labels=[0, 1])), 4) if probabilities else None,
        "calibration_error": round(calibration_error(y, clipped), 4) if probabilities else None,
        "rows": int(len(y)),
        "positive_rate": round(float(y.mean()), 4),
    }


def scene_metrics(y: np.ndarray, predicted: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Macro-F1 over the classes present in truth or prediction, accuracy and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, f1_score

    return {
        "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4),
        "accuracy": round(float(np.mean(y == predicted)), 4),
        "confusion": {"classes": list(classes),
                      "matrix": confusion_matrix(y, predicted, labels=list(range(len(classes)))).tolist()},
        "rows": int(len(y)),
    }


def recent_cart_rule(days_since_last_cart: np.ndarray, lookback_days: int) -> np.ndarray:
    """Behaviour baseline: 1 / (1 + days since the last add-to-cart); 0 with no cart in the look-back."""
    days = np.asarray(days_since_last_cart, dtype=np.float64)
    return np.where(days > lookback_days, 0.0, 1.0 / (1.0 + days))


def recency_frequency_rule(recency_days: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """Propensity baseline: orders / (1 + days since the last order); 0 for users who never bought."""
    recency = np.nan_to_num(np.asarray(recency_days, dtype=np.float64), nan=np.inf)
    return np.nan_to_num(np.asarray(frequency, dtype=np.float64), nan=0.0) / (1.0 + recency)


def majority_class(train_labels: np.ndarray, rows: int) -> np.ndarray:
    """Scene baseline: the most frequent training class for every row."""
    return np.full(rows, np.bincount(train_labels).argmax(), dtype=np.int32)


def best_baseline(report: dict, primary: str) -> tuple[str, float]:
    """Name and primary value of the best baseline of a report."""
    name = max(report["baselines"], key=lambda n: report["baselines"][n][primary])
    return name, report["baselines"][name][primary]


def comparison_rows(name: str, report: dict) -> list[str]:
    """Markdown table rows: the model, its champion if any, then the baselines, on the same test rows."""
    primary = report["primary"]
    entries = [("challenger", report["challenger"])]
    if report.get("champion"):
        entries.append((f"champion v{report['champion_version']}", report["champion"]))
    entries += [(f"baseline: {b}", m) for b, m in report["baselines"].items()]
    keys = COMPARED.get(primary, ("macro_f1", "accuracy"))
    return [f"| {name} | {who} | " + " | ".join("–" if m.get(k) is None else f"{m[k]:.4f}" for k in keys)
            + f" | {m.get('rows', report.get('rows', 0)):,} |" for who, m in entries]
