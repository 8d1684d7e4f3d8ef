"""--respond-to's file side (no database): the world regenerated from world.json, day files never clobbered."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from journey.datagen import generate
from journey.datagen.respond import load_world, with_untargeted, write_days
from journey.datagen.response_events import simulate_response
from journey.errors import DataError, InputError, MissingInputError

USERS = 300


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    generate(out, users=USERS, days=4, seed=9)
    return out


def test_the_regenerated_world_is_the_generated_one(data):
    world = load_world(data)
    assert world.end_date == date(2026, 10, 31)
    assert list(world.people.user_id) == pd.read_csv(data / "users.csv")["user_id"].tolist()
    products = pd.read_csv(data / "products.csv").set_index("product_id")["price"]
    assert np.allclose(products[world.catalog.product_id].to_numpy(), world.catalog.price)


def test_a_folder_without_world_json_or_with_other_personas_is_refused(data, tmp_path):
    with pytest.raises(MissingInputError, match="world.json not found"):
        load_world(tmp_path)
    copy = tmp_path / "copy"
    (copy / "ground_truth").mkdir(parents=True)
    (copy / "ground_truth" / "world.json").write_bytes((data / "ground_truth" / "world.json").read_bytes())
    personas = pd.read_parquet(data / "ground_truth" / "personas.parquet")
    personas.assign(persona=personas["persona"].iloc[::-1].to_numpy()).to_parquet(copy / "ground_truth" / "personas.parquet")
    with pytest.raises(DataError, match="does not match the world regenerated"):
        load_world(copy)


def test_day_files_of_the_world_or_of_another_run_are_not_overwritten(data, tmp_path):
    world = load_world(data)
    everyone = with_untargeted(pd.DataFrame(columns=["user_id", "arm", "kind", "offer_value", "min_spend",
                                                     "coupon_code", "channel", "creative_id"]), world.people)
    assert (everyone["arm"] == "untargeted").sum() == USERS
    events, _ = simulate_response(world.people, world.catalog, everyone, date(2026, 10, 30), 2, 1, "run_a")
    with pytest.raises(InputError, match="events-2026-10-30.parquet already holds other events"):
        write_days(events, data / "events", date(2026, 10, 30), 2, "run_a")
    paths = write_days(events, tmp_path / "events", date(2026, 10, 30), 2, "run_a")
    assert [p.name for p in paths] == ["events-2026-10-30.parquet", "events-2026-10-31.parquet"]
    write_days(events, tmp_path / "events", date(2026, 10, 30), 2, "run_a")  # the same run again: fine
    with pytest.raises(InputError, match="not run 'run_b'"):
        write_days(events, tmp_path / "events", date(2026, 10, 30), 2, "run_b")
    written = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    assert len(written) == len(events) and written["event_time"].str[:10].isin(["2026-10-30", "2026-10-31"]).all()
