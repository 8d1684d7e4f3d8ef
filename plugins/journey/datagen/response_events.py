"""Outcomes of a simulated campaign: who buys in the days after it, and the events of their orders.

Each user converts with their arm's probability (response.true_effects): treated users with
p_treated, held-out users with p_untreated. A converter places one order on a day drawn by
weekday traffic, near their peak hour: views, add_to_cart, (coupon_redeem), purchase of 1-2
products of their taste at their price level. Treated buyers redeem the assigned coupon with
the truth's redeem_share; a redeeming order is topped up to the coupon's minimum spend, and its
coupon_redeem event carries the assigned coupon_code. Seeded: same inputs, same frames.
"""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd

from journey.datagen.catalog import Catalog, Population
from journey.datagen.draw import cdf_table, ids, normalised_cdf, pick
from journey.datagen.events import expand
from journey.datagen.output import FILE_DAY, iso_utc
from journey.datagen.response import sub_weights, true_effects, user_products, user_rows
from journey.datagen.sessions import DAY_MS, HOUR_SPREAD, traffic_curve
from journey.datagen.world import (
    GAP_SECONDS,
    ORDER_ITEM_WEIGHTS,
    ORDER_ITEMS,
    PERSONAS,
    QUANTITIES,
    QUANTITY_WEIGHTS,
    SHOP_CHANNELS,
    SUB_CATEGORIES,
)
from journey.schemas import EVENT_COLUMNS

ORDER_KINDS = ("view", "add_to_cart", "coupon_redeem", "purchase")  # event order inside a simulated order
RESPONSE_EVENT_COLUMNS = (*EVENT_COLUMNS, *(() if "coupon_code" in EVENT_COLUMNS else ("coupon_code",)))


def id_tag(run_id: str) -> str:
    """Short stable tag of a run for event and session ids (never clashes with the generator's digits-only ids)."""
    return "r" + hashlib.sha256(run_id.encode()).hexdigest()[:6]


def order_days(rng: np.random.Generator, count: int, start: date, days: int) -> np.ndarray:
    """Day number (0 .. days−1) of each order, busier weekdays more likely."""
    curve = traffic_curve(start, days)
    return np.minimum(np.searchsorted(curve, rng.random(count) * curve[-1], side="right") - 1, days - 1)


