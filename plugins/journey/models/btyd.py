"""Buy-till-you-die (BTYD) customer-base models: BG/NBD for purchases, Gamma-Gamma for spend.

What it answers, per customer, from nothing but dated purchase amounts: the probability that
the customer is still "alive" (`p_alive`), the expected number of repeat purchases in the next
`t` time units (`expected_purchases`) and, with the spend model, the expected value of those
purchases (`predicted_value`, undiscounted: expected purchases × expected average spend).

Models and sources:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to
  the Pareto/NBD model", Marketing Science 24(2). Likelihood eq. (6), P(alive) eq. (13) and
  the conditional expectation eq. (10). Fitted by maximum likelihood on log-parameters.
- Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer
  base analysis", JMR 42(4), and Colombo & Jiang (1999). Fitted on customers with repeat
  purchases; the conditional expected average spend is eq. (5) of the note
  "The Gamma-Gamma model of monetary value" (Fader & Hardie 2013).

Library or own code: own code on scipy. `lifetimes` (last release 0.11.3, 2020, unmaintained)
installs but fails on the pinned stack (numpy 2.4, pandas 2.3): on the CDNOW sample its own
summary gives a valid table but `BetaGeoFitter.fit` rejects it ("Some values in recency vector
are larger than T vector", none are). `btyd` (0.1a1, an alpha) pulls PyMC 4 / Aesara /
ArviZ / matplotlib (about 30 packages) for what is four closed-form likelihoods;
`pymc-marketing` is heavier still. The published likelihoods are short, so they are
implemented here and tested against the published CDNOW fit.

Conventions (those that reproduce the published CDNOW figures): one purchase per customer and
day (several lines on a day are one purchase, amounts summed); `frequency` x = number of
repeat purchase days; `recency` t_x = last − first purchase day; `T` = calibration end − first
purchase day; `monetary_value` = mean amount of the repeat purchase days (0 when none); all
times in units of `unit_days` days (7 for weeks).

Numerical care in eq. (10): the Gauss hypergeometric term ((α+T)/(α+T+t))^(r+x) · 2F1(r+x,
b+x; a+b+x−1; z) has parameters that grow with x, where `hyp2f1` overflows while the power
underflows. It is evaluated through Euler's transformation as the identical
(1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z), z = t/(α+T+t), whose first two parameters do not
depend on the customer. The formula divides by (a − 1): for |a − 1| < 1e-6 the value at
a = 1 ± 1e-6 is used (the expectation is continuous in a). A non-finite result raises
DataError rather than publishing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from journey.errors import DataError, InputError

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")
MIN_CUSTOMERS = 20
MIN_REPEAT_BUYERS = 5
A_NEAR_ONE = 1e-6


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD parameters: purchase rate λ ~ Gamma(shape r, rate alpha), dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")  # total over the fitted customers


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: spend per purchase ~ Gamma(p, ν), ν ~ Gamma(shape q, rate v)."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")  # total, without the constant Σ log x

    @property
    def population_mean_spend(self) -> float:
        """E[average spend] of a customer about whom nothing is known: p·v / (q − 1)."""
        return self.p * self.v / (self.q - 1.0)


# ---------------------------------------------------------------------------- input checks


def _column(values, name: str) -> np.ndarray:
    """`values` as float64, or an InputError naming the column when not finite or negative."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name}: not numbers ({error})") from None
    if array.ndim != 1:
        raise InputError(f"{name}: expected one value per customer, got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        raise InputError(f"{name}: {int(bad.sum())} value(s) not finite (first at position {int(np.argmax(bad))})")
    negative = array < 0
    if negative.any():
        first = int(np.argmax(negative))
        raise InputError(f"{name}: {int(negative.sum())} negative value(s) (first {array[first]} at position {first})")
    return array


def _same_length(**columns: np.ndarray) -> None:
    """InputError naming the columns when their lengths differ."""
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"columns of different lengths: {lengths}")


