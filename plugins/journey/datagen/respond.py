"""`journey generate --respond-to RUN`: continue a generated world after a published campaign run.

Reads the run's treated users (coupon_assignments, with the creative and channel of its
ad_assignments; ad-only users count as treated without a coupon) and its held-out users
(campaign_holdout) from the warehouse, regenerates the world from the data set's
ground_truth/world.json (the generator is deterministic; the personas are checked against
ground_truth/personas.parquet), adds the world's other users (arm 'untargeted': they keep
buying at their baseline, so the next days are a whole shop's, not only the campaign's), simulates the `days` after max(the run's snapshot date, the
window's last day) with response_events.simulate_response, and writes
    <out>/events/events-YYYY-MM-DD.parquet          one per simulated day (as `journey generate`)
    <out>/ground_truth/effects/<run_id>.parquet     response.TRUTH_COLUMNS + converted
A day file already holding another run's simulated events is not overwritten (InputError).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from journey.datagen import WORLD_FILE
from journey.datagen.catalog import Catalog, Population, make_catalog, make_population, product_count
from journey.datagen.output import EVENT_SCHEMA, FILE_DAY, write_frame
from journey.datagen.response_events import RESPONSE_EVENT_COLUMNS, id_tag, simulate_response
from journey.datagen.world import PERSONAS
from journey.errors import DataError, InputError, MissingInputError

COUPONS_SQL = """
SELECT DISTINCT ON (c.user_id) c.user_id, c.kind, c.offer_value, c.min_spend, c.coupon_code, c.channel,
       a.creative_id, c.snapshot_date
FROM journey.coupon_assignments c
LEFT JOIN journey.ad_assignments a USING (campaign_id, run_id, user_id)
WHERE c.run_id = %(run)s
ORDER BY c.user_id, c.expected_value DESC, c.offer_name
"""
ADS_ONLY_SQL = """
SELECT a.user_id, a.channel, a.creative_id, a.snapshot_date
FROM journey.ad_assignments a
WHERE a.run_id = %(run)s AND NOT EXISTS (SELECT 1 FROM journey.coupon_assignments c
    WHERE c.campaign_id = a.campaign_id AND c.run_id = a.run_id AND c.user_id = a.user_id)
"""
HOLDOUT_SQL = "SELECT user_id, snapshot_date FROM journey.campaign_holdout WHERE run_id = %(run)s"
CAMPAIGNS_SQL = "SELECT DISTINCT campaign_id FROM journey.campaigns WHERE run_id = %(run)s"


@dataclass(frozen=True)
class World:
    """A regenerated data set: its catalogue, its people and the last day of its window."""

    catalog: Catalog
    people: Population
    end_date: date


@dataclass(frozen=True)
class ResponseSummary:
    """What --respond-to wrote, for the CLI's summary."""

    run_id: str
    treated: int
    holdout: int
    untargeted: int  # the world's users outside the campaign (baseline orders only)
    true_effect: float  # mean true effect over the treated
    converted_treated: float
    converted_holdout: float
    events: int
    start_date: date
    end_date: date
    events_dir: Path
    truth_path: Path
    seconds: float


def load_world(data: Path) -> World:
    """Regenerate the world of a `journey generate` folder and check it against its personas file."""
    spec_path, personas_path = data / "ground_truth" / WORLD_FILE, data / "ground_truth" / "personas.parquet"
    for path in (spec_path, personas_path):
        if not path.exists():
            raise MissingInputError(f"{path} not found: --data must be a folder written by `journey generate` "
                                    "(this version writes ground_truth/world.json)")
    spec = json.loads(spec_path.read_text())
    end = date.fromisoformat(spec["end_date"])
    rng = np.random.default_rng(spec["seed"])
    catalog = make_catalog(rng, product_count(spec["users"]))
    people = make_population(rng, spec["users"], catalog, end - timedelta(days=spec["days"] - 1), spec["days"])
    written = pd.read_parquet(personas_path)
    names = np.array([p.name for p in PERSONAS], dtype=object)[people.persona]
    if len(written) != len(names) or not (written["persona"].to_numpy() == names).all():
        raise DataError(f"{personas_path} does not match the world regenerated from {spec_path} ({spec}); "
                        "was the folder written by another version of the generator?")
    return World(catalog, people, end)


