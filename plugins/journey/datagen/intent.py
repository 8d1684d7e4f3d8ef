"""Sequential intent: abandoned carts come back days later, and are bought while interest lasts.

After the sessions' own events are drawn (events.py), every session that carted without buying
may bring its user back (world.CART_RETURN, RETURN_DELAY_DAYS) to the first carted product:
view, add_to_cart and, with a chance that halves every INTEREST_HALF_LIFE_DAYS since the first
cart, purchase. A return that does not buy is itself an abandoned cart (up to RETURN_ROUNDS).
Return sessions keep the original session's scene and channel, so a journey's intent spans
several sessions and days; returns past the window feed the future-purchases ground truth.
Only used when asked for (generate(sequential_intent=True)): without it no draw is made and the
files stay byte-identical.
"""

from __future__ import annotations

import numpy as np

from journey.datagen.catalog import Catalog, Population
from journey.datagen.events import CART, PURCHASE, VIEW, Events
from journey.datagen.sessions import DAY_MS, HOUR_SPREAD, Sessions
from journey.datagen.world import (
    CART_RETURN,
    FUNNEL,
    FUTURE_DAYS,
    GAP_SECONDS,
    INTEREST_HALF_LIFE_DAYS,
    RETURN_BUY,
    RETURN_DELAY_DAYS,
    RETURN_ROUNDS,
)


def abandoned_carts(events: Events, sessions: int) -> tuple[np.ndarray, np.ndarray]:
    """Sessions that carted without a purchase, and the first product each carted."""
    counts = np.bincount(events.session * len(FUNNEL) + events.kind, minlength=sessions * len(FUNNEL))
    counts = counts.reshape(sessions, len(FUNNEL))
    carts = np.flatnonzero(events.kind == CART)
    first_session, first_row = np.unique(events.session[carts], return_index=True)
    product = np.full(sessions, -1, dtype=np.int64)
    product[first_session] = events.product[carts[first_row]]
    abandoned = np.flatnonzero((counts[:, CART] > 0) & (counts[:, PURCHASE] == 0))
    return abandoned, product[abandoned]


def return_events(rng: np.random.Generator, product: np.ndarray, bought: np.ndarray, start_ms: np.ndarray,
                  catalog: Catalog, first_session: int) -> Events:
    """Events of the return sessions: view, add_to_cart and (when bought) purchase of the carted product."""
    kinds = np.array([VIEW, CART, PURCHASE])
    per = 2 + bought.astype(np.int64)
    order = np.repeat(np.arange(len(product)), per)
    kind = kinds[np.arange(len(order)) - np.repeat(np.cumsum(per) - per, per)]
    gap = np.array([GAP_SECONDS[k] for k in FUNNEL])[kind]
    total = np.cumsum((1000.0 * (1.0 + rng.exponential(gap))).astype(np.int64))
    first_row = np.cumsum(per) - per
    item = product[order]
    return Events(first_session + order, kind, item, catalog.sub[item], catalog.price[item],
                  np.ones(len(order), dtype=np.int64), start_ms[order] + total - total[first_row][order])


def add_cart_returns(rng: np.random.Generator, sessions: Sessions, events: Events, people: Population,
                     catalog: Catalog, days: int) -> tuple[Sessions, Events]:
    """Sessions and events with the return visits of abandoned carts appended (indices after the old ones)."""
    horizon = days + FUTURE_DAYS
    candidates, product = abandoned_carts(events, len(sessions.user))
    age = np.zeros(len(candidates), dtype=np.int64)  # days since the first cart
    for _ in range(RETURN_ROUNDS):
        user = sessions.user[candidates]
        eager = np.minimum(1.0, people.buy[user])
        delay = rng.geometric(1.0 / RETURN_DELAY_DAYS, len(candidates))
        day = sessions.day[candidates] + delay
        back = (rng.random(len(candidates)) < CART_RETURN * eager) & (day < horizon)
        age = age + delay
        chance = RETURN_BUY * eager * 0.5 ** (age / INTEREST_HALF_LIFE_DAYS)
        bought = rng.random(len(candidates)) < chance
        hour = (people.peak_hour[user] + rng.normal(0.0, HOUR_SPREAD, len(candidates))) % 24
        start = day * DAY_MS + np.minimum((hour * 3_600_000).astype(np.int64), DAY_MS - 3_600_000)
        keep = np.flatnonzero(back)
        first = len(sessions.user)
        sessions = Sessions(*(np.concatenate([old, new[keep]]) for old, new in (
            (sessions.user, user), (sessions.day, day), (sessions.start_ms, start),
            (sessions.scene, sessions.scene[candidates]), (sessions.channel, sessions.channel[candidates]))))
        added = return_events(rng, product[keep], bought[keep], start[keep], catalog, first)
        events = Events(*(np.concatenate([getattr(events, f), getattr(added, f)]) for f in Events.__dataclass_fields__))
        again = ~bought[keep]
        candidates, product, age = first + np.flatnonzero(again), product[keep][again], age[keep][again]
    return sessions, events
