"""The daily DAG for real on the outside formats: Online Retail order lines and a mapped export.

Both feeds are written from generated data (pandas, in this file); expected counts come from
reading those files with pandas, not from the code under test. The two runs use different
snapshot dates (2010 and 2026), so their profile windows do not overlap.
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

RETAIL_DAY = date(2010, 12, 3)
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


def write_order_lines(events: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Purchases as Online Retail lines; every 7th also cancelled; one line without a customer."""
    bought = events[events["event_type"] == "purchase"].reset_index(drop=True)
    lines = pd.DataFrame({
        "InvoiceNo": "5" + bought["session_id"].str[1:],
        "StockCode": bought["product_id"].str.upper(),
        "Description": "ITEM " + bought["product_id"].str.upper(),
        "Quantity": bought["quantity"].astype(int),
        "InvoiceDate": local_times(bought["event_time"], "Europe/London", "%-m/%-d/%Y %-H:%M"),
        "UnitPrice": bought["price"].round(2),
        "CustomerID": bought["user_id"].str[1:].astype(int).astype(float).astype(str),  # 17.0 style
        "Country": "United Kingdom",
    })
    cancelled = lines.iloc[::7].assign(InvoiceNo=lambda d: "C" + d["InvoiceNo"], Quantity=lambda d: -d["Quantity"])
    anonymous = lines.iloc[:1].assign(CustomerID="")
    table = pd.concat([lines, cancelled, anonymous], ignore_index=True)
    table.to_csv(path, index=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


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
    """A Journey home with both feeds written, a running embedded PostgreSQL and Airflow env."""
    root = tmp_path_factory.mktemp("e2e-formats")
    feeds = root / "feeds"
    feeds.mkdir()
    retail = write_order_lines(generated_events(root / "gen-2010", RETAIL_DAY), feeds / "online_retail.csv")
    export = write_export(generated_events(root / "gen-2026", MAPPED_DAY), feeds / "export.csv")
    (feeds / "shop.yaml").write_text(MAPPING, encoding="utf-8")
    with journey_stack(root / "home") as ready:
        yield ready.settings, ready.env, ready.log, feeds, retail, export


def fetch(settings, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of one query against the warehouse."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_order_lines_through_the_dag(stack):
    settings, env, log, feeds, retail, _ = stack
    conf = {"source": str(feeds / "online_retail.csv"), "format": "transactions", "k_min": 3, "k_max": 3}

    code = airflow_env.test_dag("journey_daily_profiles", RETAIL_DAY.isoformat(), conf, env, log)

    assert code == 0, Path(log).read_text()[-4000:]
    customers = retail.loc[retail["CustomerID"] != "", "CustomerID"].str.replace(".0", "", regex=False).nunique()
    duplicates = int(retail.duplicated().sum())
    assert fetch(settings, "SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs "
                           "WHERE format = 'transactions'") == [(len(retail), len(retail) - 1 - duplicates, 1,
                                                                 duplicates)]
    assert fetch(settings, "SELECT reason, rows FROM journey.quarantine_summary") == [("missing_user_id", 1)]
    assert fetch(settings, "SELECT count(*), sum(views), sum(carts), count(cart_abandonment_rate) "
                           "FROM journey.user_profiles") == [(customers, 0, 0, 0)]
    assert fetch(settings, "SELECT count(*) FROM journey.segment_history WHERE snapshot_date = %s",
                 (RETAIL_DAY,)) == [(customers,)]
    text = Path(log).read_text()
    assert "note: no view, add_to_cart events in the window" in text
    assert "note: feature(s) without variation" in text and "cart_abandonment_rate" in text
    assert f"products: {retail['StockCode'].nunique():,} titles from order-line descriptions" in text


def test_mapped_export_through_the_dag(stack):
    settings, env, log, feeds, _, export = stack
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
