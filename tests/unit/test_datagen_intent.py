"""Sequential intent: abandoned carts come back days later and are bought while interest lasts."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from journey.datagen import generate

END = date(2026, 10, 31)
USERS, DAYS, SEED = 2_000, 20, 4


def read_events(folder) -> pd.DataFrame:
    """All event files of a generated folder."""
    return pd.concat([pd.read_parquet(p) for p in sorted((folder / "events").glob("*.parquet"))], ignore_index=True)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """The same world without and with sequential intent."""
    plain, sequential = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("sequential")
    generate(plain, users=USERS, days=DAYS, seed=SEED, end_date=END)
    generate(sequential, users=USERS, days=DAYS, seed=SEED, end_date=END, sequential_intent=True)
    return (plain, read_events(plain)), (sequential, read_events(sequential))


def carted_then_bought_later(events: pd.DataFrame) -> pd.DataFrame:
    """(user, product) pairs carted in a session without a purchase and bought later, with the calendar days between."""
    events = events.assign(t=pd.to_datetime(events["event_time"], format="ISO8601", utc=True))
    bought_sessions = set(events.loc[events["event_type"] == "purchase", "session_id"])
    carts = events[(events["event_type"] == "add_to_cart") & ~events["session_id"].isin(bought_sessions)]
    first_cart = carts.groupby(["user_id", "product_id"])["t"].min().rename("carted")
    buys = events[events["event_type"] == "purchase"].groupby(["user_id", "product_id"])["t"].min().rename("bought")
    pairs = pd.concat([first_cart, buys], axis=1, join="inner")
    pairs = pairs[pairs["bought"] > pairs["carted"]]
    return pairs.assign(days=(pairs["bought"].dt.normalize() - pairs["carted"].dt.normalize()).dt.days)


def test_abandoned_carts_are_bought_days_later_only_with_sequential_intent(worlds):
    (_, plain), (_, sequential) = worlds
    later_plain, later_sequential = carted_then_bought_later(plain), carted_then_bought_later(sequential)
    assert len(later_sequential) > 3 * max(len(later_plain), 1)
    assert len(later_sequential) > 100
    assert (later_sequential["days"] >= 1).mean() > 0.9  # another day, not the same visit


def test_interest_decays_with_the_days_since_the_cart(worlds):
    (_, _), (_, sequential) = worlds
    later = carted_then_bought_later(sequential)
    per_delay = later["days"].value_counts().sort_index()
    assert per_delay.loc[1:3].sum() > 2 * per_delay.loc[6:].sum()


def test_the_window_keeps_its_invariants_and_the_ground_truth_covers_return_sessions(worlds):
    (plain_dir, plain), (sequential_dir, sequential) = worlds
    assert len(sequential) > len(plain)
    times = pd.to_datetime(sequential["event_time"], format="ISO8601", utc=True)
    assert times.min() >= pd.Timestamp("2026-10-12T00:00:00Z") and times.max() < pd.Timestamp("2026-11-01T00:00:00Z")
    ordered = sequential.assign(t=times).sort_values(["session_id", "event_id"])
    assert (ordered.groupby("session_id")["t"].diff().dropna() > pd.Timedelta(0)).all()
    carts = sequential[sequential["event_type"] == "add_to_cart"].groupby(["session_id", "product_id"]).size()
    buys = sequential[sequential["event_type"] == "purchase"]
    assert carts.reindex(pd.MultiIndex.from_frame(buys[["session_id", "product_id"]])).notna().all()
    scenes = pd.read_parquet(sequential_dir / "ground_truth" / "scenes.parquet")
    assert set(scenes["session_id"]) == set(sequential["session_id"])
    future = [pd.read_parquet(d / "ground_truth" / "future_purchases.parquet")["purchases_next_14d"].sum()
              for d in (plain_dir, sequential_dir)]
    assert future[1] > future[0]
    for name in ("users.csv", "products.csv"):
        assert (plain_dir / name).read_bytes() == (sequential_dir / name).read_bytes()