def _customer_history(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked (x, t_x, T): whole non-negative x, 0 ≤ t_x ≤ T, t_x = 0 when x = 0."""
    x, t_x, big_t = _column(frequency, "frequency"), _column(recency, "recency"), _column(T, "T")
    _same_length(frequency=x, recency=t_x, T=big_t)
    fractional = x != np.round(x)
    if fractional.any():
        raise InputError(f"frequency: {int(fractional.sum())} value(s) not whole numbers of repeat purchases "
                         f"(first {x[np.argmax(fractional)]} at position {int(np.argmax(fractional))})")
    after_end = t_x > big_t * (1 + 1e-12)
    if after_end.any():
        first = int(np.argmax(after_end))
        raise InputError(f"recency: {int(after_end.sum())} value(s) larger than T "
                         f"(first at position {first}: recency {t_x[first]} > T {big_t[first]})")
    lone = (x == 0) & (t_x > 0)
    if lone.any():
        raise InputError(f"recency: {int(lone.sum())} customer(s) with frequency 0 but recency > 0 "
                         f"(first at position {int(np.argmax(lone))}); recency is last − first purchase")
    return x, t_x, np.maximum(big_t, t_x)


# ---------------------------------------------------------------------------- RFM summary


def _purchase_days(transactions: pd.DataFrame, calibration_end) -> pd.DataFrame:
    """One row per (user_id, day) up to and including `calibration_end`, amounts summed."""
    missing = [c for c in ("user_id", "date", "amount") if c not in transactions.columns]
    if missing:
        raise InputError(f"transactions: missing column(s) {missing}; expected user_id, date, amount")
    try:
        days = pd.to_datetime(transactions["date"], format="ISO8601").dt.tz_localize(None).dt.normalize()
        end = pd.Timestamp(calibration_end).tz_localize(None).normalize()
    except (AttributeError, TypeError, ValueError) as error:  # AttributeError: mixed time zones, no .dt
        raise InputError(f"transactions.date / calibration_end: not dates ({error})") from None
    if days.isna().any():
        raise InputError(f"transactions.date: {int(days.isna().sum())} missing date(s)")
    if transactions["user_id"].isna().any():
        raise InputError(f"transactions.user_id: {int(transactions['user_id'].isna().sum())} missing id(s)")
    amount = _column(transactions["amount"], "transactions.amount")
    lines = pd.DataFrame({"user_id": transactions["user_id"].to_numpy(), "day": days.to_numpy(), "amount": amount})
    lines = lines[lines["day"] <= end]
    if lines.empty:
        raise DataError(f"no transactions on or before the calibration end {end.date()}")
    return lines.groupby(["user_id", "day"], as_index=False, sort=True)["amount"].sum()


def rfm_summary(transactions: pd.DataFrame, calibration_end, unit_days: float = 1.0) -> pd.DataFrame:
    """Per customer (user_id column): frequency, recency, T, monetary_value from dated amounts.

    `transactions` has columns user_id, date, amount (one row per order line); rows after
    `calibration_end` are ignored. Times are in units of `unit_days` days.
    """
    if not np.isfinite(unit_days) or unit_days <= 0:
        raise InputError(f"unit_days: must be a positive number of days, got {unit_days}")
    days = _purchase_days(transactions, calibration_end)
    end = pd.Timestamp(calibration_end).tz_localize(None).normalize()
    grouped = days.groupby("user_id", sort=True)
    first, last = grouped["day"].min(), grouped["day"].max()
    purchases, total = grouped["day"].size(), grouped["amount"].sum()
    first_amount = grouped["amount"].first()  # days are sorted, so this is the first day's amount
    repeats = purchases - 1
    spend = (total - first_amount) / repeats.where(repeats > 0)
    unit = pd.Timedelta(days=1) * unit_days
    return pd.DataFrame({
        "user_id": first.index.to_numpy(),
        "frequency": repeats.to_numpy(dtype=np.int64),
        "recency": ((last - first) / unit).to_numpy(dtype=np.float64),
        "T": ((end - first) / unit).to_numpy(dtype=np.float64),
        "monetary_value": spend.fillna(0.0).to_numpy(dtype=np.float64),
    })


# ---------------------------------------------------------------------------- fitting


def _fit_on_log_scale(negative_log_likelihood: Callable, starts: list[np.ndarray], model: str,
                      gradient: bool = False) -> tuple[np.ndarray, float]:
    """Minimise (with the analytic gradient when `gradient`: the function returns value, gradient)
    over log-parameters from the first start that converges inside the bounds, or DataError.

    The next start is tried only when an optimisation fails, ends on a bound or at a non-finite value.
    """
    best: tuple[np.ndarray, float] | None = None
    for start in starts:
        with np.errstate(all="ignore"):
            result = minimize(negative_log_likelihood, start, method="L-BFGS-B", jac=gradient,
                              bounds=[(-12.0, 12.0)] * len(start))
        if np.isfinite(result.fun) and result.fun < 1e300 and (best is None or result.fun < best[1]):
            best = (result.x, float(result.fun))
            if result.success and np.all(np.abs(result.x) < 12.0 - 1e-6):
                break
    if best is None or np.any(np.abs(best[0]) >= 12.0 - 1e-6):
        raise DataError(f"{model}: the likelihood has no finite maximum on this data "
                        f"(parameters {None if best is None else np.exp(best[0]).round(6).tolist()}); "
                        "too few or too uniform customers to fit")
    return np.exp(best[0]), -best[1]


def _distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the columns and how often each occurs (likelihood weights)."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(np.float64)


def bgnbd_log_likelihood(params: BGNBDParams, frequency, recency, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood, FHL 2005 eq. (6)."""
    x, t_x, big_t = _customer_history(frequency, recency, T)
    return _bgnbd_log_likelihood(params.r, params.alpha, params.a, params.b, x, t_x, big_t)


def _log_alive_term(r, alpha, x, s) -> np.ndarray:
    """log (α + s)^−(r+x): eq. (6)'s still-alive term at time s, without the common factors."""
    return -(r + x) * np.log(alpha + s)


def _log_dropped_term(r, alpha, a, b, x, t_x) -> np.ndarray:
    """log a/(b+x−1)·(α + t_x)^−(r+x): eq. (6)'s dropped-after-the-last-purchase term; −inf for x = 0."""
    repeat = x > 0
    with np.errstate(divide="ignore"):
        return np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                        + _log_alive_term(r, alpha, x, t_x), -np.inf)


