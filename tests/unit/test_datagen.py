"""The generator: layout, determinism, funnel consistency, ground truth, dirty rows, arguments."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pytest

from journey.datagen import generate
from journey.datagen.catalog import product_count
from journey.schemas import EVENT_COLUMNS, SCENES

END = date(2026, 10, 31)
USERS, DAYS, SEED = 200, 5, 3
PERSONA_NAMES = {"deal_seeker", "loyal_premium", "window_shopper", "fashionista", "family_replenisher", "gifter",
                 "lapsed"}


def read_events(folder) -> pd.DataFrame:
    """All event files of a generated folder, in file order."""
    return pd.concat([pd.read_parquet(p) for p in sorted((folder / "events").glob("*.parquet"))], ignore_index=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """200 users x 5 days, seed 3, no defects; progress messages collected."""
    out = tmp_path_factory.mktemp("clean")
    messages: list[str] = []
    summary = generate(out, users=USERS, days=DAYS, seed=SEED, end_date=END, progress=messages.append)
    return out, summary, read_events(out), messages


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    """The same data set with 7% of the rows damaged."""
    out = tmp_path_factory.mktemp("dirty")
    summary = generate(out, users=USERS, days=DAYS, seed=SEED, dirty=0.07, end_date=END)
    touched = pd.read_parquet(out / "ground_truth" / "dirty_rows.parquet")
    return out, summary, read_events(out), touched


def test_one_event_file_per_day_with_the_canonical_columns_and_types(clean):
    out, summary, _, _ = clean
    names = sorted(p.name for p in (out / "events").glob("*.parquet"))
    assert names == [f"events-2026-10-{d}.parquet" for d in (27, 28, 29, 30, 31)]
    schema = pq.read_schema(out / "events" / "events-2026-10-29.parquet")
    assert schema.names == list(EVENT_COLUMNS)
    types = {name: str(schema.field(name).type) for name in schema.names}
    assert types == {**dict.fromkeys(EVENT_COLUMNS, "string"), "price": "double", "quantity": "int64"}
    assert (summary.start_date, summary.end_date) == (date(2026, 10, 27), END)


def test_users_and_products_files(clean):
    out, summary, _, _ = clean
    users = pd.read_csv(out / "users.csv", dtype=str)
    assert list(users.columns) == ["user_id", "signup_date", "country", "consent_email", "consent_push", "consent_sms"]
    assert len(users) == USERS and users["user_id"].is_unique and users["user_id"].str.fullmatch(r"u\d{6}").all()
    assert users["signup_date"].between("2024-10-27", "2026-10-31").all()
    assert set(users[["consent_email", "consent_push", "consent_sms"]].stack()) <= {"true", "false"}
    products = pd.read_csv(out / "products.csv")
    assert list(products.columns) == ["product_id", "title", "category", "brand", "price", "margin"]
    assert len(products) == summary.products and products["product_id"].is_unique
    top = products["category"].str.split(".").str[0]
    assert set(top) == {"electronics", "apparel", "home", "beauty", "sports", "kids", "grocery", "books"}
    assert products.groupby(top)["category"].nunique().between(3, 5).all()
    assert products["margin"].between(0.05, 0.6).all() and (products["price"] > 0).all()


def test_catalogue_size_grows_slowly_with_users():
    assert product_count(20_000) == 2000
    assert product_count(200) == 632
    assert product_count(10_000_000) == 5000


def test_clean_events_are_valid_canonical_rows(clean):
    _, summary, events, _ = clean
    assert len(events) == summary.events > 0
    assert events["event_id"].is_unique
    assert set(events["event_type"]) == {"view", "search", "add_to_cart", "remove_from_cart", "purchase",
                                         "coupon_redeem"}
    assert set(events["channel"]) <= {"web", "app", "email", "push", "social", "search"}
    assert events["user_id"].notna().all() and events["session_id"].notna().all()
    with_product = events["event_type"].isin(["view", "add_to_cart", "remove_from_cart", "purchase"])
    assert events.loc[with_product, "product_id"].notna().all() and (events.loc[with_product, "price"] > 0).all()
    assert events.loc[~with_product, "product_id"].isna().all()
    is_purchase = events["event_type"] == "purchase"
    assert events.loc[is_purchase, "quantity"].isin([1, 2, 3]).all()
    assert (events.loc[~is_purchase, "quantity"] == 1).all()


def test_timestamps_lie_inside_the_window_and_increase_within_sessions(clean):
    _, _, events, _ = clean
    assert events["event_time"].str.fullmatch(r"2026-(10|11)-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").all()
    times = pd.to_datetime(events["event_time"], format="ISO8601", utc=True)
    assert times.min() >= pd.Timestamp("2026-10-27T00:00:00Z")
    assert times.max() < pd.Timestamp("2026-11-01T00:00:00Z")
    ordered = events.assign(t=times).sort_values(["session_id", "event_id"])
    steps = ordered.groupby("session_id")["t"].diff().dropna()
    assert (steps > pd.Timedelta(0)).all()


def test_each_file_holds_the_events_of_its_day(clean):
    out, _, _, _ = clean
    day_file = pd.read_parquet(out / "events" / "events-2026-10-28.parquet")
    assert day_file["event_time"].str.startswith("2026-10-28T").all()


def test_every_purchase_follows_a_cart_of_the_same_product_in_the_same_session(clean):
    _, _, events, _ = clean
    carts = events[events["event_type"] == "add_to_cart"]
    first_cart = carts.groupby(["session_id", "product_id"])["event_id"].min()
    buys = events[events["event_type"] == "purchase"]
    assert len(buys) > 20
    cart_ids = first_cart.reindex(pd.MultiIndex.from_frame(buys[["session_id", "product_id"]]))
    assert cart_ids.notna().all()
    assert (cart_ids.to_numpy() < buys["event_id"].to_numpy()).all()


def test_a_session_belongs_to_one_user_and_one_channel(clean):
    _, _, events, _ = clean
    per_session = events.groupby("session_id")[["user_id", "channel"]].nunique()
    assert (per_session == 1).all().all()


def test_ground_truth_covers_every_user_and_session(clean):
    out, summary, events, _ = clean
    truth = out / "ground_truth"
    personas = pd.read_parquet(truth / "personas.parquet")
    users = pd.read_csv(out / "users.csv", dtype=str)
    assert sorted(personas["user_id"]) == sorted(users["user_id"])
    assert set(personas["persona"]) == PERSONA_NAMES
    scenes = pd.read_parquet(truth / "scenes.parquet")
    assert set(scenes["session_id"]) == set(events["session_id"]) and scenes["session_id"].is_unique
    assert len(scenes) == summary.sessions
    assert set(scenes["scene"]) <= set(SCENES)
    owner = events.drop_duplicates("session_id").set_index("session_id")["user_id"]
    assert (scenes.set_index("session_id")["user_id"].reindex(owner.index) == owner).all()
    assert not (truth / "dirty_rows.parquet").exists()


def test_future_purchases_cover_every_user_and_lapsed_users_buy_nothing(clean):
    out, _, _, _ = clean
    future = pd.read_parquet(out / "ground_truth" / "future_purchases.parquet")
    personas = pd.read_parquet(out / "ground_truth" / "personas.parquet")
    assert list(future.columns) == ["user_id", "purchases_next_14d", "revenue_next_14d"]
    assert str(future["purchases_next_14d"].dtype) == "int64" and len(future) == USERS
    assert (future["purchases_next_14d"] >= 0).all() and (future["revenue_next_14d"] >= 0).all()
    assert ((future["purchases_next_14d"] > 0) == (future["revenue_next_14d"] > 0)).all()
    assert future["purchases_next_14d"].sum() > 0
    lapsed = future.merge(personas)[lambda f: f["persona"] == "lapsed"]
    assert len(lapsed) > 0 and (lapsed["purchases_next_14d"] == 0).all()


def test_scenes_shape_the_sessions(clean):
    out, _, events, _ = clean
    scenes = pd.read_parquet(out / "ground_truth" / "scenes.parquet").set_index("session_id")["scene"]
    bought = events.groupby("session_id")["event_type"].apply(lambda kinds: (kinds == "purchase").any())
    conversion = bought.groupby(scenes.reindex(bought.index)).mean()
    assert conversion["browse"] < 0.3 < 0.6 < conversion["replenish"]
    views = events[events["event_type"] == "view"]
    subs_per_compare = views[views["session_id"].map(scenes) == "compare"].groupby("session_id")["category"].nunique()
    assert (subs_per_compare == 1).all()
    coupons = events[events["event_type"] == "coupon_redeem"]["session_id"].map(scenes).value_counts()
    assert coupons.idxmax() == "promo_hunt"


def test_progress_messages(clean):
    out, _, events, messages = clean
    assert messages[0].startswith(f"users: {USERS}")
    assert f"events: {len(events):,} written to {out / 'events'}" in messages


def test_same_seed_gives_identical_files_and_another_seed_other_data(clean, tmp_path):
    out, _, events, _ = clean
    generate(tmp_path / "again", users=USERS, days=DAYS, seed=SEED, end_date=END)
    pd.testing.assert_frame_equal(read_events(tmp_path / "again"), events)
    for name in ("users.csv", "products.csv", "events/events-2026-10-30.parquet", "ground_truth/scenes.parquet",
                 "ground_truth/future_purchases.parquet"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
    generate(tmp_path / "other", users=USERS, days=DAYS, seed=SEED + 1, end_date=END)
    assert not read_events(tmp_path / "other").equals(events)


def test_dirty_mode_touches_the_requested_share_with_every_defect(clean, dirty):
    _, clean_summary, _, _ = clean
    _, summary, _, touched = dirty
    assert 0.065 <= len(touched) / clean_summary.events <= 0.075
    assert touched["event_id"].is_unique and summary.dirty_rows == len(touched)
    per_defect = touched["defect"].value_counts()
    assert set(per_defect.index) == {"duplicate", "null_user_id", "null_event_time", "unparsable_timestamp",
                                     "future_timestamp", "negative_price", "unknown_event_type"}
    assert per_defect.max() - per_defect.min() <= 1
    assert summary.events == clean_summary.events + per_defect["duplicate"]


def test_every_damaged_row_is_listed_with_its_defect(clean, dirty):
    _, _, original, _ = clean
    _, _, events, touched = dirty
    copies = events[events["event_id"].duplicated(keep="first")]
    first = events.drop(copies.index).set_index("event_id").sort_index()
    before = original.set_index("event_id").sort_index()
    changed = (first != before) & ~(first.isna() & before.isna())
    listed = touched.set_index("event_id")["defect"]
    assert set(first.index[changed.any(axis=1)]) | set(copies["event_id"]) == set(listed.index)
    assert set(copies["event_id"]) == set(listed[listed == "duplicate"].index)

    def rows(defect: str) -> pd.DataFrame:
        return first.loc[listed[listed == defect].index]

    assert rows("null_user_id")["user_id"].isna().all()
    assert rows("null_event_time")["event_time"].isna().all()
    assert set(rows("unparsable_timestamp")["event_time"]) == {"2026-13-45 25:61", "not a date", "31/10/2026"}
    assert rows("future_timestamp")["event_time"].str.match(r"2027-10-(2[7-9]|3[01])T").all()
    assert (rows("negative_price")["price"] < 0).all()
    assert set(rows("unknown_event_type")["event_type"]) == {"click", "wishlist_add"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"users": 0}, "users must be at least 1, got 0"),
    ({"users": 2.5}, "users must be a whole number, got 2.5"),
    ({"days": 0}, "days must be at least 1, got 0"),
    ({"seed": -1}, "seed must be at least 0, got -1"),
    ({"dirty": 0.6}, "dirty must be a fraction between 0 and 0.5, got 0.6"),
    ({"dirty": -0.1}, "dirty must be a fraction between 0 and 0.5, got -0.1"),
    ({"end_date": "2026-10-31"}, "end_date must be a date, got '2026-10-31'"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    args = {"users": 10, "days": 2, "seed": 1, **kwargs}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        generate(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()
