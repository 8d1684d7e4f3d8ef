"""Events of every session, as arrays: a funnel per scene, products that follow it, timestamps.

Inside a session the order is (search) → views → add_to_cart → (remove_from_cart) →
(coupon_redeem) → purchase. Carts take the last viewed products, a removal takes the first
cart and purchases take the carts that were not removed, so every purchase has an earlier
add_to_cart of the same product in the same session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journey.datagen.catalog import SUB_TOP, Catalog, Population
from journey.datagen.draw import beta_around, normalised_cdf, pick
from journey.datagen.sessions import DAY_MS, Sessions
from journey.datagen.world import (
    EXTRA_CART,
    FUNNEL,
    GAP_SECONDS,
    GIFT_CATEGORIES,
    PRICE_CONCENTRATION,
    QUANTITIES,
    QUANTITY_WEIGHTS,
    REMOVE_RATE,
    SCENE_SHAPES,
    STAPLE_SHARE,
    TOP_CATEGORIES,
)
from journey.schemas import SCENES

SEARCH, VIEW, CART, REMOVE, PURCHASE = (
    FUNNEL.index(k) for k in ("search", "view", "add_to_cart", "remove_from_cart", "purchase"))
TOP_FIRST_SUB = np.searchsorted(SUB_TOP, np.arange(len(TOP_CATEGORIES)))
TOP_SUB_COUNT = np.bincount(SUB_TOP, minlength=len(TOP_CATEGORIES))


@dataclass(frozen=True)
class Events:
    """One entry per event, grouped by session in funnel order."""

    session: np.ndarray  # index into Sessions
    kind: np.ndarray  # index into FUNNEL
    product: np.ndarray  # product row, -1 for search and coupon_redeem
    sub: np.ndarray  # sub-category number, -1 for coupon_redeem
    price: np.ndarray  # NaN where there is no product
    quantity: np.ndarray
    time_ms: np.ndarray  # milliseconds from the window's first midnight (UTC)


def scene_value(scene: np.ndarray, field: str) -> np.ndarray:
    """One SceneShape field for each given scene number."""
    return np.array([getattr(SCENE_SHAPES[s], field) for s in SCENES], dtype=float)[scene]


def funnel_counts(rng: np.random.Generator, sessions: Sessions, people: Population) -> np.ndarray:
    """(sessions, FUNNEL) event counts from the scene's shape and the user's buy and coupon traits."""
    count, scene = len(sessions.user), sessions.scene
    buy = people.buy[sessions.user]
    views = scene_value(scene, "min_views").astype(np.int64) + rng.poisson(scene_value(scene, "extra_views"))
    searches = rng.random(count) < scene_value(scene, "search")
    carted = rng.random(count) < np.minimum(0.98, scene_value(scene, "cart") * (0.4 + 0.6 * np.minimum(buy, 1.5)))
    extra = (rng.random(count) < EXTRA_CART[0]).astype(np.int64) * (1 + (rng.random(count) < EXTRA_CART[1]))
    carts = np.minimum(carted * (1 + extra), views)
    bought = carted & (rng.random(count) < np.minimum(0.97, scene_value(scene, "buy") * buy))
    removes = carted & (rng.random(count) < REMOVE_RATE) & (~bought | (carts > 1))
    coupon = people.coupon[sessions.user]
    coupon_rate = np.where(scene == SCENES.index("promo_hunt"), 0.6 + 0.4 * coupon, coupon)
    coupons = bought & (rng.random(count) < coupon_rate)
    purchases = np.where(bought, carts - removes, 0)
    columns = {"search": searches, "view": views, "add_to_cart": carts, "remove_from_cart": removes,
               "coupon_redeem": coupons, "purchase": purchases}
    return np.stack([columns[k] for k in FUNNEL], axis=1).astype(np.int64)


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Event rows from counts: session, kind, rank among its kind, and each (session, kind) block's first row."""
    sessions, kinds = counts.shape
    flat = counts.ravel()
    block_start = np.cumsum(flat) - flat
    session = np.repeat(np.repeat(np.arange(sessions), kinds), flat)
    kind = np.repeat(np.tile(np.arange(kinds), sessions), flat)
    rank = np.arange(flat.sum()) - np.repeat(block_start, flat)
    return session, kind, rank, block_start.reshape(sessions, kinds)


def random_sub(rng: np.random.Generator, top: np.ndarray) -> np.ndarray:
    """A uniformly drawn sub-category of each given top-level category."""
    return TOP_FIRST_SUB[top] + (rng.random(len(top)) * TOP_SUB_COUNT[top]).astype(np.int64)