def order_items(rng: np.random.Generator, people: Population, catalog: Catalog, rows: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Products of each order: item count per order, product rows and quantities (flat, order by order)."""
    items = np.array(ORDER_ITEMS)[pick(rng, np.cumsum([ORDER_ITEM_WEIGHTS], axis=1).repeat(len(rows), axis=0))]
    item_rows = np.repeat(rows, items)
    item_user = np.repeat(np.arange(len(rows)), items)
    sub = pick(rng, normalised_cdf(sub_weights(people, item_rows)))
    product = user_products(people, catalog, rows)[item_user, sub]
    quantity = np.array(QUANTITIES)[pick(rng, np.cumsum([QUANTITY_WEIGHTS["default"]], axis=1)
                                         .repeat(len(item_rows), axis=0))]
    return items, product, quantity


def top_up(items: np.ndarray, price: np.ndarray, quantity: np.ndarray, redeem: np.ndarray,
           min_spend: np.ndarray) -> np.ndarray:
    """Quantities with each redeeming order's first product raised until the order reaches the minimum spend."""
    first = np.cumsum(items) - items
    basket = np.add.reduceat(price * quantity, first) if len(items) else np.zeros(0)
    short = redeem & (basket < min_spend)
    extra = np.ceil((min_spend - basket) / price[first]).clip(0)
    quantity = quantity.copy()
    quantity[first[short]] += extra[short].astype(np.int64)
    return quantity


def order_events(rng: np.random.Generator, items: np.ndarray, redeem: np.ndarray, start_ms: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Event rows of the orders: order, kind (ORDER_KINDS index), item index and time (ms)."""
    counts = np.stack([items, items, redeem.astype(np.int64), items], axis=1)
    order, kind, rank, _ = expand(counts)
    item = (np.cumsum(items) - items)[order] + np.where(kind == ORDER_KINDS.index("coupon_redeem"), 0, rank)
    gap = np.array([GAP_SECONDS[k] for k in ORDER_KINDS])[kind]
    total = np.cumsum((1000.0 * (1.0 + rng.exponential(gap))).astype(np.int64))
    first_row = np.searchsorted(order, np.arange(len(items)))
    return order, kind, item, start_ms[order] + total - total[first_row][order]


def order_starts(rng: np.random.Generator, people: Population, rows: np.ndarray, start: date, days: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Day number and start (ms from the first day's midnight) of each order, kept an hour inside its day."""
    day = order_days(rng, len(rows), start, days)
    hour = (people.peak_hour[rows] + rng.normal(0.0, HOUR_SPREAD, len(rows))) % 24
    return day, day * DAY_MS + np.minimum((hour * 3_600_000).astype(np.int64), DAY_MS - 3_600_000)


def shop_channels(rng: np.random.Generator, people: Population, rows: np.ndarray, campaign_channel: np.ndarray,
                  treated: np.ndarray) -> np.ndarray:
    """Channel of each order: the campaign's when a treated user came through a shop channel, else the persona's."""
    persona = np.array(SHOP_CHANNELS, dtype=object)[pick(rng, cdf_table([p.channels for p in PERSONAS],
                                                                        SHOP_CHANNELS)[people.persona[rows]])]
    via_campaign = treated & np.isin(campaign_channel, SHOP_CHANNELS)
    return np.where(via_campaign, campaign_channel, persona)


def simulate_response(people: Population, catalog: Catalog, assignments: pd.DataFrame, start: date, days: int,
                      seed: int, run_id: str, respond: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, truth) of a campaign's users over `days` from `start`.

    events: RESPONSE_EVENT_COLUMNS plus FILE_DAY (day number), sorted by time; truth: response.TRUTH_COLUMNS
    plus `converted` (the drawn outcome).
    """
    truth = true_effects(people, catalog, assignments, start, days, respond)
    rng = np.random.default_rng(seed)
    treated = (truth["arm"] == "treated").to_numpy()
    converted = rng.random(len(truth)) < np.where(treated, truth["p_treated"], truth["p_untreated"])
    truth["converted"] = converted
    buyers = truth[converted].reset_index(drop=True)
    rows = user_rows(people, buyers["user_id"])
    items, product, quantity = order_items(rng, people, catalog, rows)
    redeem = (buyers["arm"] == "treated").to_numpy() & (rng.random(len(buyers)) < buyers["redeem_share"].to_numpy())
    price = catalog.price[product]
    quantity = top_up(items, price, quantity, redeem, np.nan_to_num(buyers["min_spend"].to_numpy(dtype=float)))
    day, start_ms = order_starts(rng, people, rows, start, days)
    channel = shop_channels(rng, people, rows, buyers["channel"].to_numpy(dtype=object),
                            (buyers["arm"] == "treated").to_numpy())
    order, kind, item, time_ms = order_events(rng, items, redeem, start_ms)
    return events_frame(catalog, buyers, (order, kind, item, time_ms), (product, price, quantity), channel,
                        start, run_id), truth


def events_frame(catalog: Catalog, buyers: pd.DataFrame, layout: tuple[np.ndarray, ...], basket: tuple[np.ndarray, ...],
                 channel: np.ndarray, start: date, run_id: str) -> pd.DataFrame:
    """Canonical event rows (RESPONSE_EVENT_COLUMNS + FILE_DAY) of the orders, sorted by time."""
    order, kind, item, time_ms = layout
    product, price, quantity = basket
    sequence = np.lexsort((np.arange(len(order)), time_ms))
    order, kind, item, time_ms = order[sequence], kind[sequence], item[sequence], time_ms[sequence]
    is_redeem = kind == ORDER_KINDS.index("coupon_redeem")
    has_product = ~is_redeem
    tag = id_tag(run_id)
    first = np.datetime64(start.isoformat(), "ms")
    frame = pd.DataFrame({
        "event_id": ids(f"e{tag}_", np.arange(len(order)), 8),
        "event_time": iso_utc(first + time_ms.astype("timedelta64[ms]")),
        "user_id": buyers["user_id"].to_numpy(dtype=object)[order],
        "session_id": ids(f"s{tag}_", order, 7),
        "event_type": np.array(ORDER_KINDS, dtype=object)[kind],
        "product_id": np.where(has_product, catalog.product_id[product[item]], None),
        "category": np.where(has_product, np.array(SUB_CATEGORIES, dtype=object)[catalog.sub[product[item]]], None),
        "brand": np.where(has_product, catalog.brand[product[item]], None),
        "price": np.where(has_product, price[item], np.nan),
        "quantity": np.where(kind == ORDER_KINDS.index("purchase"), quantity[item], 1).astype(np.int64),
        "channel": channel[order],
        "coupon_code": np.where(is_redeem, buyers["coupon_code"].to_numpy(dtype=object)[order], None),
        FILE_DAY: time_ms // DAY_MS,
    })
    return frame[[*RESPONSE_EVENT_COLUMNS, FILE_DAY]]
