"""Real-feed defects on a share of the event rows, each damaged row logged with its defect."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from journey.datagen.output import iso_utc
from journey.datagen.world import BAD_EVENT_TYPES, BAD_TIMESTAMPS, DEFECTS, FUTURE_SHIFT_DAYS


def _cycle(values: tuple[str, ...], count: int) -> np.ndarray:
    """`count` values repeating the given ones in turn."""
    return np.array(values, dtype=object)[np.arange(count) % len(values)]


def _a_year_later(times: pd.Series) -> np.ndarray:
    """The same ISO timestamps FUTURE_SHIFT_DAYS later."""
    moments = np.array(times.str.removesuffix("Z").tolist(), dtype="datetime64[ms]")
    return iso_utc(moments + np.timedelta64(FUTURE_SHIFT_DAYS, "D"))


# defect → (column, new values from the current ones); "duplicate" appends copies instead
DAMAGE: dict[str, tuple[str, Callable[[pd.Series], np.ndarray]]] = {
    "null_user_id": ("user_id", lambda s: np.full(len(s), None, dtype=object)),
    "null_event_time": ("event_time", lambda s: np.full(len(s), None, dtype=object)),
    "unparsable_timestamp": ("event_time", lambda s: _cycle(BAD_TIMESTAMPS, len(s))),
    "future_timestamp": ("event_time", _a_year_later),
    "negative_price": ("price", lambda s: -s.to_numpy()),
    "unknown_event_type": ("event_type", lambda s: _cycle(BAD_EVENT_TYPES, len(s))),
}


def plan_defects(rng: np.random.Generator, frame: pd.DataFrame, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows to damage (round(fraction × rows)) and an evenly mixed defect for each.

    Negative prices go to rows that have a price.
    """
    total = int(round(fraction * len(frame)))
    quota = np.full(len(DEFECTS), total // len(DEFECTS)) + (np.arange(len(DEFECTS)) < total % len(DEFECTS))
    negative = DEFECTS.index("negative_price")
    priced = np.flatnonzero(frame["price"].notna().to_numpy())
    quota[negative] = min(quota[negative], len(priced))
    chosen_negative = rng.choice(priced, size=quota[negative], replace=False)
    others = np.setdiff1d(np.arange(len(frame)), chosen_negative)
    rest = rng.choice(others, size=quota.sum() - quota[negative], replace=False)
    defect = np.repeat(np.array(DEFECTS, dtype=object), quota)
    rows = np.concatenate([rest[: quota[:negative].sum()], chosen_negative, rest[quota[:negative].sum():]])
    return rows, defect


def make_dirty(rng: np.random.Generator, frame: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Damaged copy of the rows (duplicates appended at the end) and the log: event_id, defect."""
    rows, defect = plan_defects(rng, frame, fraction)
    dirty = frame.copy()
    for name, (column, damage) in DAMAGE.items():
        picked = rows[defect == name]
        position = dirty.columns.get_loc(column)
        dirty.iloc[picked, position] = damage(frame[column].iloc[picked])
    copies = frame.iloc[np.sort(rows[defect == "duplicate"])]
    log = pd.DataFrame({"event_id": frame["event_id"].to_numpy()[rows], "defect": defect})
    return pd.concat([dirty, copies], ignore_index=True), log.sort_values("event_id", ignore_index=True)
