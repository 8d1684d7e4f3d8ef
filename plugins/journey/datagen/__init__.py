"""Realistic synthetic shop data: users, products, click-stream events and their ground truth.

Users belong to latent personas (category taste, price level, visit rate, buy and coupon
propensity, preferred hour, churn; see `world.PERSONAS`) and every session to a latent
shopping scene (browse, targeted, compare, promo_hunt, replenish, gift) that shapes its
events: (search) → views → add_to_cart (→ remove_from_cart) → (coupon_redeem) → purchase.
Everything is drawn from one seeded numpy Generator with array operations (no per-event
Python loop), so the same arguments give byte-identical files.

Layout under the output folder:
    users.csv, products.csv
    events/events-YYYY-MM-DD.parquet   one per window day; canonical columns, text except
                                       price (double) and quantity (long)
    ground_truth/personas.parquet      user_id, persona
    ground_truth/scenes.parquet        session_id, user_id, scene
    ground_truth/future_purchases.parquet  user_id, purchases_next_14d (orders), revenue_next_14d
    ground_truth/dirty_rows.parquet    event_id, defect (only with dirty > 0)
    ground_truth/world.json            users, days, seed, end_date: what regenerates the world
                                       (`journey generate --respond-to` continues it, respond.py)

The 14 days after the window are simulated by the same process as the window itself; only
their purchases are kept, as the future_purchases ground truth.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from journey.datagen.catalog import make_catalog, make_population, product_count
from journey.datagen.dirty import make_dirty
from journey.datagen.events import make_events
from journey.datagen.intent import add_cart_returns
from journey.datagen.output import canonical_events, future_purchases, personas, write_events, write_frame
from journey.datagen.sessions import make_sessions
from journey.datagen.world import DEFECTS, PERSONAS
from journey.errors import InputError

__all__ = ["DEFECTS", "PERSONAS", "WORLD_FILE", "GenerationSummary", "generate"]

WORLD_FILE = "world.json"  # under ground_truth/: the arguments that regenerate the world


@dataclass(frozen=True)
class GenerationSummary:
    """What was written, for the CLI's closing summary."""

    out_dir: Path
    users: int
    products: int
    sessions: int
    events: int  # rows written, duplicates included
    dirty_rows: int
    start_date: date
    end_date: date
    seconds: float


def _whole(name: str, value: object, minimum: int) -> None:
    """Reject a value that is not a whole number of at least `minimum`, naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be at least {minimum}, got {value}")


def check_arguments(users: int, days: int, seed: int, dirty: float, end_date: date) -> None:
    """Raise ValueError naming the first argument generate() cannot use."""
    _whole("users", users, 1)
    _whole("days", days, 1)
    _whole("seed", seed, 0)
    if isinstance(dirty, bool) or not isinstance(dirty, int | float) or not 0.0 <= dirty <= 0.5:
        raise InputError(f"dirty must be a fraction between 0 and 0.5, got {dirty!r}")
    if not isinstance(end_date, date):
        raise InputError(f"end_date must be a date, got {end_date!r}")


def generate(out_dir, users: int, days: int, seed: int, dirty: float = 0.0, end_date: date = date(2026, 10, 31),
             progress: Callable[[str], None] | None = None, sequential_intent: bool = False) -> GenerationSummary:
    """Simulate `users` shoppers over the `days` ending on `end_date` and write the data set.

    sequential_intent: abandoned carts come back days later (datagen/intent.py); off, the files are
    byte-identical to earlier versions'.
    """
    check_arguments(users, days, seed, dirty, end_date)
    started, say = time.perf_counter(), progress or (lambda _message: None)
    out, rng = Path(out_dir), np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    start = end_date - timedelta(days=days - 1)
    catalog = make_catalog(rng, product_count(users))
    people = make_population(rng, users, catalog, start, days)
    say(f"users: {users:,}, products: {len(catalog.table):,}")
    sessions = make_sessions(rng, people, start, days)
    events = make_events(rng, sessions, people, catalog)
    if sequential_intent:
        sessions, events = add_cart_returns(rng, sessions, events, people, catalog, days)
    frame, scenes = canonical_events(events, sessions, people, catalog, start, days)
    say(f"sessions: {len(scenes):,}")
    truth = out / "ground_truth"
    (truth / "dirty_rows.parquet").unlink(missing_ok=True)
    dirty_rows = 0
    if dirty > 0:
        frame, log = make_dirty(rng, frame, dirty)
        write_frame(log, truth / "dirty_rows.parquet")
        dirty_rows = len(log)
        say(f"dirty rows: {dirty_rows:,} ({dirty:.0%} of the events, {len(DEFECTS)} defects)")
    write_events(frame, out / "events", start, days)
    say(f"events: {len(frame):,} written to {out / 'events'}")
    people.table.to_csv(out / "users.csv", index=False)
    catalog.table.to_csv(out / "products.csv", index=False)
    write_frame(personas(people), truth / "personas.parquet")
    write_frame(scenes, truth / "scenes.parquet")
    write_frame(future_purchases(events, sessions, people, days), truth / "future_purchases.parquet")
    (truth / WORLD_FILE).write_text(json.dumps({"users": users, "days": days, "seed": seed, "end_date": end_date.isoformat(),
                                                "sequential_intent": sequential_intent}) + "\n")
    say(f"ground truth written to {truth}")
    return GenerationSummary(out, users, len(catalog.table), len(scenes), len(frame), dirty_rows, start, end_date,
                             time.perf_counter() - started)
