"""The generator: layout, determinism, funnel consistency, ground truth, dirty rows."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from journey.datagen import DEFECTS, generate
from journey.schemas import EVENT_COLUMNS, EVENT_TYPES, SCENES

END = date(2026, 10, 31)


def read_events(folder) -> pd.DataFrame:
    """All event files of a generated folder."""
    return pd.concat(pd.read_parquet(p) for p in sorted((folder / "events").glob("*.parquet")))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """300 users x 5 days, seed 3."""
    out = tmp_path_factory.mktemp("clean")
    summary = generate(out, users=300, days=5, seed=3, end_date=END)
    return out, summary, read_events(out)


def test_layout_and_columns(clean):
    out, summary, events = clean
    names = sorted(p.name for p in (out / "events").glob("*.parquet"))
    assert names == [f"events-2026-10-{d}.parquet" for d in range(27, 32)]
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert (out / "users.csv").exists() and (out / "products.csv").exists()
    assert summary.events == len(events) and summary.start_date == date(2026, 10, 27)
    users = pd.read_csv(out / "users.csv")
    assert list(users.columns) == ["user_id", "signup_date", "country", "consent_email", "consent_push", "consent_sms"]
    products = pd.read_csv(out / "products.csv")
    assert list(products.columns) == ["product_id", "title", "category", "brand", "price", "margin"]
    assert products["category"].str.split(".").str[0].nunique() == 8
    assert products["margin"].between(0.05, 0.6).all()


def test_events_are_valid_canonical_rows(clean):
    _, _, events = clean
    assert events["event_id"].is_unique
    assert set(events["event_type"]) <= set(EVENT_TYPES)
    times = pd.to_datetime(events["event_time"], format="ISO8601", utc=True)
    assert times.min() >= pd.Timestamp("2026-10-27", tz="UTC")
    assert times.max() < pd.Timestamp("2026-11-01 02:00", tz="UTC")  # a late session may spill past midnight
    assert events["event_time"].str.endswith("Z").all()
    priced = events["event_type"].isin(["view", "add_to_cart", "purchase", "remove_from_cart"])
    assert (events.loc[priced, "price"] > 0).all()
    assert events.loc[events["event_type"] == "purchase", "quantity"].isin([1, 2, 3]).all()


def test_every_purchase_follows_a_cart_of_the_same_product(clean):
    _, _, events = clean
    carts = set(zip(*[events.loc[events["event_type"] == "add_to_cart", c] for c in ("session_id", "product_id")], strict=False))
    buys = events[events["event_type"] == "purchase"]
    assert len(buys) > 0
    assert all(key in carts for key in zip(buys["session_id"], buys["product_id"], strict=False))


def test_time_increases_within_sessions(clean):
    _, _, events = clean
    ordered = events.sort_values(["session_id", "event_id"])
    times = pd.to_datetime(ordered["event_time"], format="ISO8601", utc=True)
    step = times.groupby(ordered["session_id"]).diff().dropna()
    assert (step > pd.Timedelta(0)).all()


def test_ground_truth_covers_users_and_sessions(clean):
    out, _, events = clean
    personas = pd.read_parquet(out / "ground_truth" / "personas.parquet")
    scenes = pd.read_parquet(out / "ground_truth" / "scenes.parquet")
    future = pd.read_parquet(out / "ground_truth" / "future_purchases.parquet")
    assert len(personas) == 300 and personas["persona"].nunique() == 7
    assert set(events["session_id"]) <= set(scenes["session_id"])
    assert set(scenes["scene"]) <= set(SCENES)
    assert len(future) == 300 and (future["purchases_next_14d"] >= 0).all()


def test_same_seed_same_data_other_seed_other_data(clean, tmp_path):
    out, _, events = clean
    generate(tmp_path / "again", users=300, days=5, seed=3, end_date=END)
    pd.testing.assert_frame_equal(read_events(tmp_path / "again"), events)
    generate(tmp_path / "other", users=300, days=5, seed=4, end_date=END)
    assert not read_events(tmp_path / "other").equals(events)


def test_dirty_rows_are_injected_and_listed(tmp_path):
    summary = generate(tmp_path, users=300, days=5, seed=3, dirty=0.07, end_date=END)
    events = read_events(tmp_path)
    touched = pd.read_parquet(tmp_path / "ground_truth" / "dirty_rows.parquet")
    clean_rows = summary.events - touched["defect"].eq("duplicate").sum()
    assert len(touched) == round(0.07 * clean_rows)
    assert set(touched["defect"]) == set(DEFECTS)
    by_defect = dict(zip(touched["event_id"], touched["defect"], strict=False))
    rows = events.set_index("event_id")
    nulls = [e for e, d in by_defect.items() if d == "null_user_id"]
    assert rows.loc[nulls, "user_id"].isna().all()
    negative = [e for e, d in by_defect.items() if d == "negative_price"]
    assert (rows.loc[negative, "price"] < 0).all()
    unknown = [e for e, d in by_defect.items() if d == "unknown_event_type"]
    assert set(rows.loc[unknown, "event_type"]) <= {"click", "wishlist_add"}
    duplicated = [e for e, d in by_defect.items() if d == "duplicate"]
    assert events["event_id"].isin(duplicated).sum() == 2 * len(duplicated)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"users": 0}, "users must be at least 1"), ({"days": 0}, "days must be at least 1"),
    ({"seed": -1}, "seed must be 0 or more"), ({"dirty": 0.6}, "dirty must be between 0 and 0.5"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    args = {"users": 10, "days": 2, "seed": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **args)
