"""Realistic synthetic shop data: users, products, click-stream events and their ground truth.

Users belong to latent personas (category taste, price level, visit rate, purchase and
coupon propensity, churn) and every session to a latent shopping scene (browse, targeted,
compare, promo_hunt, replenish, gift) that shapes its event sequence:
(search) → views → add_to_cart (→ remove_from_cart) → coupon_redeem → purchase.
Everything is drawn with one seeded numpy Generator and built with array operations (no
per-event Python loop), so the same seed gives the same files.

Layout under the output folder: users.csv, products.csv, events/events-YYYY-MM-DD.parquet
(canonical columns, text except price and quantity) and ground_truth/ (personas.parquet,
scenes.parquet, future_purchases.parquet, dirty_rows.parquet when --dirty > 0).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from journey.schemas import EVENT_COLUMNS, SCENES

CATEGORIES: dict[str, tuple[str, ...]] = {
    "electronics": ("smartphone", "audio", "laptop", "tv", "camera"),
    "apparel": ("shoes", "dresses", "jackets", "tshirts"),
    "home": ("kitchen", "furniture", "decor", "bedding"),
    "beauty": ("skincare", "makeup", "fragrance"),
    "sports": ("fitness", "cycling", "outdoor"),
    "kids": ("toys", "clothing", "baby_care"),
    "grocery": ("tea_coffee", "snacks", "pantry", "drinks"),
    "books": ("fiction", "nonfiction", "childrens"),
}
TOP = tuple(CATEGORIES)
BASE_PRICE = {"electronics": 350.0, "apparel": 45.0, "home": 70.0, "beauty": 22.0, "sports": 60.0,
              "kids": 25.0, "grocery": 6.0, "books": 15.0}
MARGIN = {"electronics": (0.05, 0.2), "apparel": (0.35, 0.6), "home": (0.2, 0.45), "beauty": (0.4, 0.6),
          "sports": (0.2, 0.4), "kids": (0.25, 0.45), "grocery": (0.08, 0.25), "books": (0.15, 0.35)}
BRANDS = {
    "electronics": ("voltix", "samsong", "aplex", "sonar", "lumina"),
    "apparel": ("northwind", "veloura", "urbanite", "kaiko", "mistral"),
    "home": ("hearth", "casana", "nordhem", "olivo", "tidy"),
    "beauty": ("lumiere", "aura", "velvet", "botanica", "glow"),
    "sports": ("stride", "peakline", "rallye", "trailon", "flex"),
    "kids": ("tinytots", "playwell", "bubbles", "sprout", "kidzo"),
    "grocery": ("greenleaf", "morrow", "harvest", "brewly", "crunch"),
    "books": ("penbrook", "inkwell", "folio", "paperkite", "oakpress"),
}
ADJECTIVES = ("Classic", "Pro", "Lite", "Max", "Eco", "Smart", "Premium", "Everyday", "Mini", "Plus")
COUNTRIES = (("DE", 0.3), ("FR", 0.2), ("GB", 0.15), ("NL", 0.1), ("ES", 0.1), ("IT", 0.1), ("PL", 0.05))
CHANNELS = ("web", "app", "email", "push", "social", "search")


@dataclass(frozen=True)
class Persona:
    """Latent shopper type: what, how often, how pricey, how likely to buy and use coupons."""

    name: str
    share: float
    taste: dict[str, float]
    price: tuple[float, float]  # Beta(a, b) position within a sub-category's price range
    sessions_per_day: float
    buy: float  # multiplier on cart and purchase probabilities
    coupon: float  # probability that an order uses a coupon
    scenes: dict[str, float]
    hour: float  # peak hour (UTC)
    active_days: tuple[int, int] | None = None  # lapsed users: active only this many first days


PERSONAS: tuple[Persona, ...] = (
    Persona("deal_seeker", 0.18, {"grocery": 0.4, "home": 0.3, "beauty": 0.3}, (1.0, 5.0), 0.30, 1.0, 0.9,
            {"promo_hunt": 0.7, "targeted": 0.2, "browse": 0.1}, 12),
    Persona("loyal_premium", 0.10, {"electronics": 0.7, "home": 0.2, "sports": 0.1}, (5.0, 1.3), 0.30, 1.4, 0.03,
            {"targeted": 0.5, "replenish": 0.2, "compare": 0.3}, 20),
    Persona("window_shopper", 0.20, {"apparel": 0.45, "electronics": 0.45, "home": 0.1}, (2.0, 2.0), 0.35, 0.05, 0.0,
            {"browse": 0.6, "compare": 0.4}, 21),
    Persona("fashionista", 0.15, {"apparel": 0.75, "beauty": 0.25}, (2.5, 2.0), 0.22, 0.8, 0.15,
            {"targeted": 0.5, "browse": 0.3, "compare": 0.2}, 19),
    Persona("family_replenisher", 0.15, {"grocery": 0.5, "kids": 0.5}, (1.5, 3.0), 0.35, 1.3, 0.08,
            {"replenish": 0.75, "targeted": 0.25}, 9),
    Persona("gifter", 0.10, {"books": 0.4, "kids": 0.3, "sports": 0.3}, (4.0, 1.5), 0.08, 1.0, 0.05,
            {"gift": 0.85, "browse": 0.15}, 17),
    Persona("lapsed", 0.12, {t: 1 / len(TOP) for t in TOP}, (2.0, 2.0), 0.6, 0.5, 0.1,
            {"browse": 0.6, "targeted": 0.4}, 14, active_days=(2, 6)),
)

# Scene shapes: fixed views, extra views (Poisson mean), search prob, cart prob, buy-given-cart, focus.
SCENE_SHAPE = {
    "browse": (3, 4.0, 0.2, 0.15, 0.35, 0.4),
    "targeted": (1, 2.0, 0.6, 0.85, 0.75, 0.95),
    "compare": (4, 4.0, 0.3, 0.45, 0.5, 1.0),
    "promo_hunt": (2, 3.0, 0.85, 0.7, 0.75, 0.85),
    "replenish": (1, 1.0, 0.5, 0.95, 0.9, 0.95),
    "gift": (2, 3.0, 0.3, 0.7, 0.75, 0.9),
}
GIFT_TASTE = {"books": 0.3, "kids": 0.3, "sports": 0.2, "beauty": 0.1, "apparel": 0.1}
FUTURE_DAYS = 14
DEFECTS = ("duplicate", "null_user_id", "null_event_time", "unparsable_timestamp", "future_timestamp",
           "negative_price", "unknown_event_type")
BAD_TIMESTAMPS = np.array(["2026-13-45 25:61", "not a date", "31/10/2026"])
BAD_EVENT_TYPES = np.array(["click", "wishlist_add"])


@dataclass(frozen=True)
class GenerationSummary:
    """What was written, for the CLI's closing summary."""

    out_dir: Path
    users: int
    products: int
    sessions: int
    events: int
    dirty_rows: int
    start_date: date
    end_date: date
    seconds: float