def _bgnbd_log_likelihood(r, alpha, a, b, x, t_x, big_t) -> np.ndarray:
    """Eq. (6) in logs: common factors + (still-alive term ⊕ dropped term)."""
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    return common + np.logaddexp(_log_alive_term(r, alpha, x, big_t), _log_dropped_term(r, alpha, a, b, x, t_x))


def _bgnbd_log_likelihood_gradient(r, alpha, a, b, x, t_x, big_t) -> np.ndarray:
    """Per-customer derivatives of eq. (6) in logs with respect to log r, log α, log a, log b (4 × n)."""
    alive, dropped = _log_alive_term(r, alpha, x, big_t), _log_dropped_term(r, alpha, a, b, x, t_x)
    b_repeat = np.where(x > 0, b + x - 1, 1.0)
    w_dropped = np.exp(dropped - np.logaddexp(alive, dropped))
    w_alive = 1.0 - w_dropped
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha)
           - w_alive * np.log(alpha + big_t) - w_dropped * np.log(alpha + t_x))
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + big_t) + w_dropped / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + w_dropped / a
    d_b = digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b) - w_dropped / b_repeat
    return np.vstack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


def fit_bgnbd(frequency, recency, T, min_customers: int = MIN_CUSTOMERS) -> BGNBDParams:
    """BG/NBD maximum-likelihood fit (r, alpha, a, b) on per-customer x, t_x, T."""
    x, t_x, big_t = _customer_history(frequency, recency, T)
    if len(x) < min_customers:
        raise DataError(f"BG/NBD: {len(x)} customer(s), needs at least {min_customers}")
    repeaters = int((x > 0).sum())
    if repeaters < MIN_REPEAT_BUYERS:
        raise DataError(f"BG/NBD: {repeaters} of {len(x)} customers bought again (on a second day); "
                        f"needs at least {MIN_REPEAT_BUYERS} repeat buyers to estimate dropout")
    (ux, ut_x, ut), weights = _distinct_rows(x, t_x, big_t)

    def negative(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        value = -np.dot(weights, _bgnbd_log_likelihood(r, alpha, a, b, ux, ut_x, ut))
        gradient = -_bgnbd_log_likelihood_gradient(r, alpha, a, b, ux, ut_x, ut) @ weights
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return 1e300, np.zeros(4)
        return value, gradient

    scale = max(float(np.mean(big_t)), 1e-3)
    starts = [np.zeros(4), np.log([1.0, scale, 1.0, 1.0]), np.log([0.5, scale / 4, 0.5, 2.0])]
    (r, alpha, a, b), log_likelihood = _fit_on_log_scale(negative, starts, "BG/NBD", gradient=True)
    return BGNBDParams(float(r), float(alpha), float(a), float(b), log_likelihood)


# ---------------------------------------------------------------------------- BG/NBD predictions


def _horizon(t) -> float:
    """The forecast horizon as a float, or an InputError when negative or not finite."""
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise InputError(f"t (horizon): not a number: {t!r}") from None
    if not np.isfinite(t) or t < 0:
        raise InputError(f"t (horizon): must be a non-negative number of time units, got {t}")
    return t


def _odds_dropped(params: BGNBDParams, x, t_x, big_t) -> np.ndarray:
    """a/(b+x−1)·((α+T)/(α+t_x))^(r+x) for x > 0, 0 for x = 0: P(dropped)/P(alive) given the history."""
    r, alpha = params.r, params.alpha
    log_odds = _log_dropped_term(r, alpha, params.a, params.b, x, t_x) - _log_alive_term(r, alpha, x, big_t)
    return np.exp(np.minimum(log_odds, 700.0))


def p_alive(params: BGNBDParams, frequency, recency, T) -> np.ndarray:
    """P(customer still alive at T | x, t_x, T), FHL 2005 eq. (13); 1 for x = 0 by the model."""
    x, t_x, big_t = _customer_history(frequency, recency, T)
    return 1.0 / (1.0 + _odds_dropped(params, x, t_x, big_t))


def expected_purchases(params: BGNBDParams, t, frequency, recency, T) -> np.ndarray:
    """E[repeat purchases in (T, T + t] | x, t_x, T], FHL 2005 eq. (10) (see the module docstring)."""
    t = _horizon(t)
    x, t_x, big_t = _customer_history(frequency, recency, T)
    r, alpha, b = params.r, params.alpha, params.b
    a = params.a if abs(params.a - 1.0) >= A_NEAR_ONE else 1.0 + np.copysign(A_NEAR_ONE, params.a - 1.0)
    z = t / (alpha + big_t + t)
    with np.errstate(all="ignore"):
        power_times_2f1 = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        expected = ((a + b + x - 1.0) / (a - 1.0) * (1.0 - power_times_2f1)
                    / (1.0 + _odds_dropped(params, x, t_x, big_t)))
    bad = ~np.isfinite(expected)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(f"BG/NBD expected purchases not finite for {int(bad.sum())} customer(s) "
                        f"(first x={x[first]}, t_x={t_x[first]}, T={big_t[first]}, t={t}, params {params})")
    return np.maximum(expected, 0.0)


def probability_no_purchase(params: BGNBDParams, t, frequency, recency, T) -> np.ndarray:
    """P(no repeat purchase in (T, T + t] | x, t_x, T).

    A customer alive at T buys nothing in t with probability e^(−λt); one who dropped never
    buys. Integrating over the posterior of (λ, p) gives the ratio of the eq. (6) likelihood
    with the still-alive term taken at T + t instead of T, to the likelihood itself:
    [A(T + t) + D] / [A(T) + D], A(s) = (α + s)^−(r+x), D = a/(b+x−1)·(α + t_x)^−(r+x) (x > 0),
    the common factors cancelling. For x = 0 it is ((α+T)/(α+T+t))^r; as t → ∞ it tends to
    1 − p_alive.
    """
    t = _horizon(t)
    x, t_x, big_t = _customer_history(frequency, recency, T)
    r, alpha = params.r, params.alpha
    dropped = _log_dropped_term(r, alpha, params.a, params.b, x, t_x)
    later = np.logaddexp(_log_alive_term(r, alpha, x, big_t + t), dropped)
    return np.exp(later - np.logaddexp(_log_alive_term(r, alpha, x, big_t), dropped))


# ---------------------------------------------------------------------------- Gamma-Gamma


def _spend_history(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    """Checked (x, m): whole x ≥ 0, m ≥ 0, same length."""
    x, m = _column(frequency, "frequency"), _column(monetary_value, "monetary_value")
    _same_length(frequency=x, monetary_value=m)
    if (x != np.round(x)).any():
        raise InputError("frequency: values must be whole numbers of repeat purchases")
    return x, m


def _gamma_gamma_log_likelihood(p, q, v, x, m) -> np.ndarray:
    """Log density of the average spend m̄ of x purchases (x > 0, m̄ > 0), up to the constant log x."""
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
            + (p * x - 1.0) * np.log(m * x) - (p * x + q) * np.log(v + m * x))


def fit_gamma_gamma(frequency, monetary_value, min_customers: int = MIN_REPEAT_BUYERS) -> GammaGammaParams:
    """Gamma-Gamma maximum-likelihood fit (p, q, v) on the customers with repeat purchases."""
    x, m = _spend_history(frequency, monetary_value)
    buyers = x > 0
    spenders = buyers & (m > 0)
    if int(spenders.sum()) < min_customers:
        raise DataError(f"Gamma-Gamma: {int(spenders.sum())} customer(s) with repeat purchases of positive value, "
                        f"needs at least {min_customers}")
    (ux, um), weights = _distinct_rows(x[spenders], m[spenders])

    def negative(log_params: np.ndarray) -> float:
        p, q, v = np.exp(log_params)
        value = -np.dot(weights, _gamma_gamma_log_likelihood(p, q, v, ux, um))
        return value if np.isfinite(value) else 1e300

    scale = float(np.mean(um))
    starts = [np.zeros(3), np.log([1.0, 2.0, scale]), np.log([5.0, 3.0, scale])]
    (p, q, v), log_likelihood = _fit_on_log_scale(negative, starts, "Gamma-Gamma")
    if q <= 1.0:
        raise DataError(f"Gamma-Gamma: fitted q = {q:.3f} ≤ 1, so the spend distribution has no finite mean "
                        "(a few customers spend orders of magnitude more than the rest); cap or review the amounts")
    return GammaGammaParams(float(p), float(q), float(v), log_likelihood)


def expected_spend(params: GammaGammaParams, frequency, monetary_value) -> np.ndarray:
    """E[average spend per purchase | x, m̄]: (v + m̄x)·p / (px + q − 1); the population mean for x = 0."""
    x, m = _spend_history(frequency, monetary_value)
    p, q, v = params.p, params.q, params.v
    observed = np.where(x > 0, m * x, 0.0)
    return (v + observed) * p / (p * x + q - 1.0)


def predicted_value(bgnbd: BGNBDParams, gamma_gamma: GammaGammaParams, t, summary: pd.DataFrame) -> np.ndarray:
    """Expected purchase value in the next `t` units: expected purchases × expected spend (undiscounted)."""
    columns = _summary_columns(summary)
    purchases = expected_purchases(bgnbd, t, columns["frequency"], columns["recency"], columns["T"])
    return purchases * expected_spend(gamma_gamma, columns["frequency"], columns["monetary_value"])


# ---------------------------------------------------------------------------- scores


def _summary_columns(summary: pd.DataFrame) -> dict[str, np.ndarray]:
    """The RFM columns of a summary, or an InputError naming the missing ones."""
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise InputError(f"RFM summary: missing column(s) {missing}; expected {list(SUMMARY_COLUMNS)} (see rfm_summary)")
    return {c: summary[c].to_numpy() for c in SUMMARY_COLUMNS}


def btyd_scores(summary: pd.DataFrame, horizon, bgnbd: BGNBDParams | None = None,
                gamma_gamma: GammaGammaParams | None = None) -> pd.DataFrame:
    """p_alive, expected_purchases and predicted_value in the next `horizon` units, per user.

    Fits BG/NBD and Gamma-Gamma on `summary` (an `rfm_summary` frame) unless fitted
    parameters are given. Returns user_id (when the summary has it) and the three scores, in
    the summary's row order. Raises DataError when the feed cannot support a fit.
    """
    columns = _summary_columns(summary)
    bgnbd = bgnbd or fit_bgnbd(columns["frequency"], columns["recency"], columns["T"])
    gamma_gamma = gamma_gamma or fit_gamma_gamma(columns["frequency"], columns["monetary_value"])
    purchases = expected_purchases(bgnbd, horizon, columns["frequency"], columns["recency"], columns["T"])
    scores = pd.DataFrame({
        "p_alive": p_alive(bgnbd, columns["frequency"], columns["recency"], columns["T"]),
        "expected_purchases": purchases,
        "predicted_value": purchases * expected_spend(gamma_gamma, columns["frequency"], columns["monetary_value"]),
    }, index=summary.index)
    if "user_id" in summary.columns:
        scores.insert(0, "user_id", summary["user_id"].to_numpy())
    return scores