def session_taste(sessions: Sessions, people: Population) -> np.ndarray:
    """Per session, cumulative category weights: the user's taste, or gift categories outside it."""
    gift_weights = np.array([GIFT_CATEGORIES.get(t, 0.0) for t in TOP_CATEGORIES]) * (1.0 - people.taste) ** 2
    is_gift = (sessions.scene == SCENES.index("gift"))[:, None]
    user = sessions.user
    return np.where(is_gift, normalised_cdf(gift_weights[user] + 1e-9), normalised_cdf(people.taste[user]))


def focus_subs(rng: np.random.Generator, sessions: Sessions, people: Population, catalog: Catalog,
               taste: np.ndarray) -> np.ndarray:
    """The sub-category a session is about (replenish: that of one of the user's staples)."""
    drawn = random_sub(rng, pick(rng, taste))
    staple = people.staples[sessions.user, rng.integers(0, people.staples.shape[1], len(sessions.user))]
    return np.where(sessions.scene == SCENES.index("replenish"), catalog.sub[staple], drawn)


def view_products(rng: np.random.Generator, sessions: Sessions, people: Population, catalog: Catalog,
                  session: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Product rows of the views of the given sessions, and each session's focus sub-category."""
    taste = session_taste(sessions, people)
    focus = focus_subs(rng, sessions, people, catalog, taste)
    in_focus = rng.random(len(session)) < scene_value(sessions.scene, "focus")[session]
    sub = np.where(in_focus, focus[session], random_sub(rng, pick(rng, taste[session])))
    level = people.price_level[sessions.user] + scene_value(sessions.scene, "price_shift")
    product = catalog.at_quantile(sub, beta_around(rng, level[session], PRICE_CONCENTRATION))
    user = sessions.user[session]
    staple = people.staples[user, rng.integers(0, people.staples.shape[1], len(session))]
    rebuy = (sessions.scene[session] == SCENES.index("replenish")) & (rng.random(len(session)) < STAPLE_SHARE)
    return np.where(rebuy, staple, product), focus


def funnel_products(rng: np.random.Generator, sessions: Sessions, people: Population, catalog: Catalog,
                    counts: np.ndarray, layout: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Product row (-1: none) and sub-category (-1: none) of every event."""
    session, kind, rank, block_start = layout
    product = np.full(len(session), -1, dtype=np.int64)
    is_view = kind == VIEW
    product[is_view], focus = view_products(rng, sessions, people, catalog, session[is_view])
    last_view = block_start[:, VIEW] + counts[:, VIEW] - 1
    is_cart = kind == CART
    product[is_cart] = product[last_view[session[is_cart]] - rank[is_cart]]
    cart_row = block_start[session, CART] + rank + np.where(kind == PURCHASE, counts[session, REMOVE], 0)
    follows_cart = (kind == REMOVE) | (kind == PURCHASE)
    product[follows_cart] = product[cart_row[follows_cart]]
    sub = np.where(product >= 0, catalog.sub[np.maximum(product, 0)], np.where(kind == SEARCH, focus[session], -1))
    return product, sub


def quantities(rng: np.random.Generator, sessions: Sessions, session: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """1 for every event but purchases, which take 1-3 (more in replenish sessions)."""
    weights = np.array([QUANTITY_WEIGHTS["default"], QUANTITY_WEIGHTS["replenish"]])
    table = np.cumsum(weights, axis=1)[(sessions.scene == SCENES.index("replenish")).astype(int)[session]]
    drawn = np.array(QUANTITIES)[pick(rng, table)]
    return np.where(kind == PURCHASE, drawn, 1).astype(np.int64)


def timestamps(rng: np.random.Generator, sessions: Sessions, session: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Event times: pauses by event kind after the session start, the session kept inside its day."""
    mean_gap = np.array([GAP_SECONDS[k] for k in FUNNEL])[kind]
    gap_ms = (1000.0 * (1.0 + rng.exponential(mean_gap))).astype(np.int64)
    total = np.cumsum(gap_ms)
    first_row = np.searchsorted(session, np.arange(len(sessions.user)))
    elapsed = total - total[first_row][session]
    duration = elapsed[np.append(first_row[1:], len(session)) - 1]
    start = np.minimum(sessions.start_ms, (sessions.day + 1) * DAY_MS - 1 - duration)
    return start[session] + elapsed


def make_events(rng: np.random.Generator, sessions: Sessions, people: Population, catalog: Catalog) -> Events:
    """Every session's events, consistent along its funnel."""
    counts = funnel_counts(rng, sessions, people)
    layout = expand(counts)
    session, kind = layout[0], layout[1]
    product, sub = funnel_products(rng, sessions, people, catalog, counts, layout)
    price = np.where(product >= 0, catalog.price[np.maximum(product, 0)], np.nan)
    return Events(session, kind, product, sub, price, quantities(rng, sessions, session, kind),
                  timestamps(rng, sessions, session, kind))
