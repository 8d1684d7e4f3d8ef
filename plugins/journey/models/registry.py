"""journey.model_registry: versions, champion / challenger / retired, the promotion rule and rollback.

A newly trained model is registered as a `challenger`. It becomes `champion` only when its
primary metric, measured on the test window, beats the current champion measured on the
same rows by `margin`; with no champion yet it must beat the best baseline by `margin`
instead (so a model that learned nothing, e.g. from shuffled labels, is never promoted).
The previous champion is then `retired`. Rollback retires the champion and brings back the
newest once-promoted version older than it. At most one champion per name (a unique index).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from journey.errors import JourneyError
from journey.models.hparams import PromotionParams

MODEL_NAMES = ("behaviour", "scene", "propensity", "responsiveness", "uplift")
PRIMARY_METRICS = {"behaviour": "roc_auc", "scene": "macro_f1", "propensity": "roc_auc", "responsiveness": "roc_auc",
                   "uplift": "qini"}
DEFAULT_MARGIN = PromotionParams().margin  # for reports registered before the margin was kept in them
LIST_COLUMNS = ("name", "version", "status", "primary_metric", "primary_value", "eval_window", "training_snapshot",
                "created_at", "promoted_at", "run_id", "artifact_path", "decision")


class RegistryError(JourneyError):
    """A registry change that cannot be made (unknown model, nothing to roll back to, …)."""


@dataclass(frozen=True)
class Decision:
    """Outcome of the promotion rule, with the reason in words."""

    promote: bool
    reason: str


def promotion_decision(challenger: float, champion: float | None, best_baseline: float, margin: float,
                       metric: str) -> Decision:
    """The promotion rule: beat the champion on the same rows by margin (no champion: the best baseline)."""
    reference, against = (champion, "champion") if champion is not None else (best_baseline, "best baseline")
    needed = reference + margin
    verdict = "promoted" if challenger >= needed else "kept as challenger"
    return Decision(challenger >= needed,
                    f"{verdict}: {metric} {challenger:.4f} vs {against} {reference:.4f} + margin {margin:.4f} "
                    f"= {needed:.4f}")


def _check_name(name: str) -> None:
    """RegistryError for a model name the registry does not know."""
    if name not in MODEL_NAMES:
        raise RegistryError(f"unknown model {name!r}: expected one of {', '.join(MODEL_NAMES)}")


def next_version(conn, name: str) -> int:
    """1 + the highest registered version of a model."""
    _check_name(name)
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(version), 0) + 1 FROM journey.model_registry WHERE name = %s", (name,))
        return int(cur.fetchone()[0])


def register(conn, name: str, version: int, run_id: str, training_snapshot: date, artifact_path: str,
             report: dict) -> None:
    """Insert a challenger with its evaluation report (a rerun of the same version replaces it)."""
    _check_name(name)
    primary = PRIMARY_METRICS[name]
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO journey.model_registry (name, version, run_id, training_snapshot, eval_window, "
            "primary_metric, primary_value, metrics, artifact_path) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (name, version) DO UPDATE SET run_id = EXCLUDED.run_id, metrics = EXCLUDED.metrics, "
            "primary_value = EXCLUDED.primary_value, eval_window = EXCLUDED.eval_window, "
            "artifact_path = EXCLUDED.artifact_path, training_snapshot = EXCLUDED.training_snapshot",
            (name, version, run_id, training_snapshot, report.get("window"), primary,
             report["challenger"][primary], json.dumps(report), artifact_path))
    conn.commit()


def champion(conn, name: str) -> dict | None:
    """The champion of a model as {version, artifact_path, primary_value}, or None."""
    _check_name(name)
    with conn.cursor() as cur:
        cur.execute("SELECT version, artifact_path, primary_value FROM journey.model_registry "
                    "WHERE name = %s AND status = 'champion'", (name,))
        row = cur.fetchone()
    return None if row is None else {"version": row[0], "artifact_path": row[1], "primary_value": row[2]}


def _entry(cur, name: str, version: int) -> tuple[str, dict]:
    """(status, metrics) of one registered version; RegistryError when absent."""
    cur.execute("SELECT status, metrics FROM journey.model_registry WHERE name = %s AND version = %s", (name, version))
    row = cur.fetchone()
    if row is None:
        raise RegistryError(f"{name} v{version} is not in journey.model_registry (see `journey models list`)")
    return row[0], row[1]


def _make_champion(cur, name: str, version: int, reason: str) -> None:
    """Retire the current champion and crown `version`, recording why."""
    cur.execute("UPDATE journey.model_registry SET status = 'retired', retired_at = now() "
                "WHERE name = %s AND status = 'champion'", (name,))
    cur.execute("UPDATE journey.model_registry SET status = 'champion', promoted_at = now(), retired_at = NULL, "
                "decision = %s WHERE name = %s AND version = %s", (reason, name, version))


def decide(report: dict, margin: float) -> Decision:
    """The promotion rule applied to an evaluation report (challenger, champion on the same rows, baselines)."""
    primary = report["primary"]
    champion_value = report["champion"][primary] if report.get("champion") else None
    best = max(m[primary] for m in report["baselines"].values())
    return promotion_decision(report["challenger"][primary], champion_value, best, margin, primary)


def promote(conn, name: str, version: int, margin: float | None = None, force: bool = False) -> Decision:
    """Apply the promotion rule to a registered challenger (force: promote whatever the rule says).

    margin None: the margin the challenger was evaluated with (kept in its report), else the default.
    """
    _check_name(name)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('journey.model_registry.' || %s))", (name,))
            status, report = _entry(cur, name, version)
            if status == "champion":
                raise RegistryError(f"{name} v{version} is already the champion")
            decision = decide(report, report.get("margin", DEFAULT_MARGIN) if margin is None else margin)
            if force and not decision.promote:
                decision = Decision(True, f"promoted by hand (--force); the rule said: {decision.reason}")
            if decision.promote:
                _make_champion(cur, name, version, decision.reason)
            else:
                cur.execute("UPDATE journey.model_registry SET decision = %s WHERE name = %s AND version = %s",
                            (decision.reason, name, version))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return decision


def rollback(conn, name: str) -> tuple[int, int]:
    """Retire the champion and restore the newest once-promoted version older than it; returns (from, to)."""
    _check_name(name)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('journey.model_registry.' || %s))", (name,))
            current = champion(conn, name)
            if current is None:
                raise RegistryError(f"{name} has no champion to roll back")
            cur.execute("SELECT version FROM journey.model_registry WHERE name = %s AND status = 'retired' "
                        "AND promoted_at IS NOT NULL AND version < %s ORDER BY version DESC LIMIT 1",
                        (name, current["version"]))
            previous = cur.fetchone()
            if previous is None:
                raise RegistryError(f"no version of {name} older than v{current['version']} was ever champion: "
                                    "nothing to roll back to")
            _make_champion(cur, name, previous[0], f"rollback from v{current['version']}")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return current["version"], previous[0]


def list_models(conn, name: str | None = None) -> list[dict]:
    """Registered versions (newest first), optionally of one model."""
    if name is not None:
        _check_name(name)
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(LIST_COLUMNS)} FROM journey.model_registry "
                    "WHERE %(name)s IS NULL OR name = %(name)s ORDER BY name, version DESC", {"name": name})
        return [dict(zip(LIST_COLUMNS, row, strict=True)) for row in cur.fetchall()]
