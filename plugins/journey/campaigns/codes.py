"""Coupon codes: unique per (campaign, user, offer) and the same on every rerun.

Code = "J" + the first 15 hex digits (60 bits, upper case) of SHA-256("campaign:user:offer").
`coupon_code` (Python) and `coupon_code_column` (Spark built-ins, no UDF) give the same text.
At 1M codes a collision has a probability below 1 in 10^6; the assignment gate checks
uniqueness anyway.
"""

from __future__ import annotations

import hashlib

CODE_PREFIX = "J"
CODE_HEX = 15


def coupon_code(campaign_id: str, user_id: str, offer: str) -> str:
    """The code of one assignment, e.g. J3FA09C1D2E4B7A6."""
    digest = hashlib.sha256(f"{campaign_id}:{user_id}:{offer}".encode()).hexdigest()
    return CODE_PREFIX + digest[:CODE_HEX].upper()


def coupon_code_column(campaign_id: str, user_column: str = "user_id", offer_column: str = "offer_name"):
    """Spark column with the same code as `coupon_code`."""
    from pyspark.sql import functions as F

    text = F.concat(F.lit(f"{campaign_id}:"), F.col(user_column), F.lit(":"), F.col(offer_column))
    return F.concat(F.lit(CODE_PREFIX), F.upper(F.substring(F.sha2(text, 256), 1, CODE_HEX)))
