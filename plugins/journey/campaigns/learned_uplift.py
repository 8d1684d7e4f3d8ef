"""Which uplift drives coupon valuation: the `uplift` model's champion when there is one, else the hand formula.

    users, source = with_learned_effect(settings, users)
    candidates(users, offers, margin_rate, source)      # campaigns/valuation.py

With a champion, every user gets `learned_effect` = the champion's pessimistic effect of being
treated (models/uplift_training: the mean of its bagged learners − PESSIMISM × their standard
deviation) ÷ the mean pull of the offers it was trained on, so that valuation's
`learned_effect × strength × reach` is that effect for an average offer and more or less for a
stronger or weaker one; and `learned_redeem` = its P(redeem | treated) (P(buy | treated) for a
model trained without redemptions), which prices what the coupon will cost (valuation.py). `source` ("uplift model vN" or "hand formula") is written
into each assignment's reason.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame

from journey.campaigns.valuation import HAND_FORMULA
from journey.config import Settings
from journey.models.uplift import UpliftLearner
from journey.models.uplift_training import UPLIFT_FEATURES, load_fitted

MODEL = "uplift"
PESSIMISM = 0.5  # standard deviations of the bagged learners' effects taken off their mean


def source_name(version: int) -> str:
    """The reason's name of an uplift champion."""
    return f"uplift model v{version}"


def learned_columns(frame: pd.DataFrame, learner: UpliftLearner, reference_pull: float,
                    pessimism: float = PESSIMISM) -> pd.DataFrame:
    """user_id, learned_effect ((mean − pessimism × spread) ÷ reference pull) and learned_redeem of profile rows."""
    features = frame[list(UPLIFT_FEATURES)]
    effects = learner.bag_effects(features)
    effect = effects.mean(axis=0) - pessimism * effects.std(axis=0)
    return pd.DataFrame({"user_id": frame["user_id"].to_numpy(), "learned_effect": effect / reference_pull,
                         "learned_redeem": learner.redeem_probability(features)})


def effect_frame(users: DataFrame, artifact: str) -> DataFrame:
    """user_id, learned_effect, learned_redeem of the users, scored by the saved model in `artifact`."""
    learner, reference_pull = load_fitted(artifact)
    frame = learned_columns(users.select("user_id", *UPLIFT_FEATURES).toPandas(), learner, reference_pull)
    return users.sparkSession.createDataFrame(frame, "user_id string, learned_effect double, learned_redeem double")


def with_champion(users: DataFrame, champion: dict | None) -> tuple[DataFrame, str]:
    """(users + learned_effect, source) with a registry champion row; (users, hand formula) without."""
    if champion is None:
        return users, HAND_FORMULA
    effects = effect_frame(users, champion["artifact_path"])
    return users.join(effects, "user_id", "left"), source_name(champion["version"])


def with_learned_effect(settings: Settings, users: DataFrame) -> tuple[DataFrame, str]:
    """The users with the uplift champion's effect and its source name, or unchanged with the hand formula."""
    from journey import warehouse
    from journey.models import registry

    with warehouse.connect(settings) as conn:
        champion = registry.champion(conn, MODEL)
    return with_champion(users, champion)
