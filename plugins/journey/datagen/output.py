"""From simulated arrays to the files: canonical event rows, per-day Parquet, ground truth."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from journey.datagen.catalog import Catalog, Population
from journey.datagen.draw import ids
from journey.datagen.events import PURCHASE, Events
from journey.datagen.sessions import DAY_MS, Sessions
from journey.datagen.world import FUNNEL, PERSONAS, SHOP_CHANNELS, SUB_CATEGORIES
from journey.schemas import EVENT_COLUMNS, SCENES

FILE_DAY = "_file_day"  # helper column: the day file a row goes to (kept when a row is damaged)
EVENT_SCHEMA = pa.schema([
    (c, pa.float64() if c == "price" else pa.int64() if c == "quantity" else pa.string()) for c in EVENT_COLUMNS
])


def iso_utc(moments: np.ndarray) -> np.ndarray:
    """ISO-8601 UTC text with milliseconds ('2026-10-01T12:34:56.123Z') as an object array."""
    return np.datetime_as_string(moments.astype("datetime64[ms]"), unit="ms", timezone="UTC").astype(object)


def _lookup(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index] as an object array, None where index is -1."""
    return np.append(np.asarray(values, dtype=object), None)[index]


def session_numbers(events: Events, sessions: Sessions, days: int) -> np.ndarray:
    """Chronological number of each in-window session (by first event, then user); -1 for later ones."""
    first_time = events.time_ms[np.searchsorted(events.session, np.arange(len(sessions.user)))]
    inside = np.flatnonzero(sessions.day < days)
    order = inside[np.lexsort((sessions.user[inside], first_time[inside]))]
    number = np.full(len(sessions.user), -1, dtype=np.int64)
    number[order] = np.arange(len(order))
    return number


def canonical_events(events: Events, sessions: Sessions, people: Population, catalog: Catalog,
                     start: date, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """In-window events as canonical rows sorted by time (plus FILE_DAY), and the session scenes."""
    number = session_numbers(events, sessions, days)
    keep = np.flatnonzero(number[events.session] >= 0)
    keep = keep[np.lexsort((number[events.session[keep]], events.time_ms[keep]))]
    session, product, time_ms = events.session[keep], events.product[keep], events.time_ms[keep]
    session_id = ids("s", np.arange((number >= 0).sum()), 8)
    first = np.datetime64(start.isoformat(), "ms")
    frame = pd.DataFrame({
        "event_id": ids("e", np.arange(len(keep)), 9),
        "event_time": iso_utc(first + time_ms.astype("timedelta64[ms]")),
        "user_id": people.user_id[sessions.user[session]],
        "session_id": session_id[number[session]],
        "event_type": np.array(FUNNEL, dtype=object)[events.kind[keep]],
        "product_id": _lookup(catalog.product_id, product),
        "category": _lookup(np.array(SUB_CATEGORIES), events.sub[keep]),
        "brand": _lookup(catalog.brand, product),
        "price": events.price[keep],
        "quantity": events.quantity[keep],
        "channel": np.array(SHOP_CHANNELS, dtype=object)[sessions.channel[session]],
        FILE_DAY: time_ms // DAY_MS,
    })
    inside = np.flatnonzero(number >= 0)[np.argsort(number[number >= 0])]
    scenes = pd.DataFrame({"session_id": session_id, "user_id": people.user_id[sessions.user[inside]],
                           "scene": np.array(SCENES, dtype=object)[sessions.scene[inside]]})
    return frame, scenes


def future_purchases(events: Events, sessions: Sessions, people: Population, days: int) -> pd.DataFrame:
    """Orders (sessions with a purchase) and revenue of each user in the days after the window."""
    later = (events.kind == PURCHASE) & (sessions.day[events.session] >= days)
    users = len(people.user_id)
    revenue = np.bincount(sessions.user[events.session[later]], minlength=users,
                          weights=events.price[later] * events.quantity[later])
    orders = np.bincount(sessions.user[np.unique(events.session[later])], minlength=users)
    return pd.DataFrame({"user_id": people.user_id, "purchases_next_14d": orders.astype(np.int64),
                         "revenue_next_14d": np.round(revenue, 2)})


def personas(people: Population) -> pd.DataFrame:
    """Ground truth: each user's latent persona."""
    return pd.DataFrame({"user_id": people.user_id,
                         "persona": np.array([p.name for p in PERSONAS], dtype=object)[people.persona]})


def write_events(frame: pd.DataFrame, folder: Path, start: date, days: int) -> int:
    """One Parquet file per window day (events/events-YYYY-MM-DD.parquet); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("events-*.parquet"):
        old.unlink()
    order = np.argsort(frame[FILE_DAY].to_numpy(), kind="stable")
    if "coupon_code" not in frame:  # optional column: null where the generator gives no code
        frame = frame.assign(coupon_code=None)
    table = pa.Table.from_pandas(frame.iloc[order][list(EVENT_COLUMNS)], schema=EVENT_SCHEMA, preserve_index=False)
    bounds = np.searchsorted(frame[FILE_DAY].to_numpy()[order], np.arange(days + 1))
    for day in range(days):
        name = f"events-{(start + timedelta(days=day)).isoformat()}.parquet"
        pq.write_table(table.slice(bounds[day], bounds[day + 1] - bounds[day]), folder / name)
    return days


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """A ground-truth table as Parquet (folder created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
