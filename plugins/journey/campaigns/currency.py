"""The currency of campaign money amounts (budget, coupon values and costs): a setting, EUR by default.

Amounts are plain numbers in one currency per installation; `JOURNEY_CURRENCY` (an ISO-4217 code)
names it for the trigger form's titles and the run reports. Nothing is converted.
"""

from __future__ import annotations

import os
import re

from journey.errors import ConfigError

CURRENCY_ENV = "JOURNEY_CURRENCY"
DEFAULT_CURRENCY = "EUR"
ISO_4217 = re.compile(r"^[A-Z]{3}$")


def campaign_currency(environ: dict[str, str] | None = None) -> str:
    """The configured currency code; a value that is not three capital letters fails naming the variable."""
    code = (os.environ if environ is None else environ).get(CURRENCY_ENV) or DEFAULT_CURRENCY
    if not ISO_4217.match(code):
        raise ConfigError(f"{CURRENCY_ENV} must be an ISO-4217 code of three capital letters (EUR, USD, GBP), "
                          f"got {code!r}")
    return code