def _check(users: int, days: int, seed: int, dirty: float) -> None:
    """Reject impossible arguments with a message naming the argument."""
    if users < 1:
        raise ValueError(f"users must be at least 1, got {users}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    if not 0 <= dirty <= 0.5:
        raise ValueError(f"dirty must be between 0 and 0.5, got {dirty}")


def _pick(rng: np.random.Generator, cdf_rows: np.ndarray) -> np.ndarray:
    """One categorical draw per row, given each row's cumulative probabilities."""
    return (rng.random(len(cdf_rows))[:, None] > cdf_rows).sum(axis=1).clip(0, cdf_rows.shape[1] - 1)


def _cdf(weights: list[dict[str, float]], keys: tuple[str, ...]) -> np.ndarray:
    """Cumulative probability table (one row per weight dict) over keys."""
    table = np.array([[w.get(k, 0.0) for k in keys] for w in weights], dtype=float)
    return np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)


def make_products(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """Catalog: products spread over sub-categories, sorted by price inside each."""
    subcats = [(top, sub) for top, subs in CATEGORIES.items() for sub in subs]
    sub_of = np.sort(rng.integers(0, len(subcats), count))
    sub_of[: len(subcats)] = np.arange(len(subcats))  # every sub-category has a product
    sub_of = np.sort(sub_of)
    tops = np.array([subcats[s][0] for s in sub_of])
    price = np.round(np.array([BASE_PRICE[t] for t in tops]) * rng.lognormal(0.0, 0.6, count), 2)
    order = np.lexsort((price, sub_of))
    sub_of, tops, price = sub_of[order], tops[order], price[order]
    brand = np.array([BRANDS[t][i] for t, i in zip(tops, rng.integers(0, 5, count), strict=False)])
    low = np.array([MARGIN[t][0] for t in tops])
    high = np.array([MARGIN[t][1] for t in tops])
    names = [subcats[s][1].replace("_", " ").title() for s in sub_of]
    adjectives = np.array(ADJECTIVES)[rng.integers(0, len(ADJECTIVES), count)]
    return pd.DataFrame({
        "product_id": [f"p{i:05d}" for i in range(count)],
        "title": [f"{b.title()} {a} {n} {m}" for b, a, n, m in zip(brand, adjectives, names, rng.integers(100, 999, count), strict=False)],
        "category": [f"{subcats[s][0]}.{subcats[s][1]}" for s in sub_of],
        "brand": brand,
        "price": price,
        "margin": np.round(low + (high - low) * rng.random(count), 3),
        "_sub": sub_of,
    })


def make_users(rng: np.random.Generator, count: int, start: date, days: int) -> pd.DataFrame:
    """Users with persona, signup date, country and channel consents."""
    shares = np.array([p.share for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=count, p=shares / shares.sum())
    # 8% sign up inside the window; the rest up to two years before it
    inside = rng.random(count) < 0.08
    offset = np.where(inside, rng.integers(0, days, count), -rng.integers(1, 730, count))
    codes, weights = zip(*COUNTRIES, strict=False)
    return pd.DataFrame({
        "user_id": [f"u{i:06d}" for i in range(count)],
        "signup_date": [start + timedelta(days=int(d)) for d in offset],
        "country": rng.choice(codes, size=count, p=np.array(weights) / sum(weights)),
        "consent_email": rng.random(count) < 0.7,
        "consent_push": rng.random(count) < 0.45,
        "consent_sms": rng.random(count) < 0.2,
        "_persona": persona,
        "_first_day": np.maximum(offset, 0),
    })


def _active_span(rng: np.random.Generator, users: pd.DataFrame, days: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last+1 active day of each user inside the window (lapsed users stop early)."""
    first = users["_first_day"].to_numpy()
    end = np.full(len(users), days)
    for idx, persona in enumerate(PERSONAS):
        if persona.active_days:
            mask = users["_persona"].to_numpy() == idx
            end[mask] = np.minimum(days, first[mask] + rng.integers(*persona.active_days, mask.sum()) + 1)
    return first, np.maximum(end, first + 1)


def make_sessions(rng: np.random.Generator, users: pd.DataFrame, days: int) -> pd.DataFrame:
    """Sessions per user (Poisson on the active span), their day, start second, scene and channel."""
    persona = users["_persona"].to_numpy()
    first, end = _active_span(rng, users, days)
    rate = np.array([p.sessions_per_day for p in PERSONAS])[persona] * rng.lognormal(0.0, 0.3, len(users))
    count = rng.poisson(rate * (end - first))
    user = np.repeat(np.arange(len(users)), count)
    day = first[user] + (rng.random(len(user)) * (end - first)[user]).astype(int)
    hour = (np.array([p.hour for p in PERSONAS])[persona[user]] + rng.normal(0, 2.5, len(user))) % 24
    start = day * 86_400 + (hour * 3600).astype(int) + rng.integers(0, 60, len(user))
    scene_cdf = _cdf([p.scenes for p in PERSONAS], SCENES)
    return pd.DataFrame({
        "user": user,
        "day": day,
        "start": start,
        "scene": _pick(rng, scene_cdf[persona[user]]),
        "channel": rng.choice(len(CHANNELS), size=len(user), p=[0.45, 0.3, 0.08, 0.05, 0.07, 0.05]),
    })


def _session_shape(rng: np.random.Generator, sessions: pd.DataFrame, persona: np.ndarray) -> dict[str, np.ndarray]:
    """Per session: number of searches, views, carts, removals, coupons and purchases."""
    shape = np.array([SCENE_SHAPE[s] for s in SCENES])[sessions["scene"].to_numpy()]
    buy = np.array([p.buy for p in PERSONAS])[persona]
    coupon = np.array([p.coupon for p in PERSONAS])[persona]
    n = len(sessions)
    views = shape[:, 0].astype(int) + rng.poisson(shape[:, 1])
    searches = (rng.random(n) < shape[:, 2]).astype(int)
    carted = rng.random(n) < np.minimum(0.98, shape[:, 3] * (0.4 + 0.6 * np.minimum(buy, 1.5)))
    carts = np.where(carted, 1 + (rng.random(n) < 0.2), 0)
    carts = np.minimum(carts, views)
    bought = carted & (rng.random(n) < np.minimum(0.97, shape[:, 4] * buy))
    promo = sessions["scene"].to_numpy() == SCENES.index("promo_hunt")
    coupons = (bought & (rng.random(n) < np.minimum(1.0, coupon * np.where(promo, 1.1, 0.8)))).astype(int)
    removes = (carted & ~bought & (rng.random(n) < 0.3)).astype(int)
    return {"search": searches, "view": views, "add_to_cart": carts, "remove_from_cart": removes,
            "coupon_redeem": coupons, "purchase": np.where(bought, carts, 0)}


def make_events(rng: np.random.Generator, users: pd.DataFrame, products: pd.DataFrame,
                sessions: pd.DataFrame) -> pd.DataFrame:
    """Event rows in session order, with products consistent along each session's funnel."""
    persona_of_user = users["_persona"].to_numpy()
    persona = persona_of_user[sessions["user"].to_numpy()]
    counts = _session_shape(rng, sessions, persona)
    kinds = list(counts)
    per_session = np.stack([counts[k] for k in kinds], axis=1)
    total = per_session.sum(axis=1)
    session = np.repeat(np.arange(len(sessions)), total)
    starts = np.cumsum(total) - total
    position = np.arange(len(session)) - starts[session]
    bounds = np.cumsum(per_session, axis=1)[session]
    kind = (position[:, None] >= bounds).sum(axis=1)
    offset_in_kind = position - np.where(kind > 0, bounds[np.arange(len(kind)), np.maximum(kind - 1, 0)], 0)

    # category: the session's focus sub-category, or another draw from the shopper's taste
    taste_cdf = _cdf([p.taste for p in PERSONAS] + [GIFT_TASTE], TOP)
    is_gift = sessions["scene"].to_numpy() == SCENES.index("gift")
    session_taste = np.where(is_gift, len(PERSONAS), persona)
    subs_of_top = [np.array(_sub_ids(t)) for t in TOP]
    session_sub = _draw_sub(rng, _pick(rng, taste_cdf[session_taste]), subs_of_top)
    focus = np.array([SCENE_SHAPE[s][5] for s in SCENES])[sessions["scene"].to_numpy()]
    own = rng.random(len(session)) < focus[session]
    other_sub = _draw_sub(rng, _pick(rng, taste_cdf[session_taste[session]]), subs_of_top)
    sub = np.where(own, session_sub[session], other_sub)

    # product: a price position inside the sub-category from the persona's (or scene's) Beta
    price_ab = np.array([p.price for p in PERSONAS] + [(4.0, 1.5)])
    ab = price_ab[session_taste[session]]
    promo = (sessions["scene"].to_numpy() == SCENES.index("promo_hunt"))[session]
    ab = np.where(promo[:, None], (1.0, 5.0), ab)
    quantile = rng.beta(ab[:, 0], ab[:, 1])
    sub_start = np.searchsorted(products["_sub"].to_numpy(), np.arange(products["_sub"].max() + 1))
    sub_count = np.diff(np.append(sub_start, len(products)))
    product = sub_start[sub] + np.minimum((quantile * sub_count[sub]).astype(int), sub_count[sub] - 1)

    # funnel consistency: cart i takes the (last - i)-th viewed product; purchase/removal follow the carts
    view_kind, cart_kind = kinds.index("view"), kinds.index("add_to_cart")
    view_start = starts + per_session[:, : view_kind].sum(axis=1)
    last_view = view_start[session] + per_session[session, view_kind] - 1
    carted_pos = last_view - offset_in_kind
    follows_cart = np.isin(kind, [cart_kind, kinds.index("remove_from_cart"), kinds.index("purchase")])
    product = np.where(follows_cart, product[np.clip(carted_pos, 0, len(product) - 1)], product)
    no_product = np.isin(kind, [kinds.index("search"), kinds.index("coupon_redeem")])

    gaps = rng.exponential(45.0, len(session)).astype(int) + 1
    elapsed = np.cumsum(gaps) - np.cumsum(gaps)[starts][session]
    quantity = np.where(kind == kinds.index("purchase"), rng.choice([1, 2, 3], len(session), p=[0.8, 0.15, 0.05]), 1)
    priced = ~np.isin(kind, [kinds.index("search"), kinds.index("coupon_redeem")])
    return pd.DataFrame({
        "second": sessions["start"].to_numpy()[session] + elapsed,
        "user": sessions["user"].to_numpy()[session],
        "session": session,
        "event_type": np.array(kinds)[kind],
        "product": np.where(no_product, -1, product),
        "category_sub": np.where(kind == kinds.index("coupon_redeem"), -1, np.where(no_product, sub, products["_sub"].to_numpy()[product])),
        "price": np.where(priced, products["price"].to_numpy()[product], np.nan),
        "quantity": quantity,
        "channel": np.array(CHANNELS)[sessions["channel"].to_numpy()[session]],
    })


def _sub_ids(top: str) -> list[int]:
    """Global sub-category numbers of a top-level category."""
    flat = [t for t, subs in CATEGORIES.items() for _ in subs]
    return [i for i, t in enumerate(flat) if t == top]


def _draw_sub(rng: np.random.Generator, top_index: np.ndarray, subs_of_top: list[np.ndarray]) -> np.ndarray:
    """A uniformly drawn sub-category of each given top-level category."""
    first = np.array([s[0] for s in subs_of_top])
    size = np.array([len(s) for s in subs_of_top])
    return first[top_index] + (rng.random(len(top_index)) * size[top_index]).astype(int)


def _iso(seconds: np.ndarray, start: date) -> np.ndarray:
    """ISO-8601 UTC strings ('…Z', millisecond precision) for seconds since the window start."""
    base = np.datetime64(start.isoformat(), "ms")
    return np.char.add(np.datetime_as_string(base + (seconds * 1000).astype("timedelta64[ms]"), unit="ms"), "Z")


def canonical_events(events: pd.DataFrame, users: pd.DataFrame, products: pd.DataFrame, start: date) -> pd.DataFrame:
    """Canonical columns (text except price and quantity), sorted by time, with event ids."""
    events = events.sort_values(["second", "session"], kind="stable").reset_index(drop=True)
    subcats = np.array([f"{t}.{s}" for t, subs in CATEGORIES.items() for s in subs] + [None], dtype=object)
    product_ids = np.append(products["product_id"].to_numpy(), None).astype(object)
    brands = np.append(products["brand"].to_numpy(), None).astype(object)
    product = events["product"].to_numpy()
    return pd.DataFrame({
        "event_id": np.char.add("e", np.char.zfill(np.arange(len(events)).astype(str), 9)).astype(object),
        "event_time": _iso(events["second"].to_numpy(), start).astype(object),
        "user_id": users["user_id"].to_numpy()[events["user"].to_numpy()],
        "session_id": np.char.add("s", np.char.zfill(events["session"].to_numpy().astype(str), 8)).astype(object),
        "event_type": events["event_type"].to_numpy().astype(object),
        "product_id": product_ids[product],
        "category": subcats[events["category_sub"].to_numpy()],
        "brand": brands[product],
        "price": events["price"].to_numpy(),
        "quantity": events["quantity"].to_numpy().astype("int64"),
        "channel": events["channel"].to_numpy().astype(object),
    }, columns=list(EVENT_COLUMNS))


def future_purchases(rng: np.random.Generator, users: pd.DataFrame, events: pd.DataFrame, days: int) -> pd.DataFrame:
    """Purchases in the FUTURE_DAYS after the window, from the same visit and buy rates."""
    persona = users["_persona"].to_numpy()
    lapsed = np.array([p.active_days is not None for p in PERSONAS])[persona]
    rate = np.array([p.sessions_per_day for p in PERSONAS])[persona]
    sessions = np.where(lapsed, 0, rng.poisson(rate * FUTURE_DAYS))
    buy_rate = np.array([p.buy for p in PERSONAS])[persona] * 0.45
    purchases = rng.binomial(sessions, np.minimum(buy_rate, 0.95))
    bought = events[events["event_type"] == "purchase"]
    aov = bought.groupby("user")["price"].mean().reindex(range(len(users))).fillna(bought["price"].mean() or 0)
    return pd.DataFrame({"user_id": users["user_id"], "purchases_next_14d": purchases.astype("int64"),
                         "revenue_next_14d": np.round(purchases * aov.to_numpy(), 2)})


def make_dirty(rng: np.random.Generator, events: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Damage about `fraction` of the rows with real-feed defects; returns (events, touched rows)."""
    touched = rng.choice(len(events), size=int(round(fraction * len(events))), replace=False)
    defect = np.array(DEFECTS)[np.arange(len(touched)) % len(DEFECTS)]
    dirty = events.copy()
    for name, column, value in (
        ("null_user_id", "user_id", None), ("null_event_time", "event_time", None),
        ("unparsable_timestamp", "event_time", BAD_TIMESTAMPS),
        ("future_timestamp", "event_time", "2027-10-31T12:00:00.000Z"),
        ("unknown_event_type", "event_type", BAD_EVENT_TYPES),
    ):
        rows = touched[defect == name]
        dirty.loc[rows, column] = value[np.arange(len(rows)) % len(value)] if isinstance(value, np.ndarray) else value
    rows = touched[defect == "negative_price"]
    dirty.loc[rows, "price"] = -dirty.loc[rows, "price"].fillna(1.0).abs() - 1.0
    copies = dirty.loc[touched[defect == "duplicate"]]
    dirty = pd.concat([dirty, copies], ignore_index=True)
    log = pd.DataFrame({"event_id": events["event_id"].to_numpy()[touched], "defect": defect})
    return dirty, log


def _event_date(event_time: pd.Series, fallback: str) -> np.ndarray:
    """File date of each row (its event date; unparsable or missing times go to the last day)."""
    day = event_time.fillna("").str.slice(0, 10)
    valid = day.str.match(r"^\d{4}-\d{2}-\d{2}$") & (day <= fallback)
    return np.where(valid, day, fallback)


def write_events(events: pd.DataFrame, folder: Path, last_day: date) -> None:
    """One Parquet file per day: events/events-YYYY-MM-DD.parquet."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("events-*.parquet"):
        old.unlink()
    days = _event_date(events["event_time"], last_day.isoformat())
    schema = pa.schema([(c, pa.float64() if c == "price" else pa.int64() if c == "quantity" else pa.string())
                        for c in EVENT_COLUMNS])
    for day in np.unique(days):
        table = pa.Table.from_pandas(events[days == day], schema=schema, preserve_index=False)
        pq.write_table(table, folder / f"events-{day}.parquet")


def generate(out_dir, users: int, days: int, seed: int, dirty: float = 0.0, end_date: date = date(2026, 10, 31),
             progress: Callable[[str], None] | None = None) -> GenerationSummary:
    """Generate and write a data set; see the module docstring for the layout."""
    _check(users, days, seed, dirty)
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    start = end_date - timedelta(days=days - 1)
    products = make_products(rng, int(np.clip(users // 10, 400, 5000)))
    people = make_users(rng, users, start, days)
    say(f"users: {users:,}, products: {len(products):,}")
    sessions = make_sessions(rng, people, days)
    raw = make_events(rng, people, products, sessions)
    events = canonical_events(raw, people, products, start)
    say(f"sessions: {len(sessions):,}, events: {len(events):,}")
    truth = out / "ground_truth"
    truth.mkdir(parents=True, exist_ok=True)
    dirty_rows = 0
    if dirty > 0:
        events, touched = make_dirty(rng, events, dirty)
        touched.to_parquet(truth / "dirty_rows.parquet", index=False)
        dirty_rows = len(touched)
    write_events(events, out / "events", end_date)
    people.drop(columns=["_persona", "_first_day"]).to_csv(out / "users.csv", index=False)
    products.drop(columns=["_sub"]).to_csv(out / "products.csv", index=False)
    pd.DataFrame({"user_id": people["user_id"], "persona": np.array([p.name for p in PERSONAS])[people["_persona"]]}
                 ).to_parquet(truth / "personas.parquet", index=False)
    pd.DataFrame({"session_id": np.char.add("s", np.char.zfill(np.arange(len(sessions)).astype(str), 8)),
                  "user_id": people["user_id"].to_numpy()[sessions["user"].to_numpy()],
                  "scene": np.array(SCENES)[sessions["scene"].to_numpy()]}).to_parquet(truth / "scenes.parquet", index=False)
    future_purchases(rng, people, raw, days).to_parquet(truth / "future_purchases.parquet", index=False)
    say(f"written to {out}")
    return GenerationSummary(out, users, len(products), len(sessions), len(events), dirty_rows, start, end_date,
                             time.perf_counter() - started)
