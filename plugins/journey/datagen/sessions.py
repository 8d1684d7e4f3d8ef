"""Sessions: how many each user has, on which day and hour, in which scene and from which channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from journey.datagen.catalog import Population
from journey.datagen.draw import cdf_table, persona_values, pick
from journey.datagen.world import FUTURE_DAYS, PERSONAS, SHOP_CHANNELS, WEEKDAY_TRAFFIC
from journey.schemas import SCENES

DAY_MS = 86_400_000
HOUR_SPREAD = 2.5  # hours around a user's peak hour


@dataclass(frozen=True)
class Sessions:
    """One entry per session, in no particular order."""

    user: np.ndarray
    day: np.ndarray  # day number from the window's first day (>= window days: after the window)
    start_ms: np.ndarray  # wanted start, milliseconds from the window's first midnight (UTC)
    scene: np.ndarray  # index into SCENES
    channel: np.ndarray  # index into SHOP_CHANNELS


def traffic_curve(start: date, horizon: int) -> np.ndarray:
    """Cumulative weekday traffic at each day boundary (horizon + 1 values, starting at 0)."""
    weekday = (start.weekday() + np.arange(horizon)) % 7
    return np.concatenate([[0.0], np.cumsum(np.array(WEEKDAY_TRAFFIC)[weekday])])


def active_span(rng: np.random.Generator, people: Population, days: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """First and (exclusive) last active day per user: from signup until churn or the horizon.

    Lapsed users stop after their persona's active_days, and within the first half of the window.
    """
    count = len(people.persona)
    first = np.maximum(people.signup_day, 0)
    churns = rng.random(count) < persona_values("churn")[people.persona]
    end = np.where(churns, first + 1 + (rng.random(count) * (horizon - first)).astype(np.int64), horizon)
    for index, persona in enumerate(PERSONAS):
        if persona.active_days:
            low, high = persona.active_days
            lapsed = people.persona == index
            end[lapsed] = first[lapsed] + np.minimum(rng.integers(low, high + 1, lapsed.sum()), max(1, days // 2))
    return first, np.clip(end, first + 1, horizon)


def _session_days(rng: np.random.Generator, user: np.ndarray, first: np.ndarray, end: np.ndarray,
                  curve: np.ndarray) -> np.ndarray:
    """A day per session inside its user's active span, busier weekdays more likely."""
    low, high = curve[first[user]], curve[end[user]]
    day = np.searchsorted(curve, low + rng.random(len(user)) * (high - low), side="right") - 1
    return np.clip(day, first[user], end[user] - 1)


def make_sessions(rng: np.random.Generator, people: Population, start: date, days: int) -> Sessions:
    """Poisson session counts on each user's active span, spread by weekday traffic and peak hour.

    Sessions run past the window's `days` to FUTURE_DAYS after it (for the future ground truth).
    """
    horizon = days + FUTURE_DAYS
    first, end = active_span(rng, people, days, horizon)
    curve = traffic_curve(start, horizon)
    counts = rng.poisson(people.visits_per_day * (curve[end] - curve[first]))
    user = np.repeat(np.arange(len(counts)), counts)
    day = _session_days(rng, user, first, end, curve)
    hour = (people.peak_hour[user] + rng.normal(0.0, HOUR_SPREAD, len(user))) % 24
    persona = people.persona[user]
    scenes = cdf_table([p.scenes for p in PERSONAS], SCENES)
    channels = cdf_table([p.channels for p in PERSONAS], SHOP_CHANNELS)
    return Sessions(
        user=user,
        day=day,
        start_ms=day * DAY_MS + (hour * 3_600_000).astype(np.int64),
        scene=pick(rng, scenes[persona]),
        channel=pick(rng, channels[persona]),
    )
