"""Deterministic holdout: a user is held out when hash(campaign_id:user_id) falls below the fraction.

The hash is SHA-256 of the UTF-8 text f"{campaign_id}:{user_id}"; its first 15 hex digits (60
bits) read as an integer and divided by 16**15 give a uniform number in [0, 1). The same
campaign always holds out the same users (reruns, other machines, Spark or Python), different
campaigns hold out independent sets, and a user's draw does not depend on who else is
eligible. `holdout_draw` (Python) and `holdout_draw_column` (Spark built-ins sha2 and conv, no
UDF) compute the same value.
"""

from __future__ import annotations

import hashlib

import numpy as np

HEX_DIGITS = 15
SCALE = float(16**HEX_DIGITS)


def holdout_draw(campaign_id: str, user_id: str) -> float:
    """The user's uniform draw in [0, 1) for this campaign."""
    digest = hashlib.sha256(f"{campaign_id}:{user_id}".encode()).hexdigest()
    return int(digest[:HEX_DIGITS], 16) / SCALE


def holdout_draws(campaign_id: str, user_ids) -> np.ndarray:
    """Draws for many users (numpy array, same order)."""
    return np.fromiter((holdout_draw(campaign_id, u) for u in user_ids), dtype=np.float64, count=len(user_ids))


def in_holdout(campaign_id: str, user_id: str, fraction: float) -> bool:
    """True when the user is in the campaign's control group."""
    return holdout_draw(campaign_id, user_id) < fraction


def holdout_draw_column(campaign_id: str, user_column: str = "user_id"):
    """Spark column with the same draw as `holdout_draw` (built-in functions only)."""
    from pyspark.sql import functions as F

    text = F.concat(F.lit(f"{campaign_id}:"), F.col(user_column))
    prefix = F.substring(F.sha2(text, 256), 1, HEX_DIGITS)
    return F.conv(prefix, 16, 10).cast("long").cast("double") / F.lit(SCALE)