def read_campaign(conn, run_id: str) -> tuple[pd.DataFrame, date]:
    """The run's assignments (response.ASSIGNMENT_COLUMNS) and its snapshot date, from the warehouse."""
    from journey.warehouse import fetch_all

    campaigns = fetch_all(conn, CAMPAIGNS_SQL, {"run": run_id})
    if len(campaigns) > 1:
        raise InputError(f"run {run_id!r} belongs to several campaigns ({', '.join(c for (c,) in campaigns)})")
    coupons = pd.DataFrame(fetch_all(conn, COUPONS_SQL, {"run": run_id}),
                           columns=["user_id", "kind", "offer_value", "min_spend", "coupon_code", "channel",
                                    "creative_id", "snapshot_date"])
    ads = pd.DataFrame(fetch_all(conn, ADS_ONLY_SQL, {"run": run_id}),
                       columns=["user_id", "channel", "creative_id", "snapshot_date"])
    holdout = pd.DataFrame(fetch_all(conn, HOLDOUT_SQL, {"run": run_id}), columns=["user_id", "snapshot_date"])
    if coupons.empty and ads.empty:
        raise MissingInputError(f"campaign run {run_id!r} has no assignments in the warehouse "
                                "(see journey.campaign_runs_current for the published runs)")
    treated = pd.concat([coupons, ads], ignore_index=True).assign(arm="treated")
    frame = pd.concat([treated, holdout.assign(arm="holdout")], ignore_index=True)
    snapshot = max(pd.to_datetime(frame["snapshot_date"]).dt.date)
    frame = frame.sort_values("user_id", ignore_index=True)
    return frame[["user_id", "arm", "kind", "offer_value", "min_spend", "coupon_code", "channel", "creative_id"]], snapshot


def with_untargeted(assignments: pd.DataFrame, people: Population) -> pd.DataFrame:
    """The campaign's rows followed by one 'untargeted' row per other user of the world (in id order)."""
    rest = people.user_id[~pd.Index(people.user_id).isin(assignments["user_id"])]
    extra = pd.DataFrame({"user_id": rest, "arm": "untargeted"}).reindex(columns=assignments.columns)
    return pd.concat([assignments, extra], ignore_index=True)


def write_days(events: pd.DataFrame, folder: Path, start: date, days: int, run_id: str) -> list[Path]:
    """One Parquet file per simulated day; refuses to overwrite a day file of the world or of another run."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"events-{(start + timedelta(days=d)).isoformat()}.parquet" for d in range(days)]
    own_prefix = f"e{id_tag(run_id)}_"
    for path in paths:
        if path.exists():
            first = pq.read_table(path, columns=["event_id"]).column("event_id").to_pylist()[:1]
            if first and not first[0].startswith(own_prefix):
                raise InputError(f"{path} already holds other events (not run {run_id!r}'s); "
                                 "write the response to another --out")
    schema = pa.schema([EVENT_SCHEMA.field(c) if c in EVENT_SCHEMA.names else pa.field(c, pa.string())
                        for c in RESPONSE_EVENT_COLUMNS])
    day = events[FILE_DAY].to_numpy()
    for number, path in enumerate(paths):
        part = events.loc[day == number, list(RESPONSE_EVENT_COLUMNS)]
        pq.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False), path)
    return paths


def respond_to_campaign(conn, run_id: str, data: Path, out: Path, days: int, seed: int, respond: bool = True,
                        progress: Callable[[str], None] | None = None) -> ResponseSummary:
    """Simulate the `days` after campaign run `run_id` and write events and truth under `out`."""
    started, say = time.perf_counter(), progress or (lambda _message: None)
    world = load_world(Path(data))
    say(f"world: {len(world.people.user_id):,} users, {len(world.catalog.table):,} products, window ends {world.end_date}")
    assignments, snapshot = read_campaign(conn, run_id)
    start = max(snapshot, world.end_date) + timedelta(days=1)
    say(f"campaign run {run_id}: {int((assignments['arm'] == 'treated').sum()):,} treated, "
        f"{int((assignments['arm'] == 'holdout').sum()):,} held out; simulating {start} .. "
        f"{start + timedelta(days=days - 1)}")
    everyone = with_untargeted(assignments, world.people)
    events, truth = simulate_response(world.people, world.catalog, everyone, start, days, seed, run_id, respond)
    out = Path(out)
    write_days(events, out / "events", start, days, run_id)
    truth_path = out / "ground_truth" / "effects" / f"{run_id}.parquet"
    write_frame(truth, truth_path)
    treated, held = truth["arm"] == "treated", truth["arm"] == "holdout"
    return ResponseSummary(run_id, int(treated.sum()), int(held.sum()), int((truth["arm"] == "untargeted").sum()),
                           float(truth.loc[treated, "true_effect"].mean()),
                           float(truth.loc[treated, "converted"].mean()), float(truth.loc[held, "converted"].mean()),
                           len(events), start, start + timedelta(days=days - 1), out / "events", truth_path,
                           time.perf_counter() - started)
