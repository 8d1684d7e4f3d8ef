"""The daily DAG for real on a mapped export (a German shop's layout, Berlin wall-clock times).

The feed is written from generated data (pandas, in this file); expected counts come from reading
it with pandas, not from the code under test. Order lines and the real samples (CDNOW, REES46) run
through `journey run daily` in test_real_feeds_dag.py.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from e2e_stack import journey_stack

from journey import warehouse
from journey.datagen import generate
from journey.orchestration import airflow_env

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.spark]

MAPPED_DAY = date(2026, 10, 31)
MAPPING = """
columns:
  ID: event_id
  Zeitpunkt: event_time
  Kunde: user_id
  Besuch: session_id
  Aktion: event_type
  Artikel: product_id
  Kategorie: category
  Marke: brand
  Preis: price
  Menge: quantity
timestamp:
  format: dd.MM.yyyy HH:mm:ss
  zone: Europe/Berlin
event_types:
  ansicht: view
  suche: search
  warenkorb: add_to_cart
  entfernt: remove_from_cart
  gutschein: coupon_redeem
  kauf: purchase
constants:
  channel: app
"""
GERMAN = {"view": "ansicht", "search": "suche", "add_to_cart": "warenkorb", "remove_from_cart": "entfernt",
          "coupon_redeem": "gutschein", "purchase": "kauf"}


def generated_events(folder: Path, end: date) -> pd.DataFrame:
    """Generated events (300 users, 3 days ending on `end`) as one pandas frame."""
    generate(folder, users=300, days=3, seed=5, end_date=end)
    return pd.concat(pd.read_parquet(p) for p in sorted((folder / "events").glob("*.parquet")))


def local_times(iso: pd.Series, zone: str, pattern: str) -> pd.Series:
    """UTC ISO texts as local wall-clock texts in a zone."""
    return pd.to_datetime(iso, utc=True, format="ISO8601").dt.tz_convert(zone).dt.strftime(pattern)


def write_export(events: pd.DataFrame, path: Path) -> pd.DataFrame:
    """All events in a German shop's export layout (Berlin wall-clock times)."""
    export = pd.DataFrame({
        "ID": events["event_id"],
        "Zeitpunkt": local_times(events["event_time"], "Europe/Berlin", "%d.%m.%Y %H:%M:%S"),
        "Kunde": events["user_id"],
        "Besuch": events["session_id"],
        "Aktion": events["event_type"].map(GERMAN),
        "Artikel": events["product_id"],
        "Kategorie": events["category"],
        "Marke": events["brand"],
        "Preis": events["price"],
        "Menge": events["quantity"],
    })
    export.to_csv(path, index=False)
    return export


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A Journey home with the export written, a running embedded PostgreSQL and Airflow env."""
    root = tmp_path_factory.mktemp("e2e-formats")
    feeds = root / "feeds"
    feeds.mkdir()
    export = write_export(generated_events(root / "gen-2026", MAPPED_DAY), feeds / "export.csv")
    (feeds / "shop.yaml").write_text(MAPPING, encoding="utf-8")
    with journey_stack(root / "home") as ready:
        yield ready.settings, ready.env, ready.log, feeds, export


def fetch(settings, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of one query against the warehouse."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_mapped_export_through_the_dag(stack):
    settings, env, log, feeds, export = stack
    conf = {"source": str(feeds / "export.csv"), "format": "mapped", "mapping": str(feeds / "shop.yaml"),
            "k_min": 3, "k_max": 3}

    code = airflow_env.test_dag("journey_daily_profiles", MAPPED_DAY.isoformat(), conf, env, log)

    assert code == 0, Path(log).read_text()[-4000:]
    assert fetch(settings, "SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs "
                           "WHERE format = 'mapped'") == [(len(export), len(export), 0, 0)]
    users = export["Kunde"].nunique()
    assert fetch(settings, "SELECT count(*), min(snapshot_date) FROM journey.user_segments") == [(users, MAPPED_DAY)]
    assert fetch(settings, "SELECT sum(purchases) FROM journey.user_profiles") == [
        (int((export["Aktion"] == "kauf").sum()),)]
