"""The product catalogue and the user base (with each user's latent persona and traits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from journey.datagen.draw import beta_around, choose, ids, normalised_cdf, persona_values, pick
from journey.datagen.world import (
    BRANDS,
    BUY_SPREAD,
    CATEGORY_TREE,
    CONSENT_RATES,
    CONSUMABLES,
    COUNTRIES,
    COUPON_CONCENTRATION,
    EDITIONS,
    MARGIN_RANGE,
    NOUNS,
    PERSONAS,
    PRICE_CONCENTRATION,
    PRICE_SPREAD,
    QUALIFIERS,
    SIGNUP_HISTORY_DAYS,
    SIGNUP_INSIDE_WINDOW,
    STAPLES_PER_USER,
    SUB_CATEGORIES,
    TASTE_CONCENTRATION,
    TASTE_FLOOR,
    TOP_CATEGORIES,
    VISIT_SPREAD,
)
from journey.schemas import PRODUCT_COLUMNS, USER_COLUMNS

SUB_TOP = np.array([TOP_CATEGORIES.index(s.split(".")[0]) for s in SUB_CATEGORIES])  # sub → top number


@dataclass(frozen=True)
class Catalog:
    """Products as arrays; rows are sorted by sub-category, then price (row = product number)."""

    table: pd.DataFrame  # products.csv content (PRODUCT_COLUMNS), in product_id order
    product_id: np.ndarray
    brand: np.ndarray
    sub: np.ndarray  # sub-category number (index into SUB_CATEGORIES)
    price: np.ndarray
    sub_start: np.ndarray  # first row of each sub-category
    sub_size: np.ndarray  # number of rows of each sub-category

    def at_quantile(self, sub: np.ndarray, quantile: np.ndarray) -> np.ndarray:
        """Product row at a price quantile (0 = cheapest, 1 = dearest) of each given sub-category."""
        offset = np.minimum((quantile * self.sub_size[sub]).astype(np.int64), self.sub_size[sub] - 1)
        return self.sub_start[sub] + offset


def product_count(users: int) -> int:
    """Catalogue size: about 2,000 for 20,000 users, growing slowly with users (500 to 5,000)."""
    return int(np.clip(round(2000 * (users / 20_000) ** 0.25), 500, 5000))


def _titles(rng: np.random.Generator, sub: np.ndarray, brand: np.ndarray) -> list[str]:
    """Readable product titles: brand, qualifier, noun and an optional edition."""
    names = [s.split(".") for s in SUB_CATEGORIES]
    draws = rng.integers(0, 1 << 30, size=(len(sub), 3))
    titles = []
    for (top, leaf), b, (q, n, e) in zip((names[s] for s in sub), brand, draws, strict=True):
        words = (b, QUALIFIERS[top][q % len(QUALIFIERS[top])], NOUNS[leaf][n % len(NOUNS[leaf])], EDITIONS[e % len(EDITIONS)])
        titles.append(" ".join(w for w in words if w))
    return titles


def make_catalog(rng: np.random.Generator, count: int) -> Catalog:
    """Products over every sub-category with lognormal prices, brands, titles and margins."""
    subs = len(SUB_CATEGORIES)
    sub = np.sort(np.concatenate([np.arange(subs), rng.integers(0, subs, count - subs)]))
    medians = np.array([CATEGORY_TREE[t][s] for t, s in (x.split(".") for x in SUB_CATEGORIES)])
    price = np.round(medians[sub] * rng.lognormal(0.0, PRICE_SPREAD, count), 2).clip(0.5)
    order = np.lexsort((price, sub))
    sub, price = sub[order], price[order]
    top = SUB_TOP[sub]
    brand = np.array([BRANDS[TOP_CATEGORIES[t]][i % len(BRANDS[TOP_CATEGORIES[t]])]
                      for t, i in zip(top, rng.integers(0, 1 << 30, count), strict=True)], dtype=object)
    low, high = (np.array([MARGIN_RANGE[t][i] for t in TOP_CATEGORIES])[top] for i in (0, 1))
    product_id = ids("p", rng.permutation(count), 5)
    table = pd.DataFrame({
        "product_id": product_id,
        "title": _titles(rng, sub, brand),
        "category": np.array(SUB_CATEGORIES, dtype=object)[sub],
        "brand": brand,
        "price": price,
        "margin": np.round(low + (high - low) * rng.random(count), 3),
    }, columns=list(PRODUCT_COLUMNS)).sort_values("product_id", ignore_index=True)
    sub_start = np.searchsorted(sub, np.arange(subs))
    return Catalog(table, product_id, brand, sub, price, sub_start, np.diff(np.append(sub_start, count)))


@dataclass(frozen=True)
class Population:
    """Users as arrays: public attributes plus the latent traits that drive their behaviour."""

    table: pd.DataFrame  # users.csv content (USER_COLUMNS)
    user_id: np.ndarray
    persona: np.ndarray  # index into PERSONAS
    signup_day: np.ndarray  # days relative to the window's first day (negative: before it)
    taste: np.ndarray  # (users, top categories) shares summing to 1
    price_level: np.ndarray  # 0 = cheapest end of a sub-category, 1 = dearest
    visits_per_day: np.ndarray
    buy: np.ndarray
    coupon: np.ndarray
    peak_hour: np.ndarray
    staples: np.ndarray  # (users, STAPLES_PER_USER) product rows bought again and again


def _signup_days(rng: np.random.Generator, persona: np.ndarray, days: int) -> np.ndarray:
    """Signup day per user: mostly up to two years before the window, some inside it (never lapsed users)."""
    lapsed = np.array([p.active_days is not None for p in PERSONAS])[persona]
    inside = (rng.random(len(persona)) < SIGNUP_INSIDE_WINDOW) & ~lapsed
    return np.where(inside, rng.integers(0, days, len(persona)), -rng.integers(1, SIGNUP_HISTORY_DAYS + 1, len(persona)))


def _tastes(rng: np.random.Generator, persona: np.ndarray) -> np.ndarray:
    """Each user's category taste: Dirichlet draws concentrated around the persona's weights."""
    mean = np.array([[p.taste.get(t, 0.0) for t in TOP_CATEGORIES] for p in PERSONAS])
    alpha = TASTE_CONCENTRATION * (mean / mean.sum(axis=1, keepdims=True)) + TASTE_FLOOR
    draws = rng.gamma(alpha[persona])
    return draws / draws.sum(axis=1, keepdims=True)


def _staples(rng: np.random.Generator, catalog: Catalog, taste: np.ndarray, price_level: np.ndarray) -> np.ndarray:
    """Consumable products each user rebuys, from sub-categories their taste favours."""
    consumables = np.array([SUB_CATEGORIES.index(s) for s in CONSUMABLES])
    weights = taste[:, SUB_TOP[consumables]] + 0.02
    rows = np.repeat(np.arange(len(taste)), STAPLES_PER_USER)
    sub = consumables[pick(rng, normalised_cdf(weights)[rows])]
    quantile = beta_around(rng, price_level[rows] - 0.1, PRICE_CONCENTRATION)
    return catalog.at_quantile(sub, quantile).reshape(len(taste), STAPLES_PER_USER)


def _public_table(rng: np.random.Generator, user_id: np.ndarray, signup: np.ndarray, start: date) -> pd.DataFrame:
    """users.csv: id, signup date, weighted country and consent flags as true/false text."""
    count = len(user_id)
    first = np.datetime64(start.isoformat(), "D")
    table = pd.DataFrame({
        "user_id": user_id,
        "signup_date": np.datetime_as_string(first + signup.astype("timedelta64[D]"), unit="D").astype(object),
        "country": np.array(list(COUNTRIES), dtype=object)[choose(rng, COUNTRIES, count)],
    })
    for column, rate in CONSENT_RATES.items():
        table[column] = np.where(rng.random(count) < rate, "true", "false").astype(object)
    return table[list(USER_COLUMNS)]


def make_population(rng: np.random.Generator, count: int, catalog: Catalog, start: date, days: int) -> Population:
    """Users with a persona each and latent traits drawn around the persona's."""
    persona = choose(rng, {p.name: p.share for p in PERSONAS}, count)
    user_id = ids("u", np.arange(count), 6)
    signup = _signup_days(rng, persona, days)
    taste = _tastes(rng, persona)
    a, b = (np.array([p.price_level[i] for p in PERSONAS]) for i in (0, 1))
    price_level = rng.beta(a[persona], b[persona])
    return Population(
        table=_public_table(rng, user_id, signup, start),
        user_id=user_id,
        persona=persona,
        signup_day=signup,
        taste=taste,
        price_level=price_level,
        visits_per_day=persona_values("visits_per_day")[persona] * rng.lognormal(0.0, VISIT_SPREAD, count),
        buy=persona_values("buy")[persona] * rng.lognormal(0.0, BUY_SPREAD, count),
        coupon=beta_around(rng, persona_values("coupon")[persona], COUPON_CONCENTRATION),
        peak_hour=persona_values("peak_hour")[persona] + rng.normal(0.0, 1.5, count),
        staples=_staples(rng, catalog, taste, price_level),
    )
