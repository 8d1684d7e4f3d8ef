"""Vectorised random-draw helpers shared by the generator's steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from journey.datagen.world import PERSONAS


def cdf_table(weights: Sequence[Mapping[str, float]], keys: Sequence[str]) -> np.ndarray:
    """Cumulative probabilities over `keys`, one row per weight mapping (missing keys weigh 0)."""
    table = np.array([[w.get(k, 0.0) for k in keys] for w in weights], dtype=float)
    return normalised_cdf(table)


def normalised_cdf(weights: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities of a non-negative weight matrix."""
    cdf = np.cumsum(weights, axis=1)
    return cdf / cdf[:, -1:]


def choose(rng: np.random.Generator, weights: Mapping[str, float], size: int) -> np.ndarray:
    """`size` draws of a key's position in `weights` (weights need not sum to 1)."""
    p = np.array(list(weights.values()), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def pick(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One categorical draw (column number) per row of a cumulative-probability matrix."""
    below = (rng.random(len(cdf))[:, None] >= cdf).sum(axis=1)
    return np.minimum(below, cdf.shape[1] - 1)


def persona_values(field: str) -> np.ndarray:
    """One attribute of every persona, in PERSONAS order."""
    return np.array([getattr(p, field) for p in PERSONAS], dtype=float)


def beta_around(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    """Beta draws with the given means (clipped to 0.02-0.98) and a shared concentration."""
    mean = np.clip(mean, 0.02, 0.98)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration)


def ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded text ids ('u000042') as an object array."""
    if len(numbers) == 0:
        return np.array([], dtype=object)
    digits = np.strings.zfill(np.asarray(numbers).astype(np.int64).astype(str), width)
    return np.strings.add(prefix, digits).astype(object)
