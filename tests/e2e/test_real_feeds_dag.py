"""Real feeds through `journey run daily`, unedited, as a new user runs them (issue 18).

(a) the CDNOW purchase log exactly as distributed (../shared/data/cdnow_sample.txt) with the mapping
    kept in docs/examples/cdnow.yaml; (b) the REES46 click-stream sample; (c) a year of generated
    order lines in the transactions format: a quarter guest lines, cancellations, a holiday lull and
    a partial last day. Each runs the real CLI in its own Journey home; what it publishes is compared
    with figures computed here from the raw files with pandas.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journey import warehouse
from journey.config import get_settings
from tests.samples import CDNOW_MAPPING, shared_sample

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.spark]

JOURNEY = str(Path(sys.executable).parent / "journey")
LAST_ORDER_DAY = date(2011, 12, 9)


def journey_run(home: Path, dag: str, *args: str) -> subprocess.CompletedProcess:
    """`journey run <dag> ...` in its own home, as a person types it; small Spark settings for the test box."""
    env = {**os.environ, "JOURNEY_HOME": str(home), "JOURNEY_SHUFFLE_PARTITIONS": "4",
           "JOURNEY_SPARK_DRIVER_MEMORY": "1g"}
    env.pop("JOURNEY_DB_URL", None)
    return subprocess.run([JOURNEY, "run", dag, *args], capture_output=True, text=True, env=env, timeout=1800)


def journey_train(settings, *args: str) -> subprocess.CompletedProcess:
    """`journey run train ...` in the home of an earlier daily run; fails the test with its output if it fails."""
    result = journey_run(settings.home, "train", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def run_feed(tmp_path_factory):
    """Runs one feed through the CLI in a fresh home; yields (result, settings); stops the servers afterwards."""
    homes = []

    def run(name: str, *args: str):
        home = tmp_path_factory.mktemp(name) / "home"
        homes.append(home)
        result = journey_run(home, "daily", *args)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result, get_settings({"JOURNEY_HOME": str(home)})

    yield run
    for home in homes:
        warehouse.stop_server(get_settings({"JOURNEY_HOME": str(home)}))


def fetch(settings, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of one query against that run's warehouse."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def task_log(settings) -> str:
    """The full log of the home's `journey run`."""
    return "\n".join(p.read_text() for p in sorted((settings.home / "logs").glob("run-*.log")))


def assert_a_person_can_follow(result: subprocess.CompletedProcess, settings) -> None:
    """Progress per task, a summary at the end, and Spark's start-up chatter out of the task log."""
    for task in ("ingest_events", "build_profiles", "segment_users", "publish", "report"):
        assert f"-> task {task}" in result.stdout
    assert "Summary:" in result.stdout and "Run report (open in a browser):" in result.stdout
    log = task_log(settings)
    assert "INFO SparkContext" not in log and "Calculating Metrics" not in log
    assert "INFO great_expectations" not in log


# --- (a) CDNOW as distributed -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cdnow(run_feed):
    """The CDNOW sample through the daily DAG, and the raw file read by pandas."""
    path = shared_sample("cdnow_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["full_id", "customer", "day", "cds", "dollars"],
                      dtype={"customer": str, "day": str})
    result, settings = run_feed("cdnow", "--source", str(path), "--format", "mapped",
                                "--mapping", str(CDNOW_MAPPING),
                                "--date", "1998-06-30", "--param", "k_min=3", "--param", "k_max=4")
    return result, settings, raw


def test_cdnow_every_line_is_curated_and_every_customer_profiled(cdnow):
    result, settings, raw = cdnow
    assert fetch(settings, "SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs") == [
        (len(raw), len(raw), 0, 0)]
    assert fetch(settings, "SELECT count(*) FROM journey.user_profiles") == [(raw["customer"].nunique(),)]
    assert fetch(settings, "SELECT count(*) FROM journey.user_segments") == [(2357,)]
    assert_a_person_can_follow(result, settings)


def test_cdnow_spend_and_orders_follow_the_file(cdnow):
    _, settings, raw = cdnow
    orders = raw.groupby("customer")["day"].nunique()  # orders: one per customer and day (the mapping's rule)
    [(spend, total_orders, repeat_buyers)] = fetch(
        settings, "SELECT sum(monetary), sum(frequency), count(*) FILTER (WHERE frequency >= 2) "
                  "FROM journey.user_profiles")
    assert round(spend, 2) == round(raw["dollars"].sum(), 2)
    assert int(total_orders) == int(orders.sum())  # sum() of a bigint column comes back as a Decimal
    assert repeat_buyers == int((orders >= 2).sum())


def test_cdnow_lifecycle_and_segments_use_the_feeds_own_cadence(cdnow):
    _, settings, _ = cdnow
    stages = dict(fetch(settings, "SELECT lifecycle_stage, count(*) FROM journey.user_profiles GROUP BY 1"))
    assert sum(stages.values()) == 2357
    assert stages.get("churned", 0) < 0.95 * 2357  # the generator's 21 days made 95 % churned
    names = [name for (name,) in fetch(settings, "SELECT segment_name FROM journey.segment_summary")]
    assert names and not [n for n in names if "brows" in n.lower() or "visitor" in n.lower()]


# --- (a') CDNOW: the train DAG on the calibration period, judged on the next 39 weeks -------------------

CALIBRATION_END = "1997-09-30"
TRAIN_PARAMS = ("--param", "horizon_days=273", "--param", "lookback_days=365", "--param", "min_history_days=30",
                "--param", "cutoff_step_days=14", "--param", "epochs=4")


@pytest.fixture(scope="module")
def cdnow_trained(run_feed):
    """CDNOW up to 1997-09-30 through the daily DAG, then the train DAG with a 39-week question; the raw
    file's holdout (1997-10-01 .. 1998-06-30) by customer, read with pandas."""
    path = shared_sample("cdnow_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["full_id", "customer", "day", "cds", "dollars"],
                      dtype={"customer": str, "day": str})
    _, settings = run_feed("cdnow-calibration", "--source", str(path), "--format", "mapped",
                           "--mapping", str(CDNOW_MAPPING), "--date", CALIBRATION_END,
                           "--param", "k_min=3", "--param", "k_max=4")
    result = journey_train(settings, "--date", CALIBRATION_END, *TRAIN_PARAMS)
    holdout = raw[raw["day"] > CALIBRATION_END.replace("-", "")]
    calibration = raw[raw["day"] <= CALIBRATION_END.replace("-", "")]
    truth = pd.DataFrame({"holdout_days": holdout.groupby("customer")["day"].nunique(),
                          "past_days": calibration.groupby("customer")["day"].nunique()}).fillna(0)
    return result, settings, truth


def test_cdnow_train_skips_what_the_feed_cannot_teach_and_scores_everyone(cdnow_trained):
    result, settings, truth = cdnow_trained
    log = task_log(settings)
    assert "responsiveness: not applicable to this feed: label_coupon is 0" in log
    assert "label window shortened from 273 to 136 day(s)" in log
    assert "-> task score_users" in result.stdout
    # the champion learned 136 days: the 273-day question goes to BG/NBD, and the log says so
    assert "BG/NBD answers the propensity" in log
    assert fetch(settings, "SELECT DISTINCT model_versions->>'propensity' FROM journey.user_scores") == [("bgnbd",)]
    rows = fetch(settings, "SELECT count(*), count(p_alive), count(expected_purchases), count(predicted_value), "
                           "count(propensity), count(responsiveness), min(horizon_days), max(horizon_days) "
                           "FROM journey.user_scores")
    assert rows == [(len(truth), len(truth), len(truth), len(truth), len(truth), 0, 273, 273)]


def test_cdnow_published_propensity_ranks_next_39_weeks_buyers_at_least_as_well_as_bgnbd(cdnow_trained):
    from sklearn.metrics import roc_auc_score

    _, settings, truth = cdnow_trained
    scores = pd.DataFrame(fetch(settings, "SELECT user_id, propensity, expected_purchases, p_alive "
                                          "FROM journey.user_scores"),
                          columns=["customer", "propensity", "expected", "p_alive"]).set_index("customer")
    rows = truth.join(scores, how="inner")
    bought = (rows["holdout_days"] > 0).astype(int)
    auc = {name: roc_auc_score(bought, rows[name]) for name in ("propensity", "expected", "past_days")}
    print(f"CDNOW holdout ROC-AUC: {auc}")
    assert len(rows) == 2357
    assert auc["expected"] >= 0.77  # BG/NBD on this sample: about 0.78 (docs/models.md)
    assert auc["propensity"] >= max(auc["expected"], auc["past_days"]) - 0.005
    # expected repeat purchases against the actual purchase days of the next 39 weeks
    mae = (rows["expected"] - rows["holdout_days"]).abs().mean()
    assert mae < (rows["holdout_days"] - rows["holdout_days"].mean()).abs().mean()


# --- (b) REES46 click-stream ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rees46(run_feed):
    """The REES46 sample through the daily DAG, and the raw file read by pandas."""
    path = shared_sample("rees46_2019-10-01_sample.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    result, settings = run_feed("rees46", "--source", str(path), "--format", "rees46", "--date", "2019-10-01",
                                "--param", "k_min=3", "--param", "k_max=4")
    return result, settings, raw


def test_rees46_nothing_is_lost(rees46):
    result, settings, raw = rees46
    duplicates = int(raw.duplicated().sum())
    [(read, curated, quarantined, dropped)] = fetch(
        settings, "SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs")
    assert (read, dropped) == (len(raw), duplicates)
    assert curated + quarantined + dropped == len(raw)
    kept = raw.drop_duplicates()
    assert fetch(settings, "SELECT count(*), sum(purchases), sum(views) FROM journey.user_profiles") == [
        (kept["user_id"].nunique(), int((kept["event_type"] == "purchase").sum()),
         int((kept["event_type"] == "view").sum()))]
    assert_a_person_can_follow(result, settings)


# --- (c) a year of order lines -------------------------------------------------------------------------

def order_lines(seed: int = 11) -> pd.DataFrame:
    """A year of Online Retail order lines: 300 customers, a quarter guest invoices, 5 % cancelled lines,
    the shop closed 23 Dec - 4 Jan, and the last day cut at noon (the file was exported then)."""
    rng = np.random.default_rng(seed)
    first = LAST_ORDER_DAY - timedelta(days=373)
    days = [first + timedelta(days=i) for i in range(374)]
    open_days = [d for d in days if not (date(2010, 12, 23) <= d <= date(2011, 1, 4))]
    stock = [f"{84000 + i}" for i in range(120)]
    prices = dict(zip(stock, np.round(rng.uniform(0.5, 15.0, len(stock)), 2), strict=True))
    rows, invoice = [], 536000
    for _ in range(2600):
        invoice += 1
        day = open_days[int(rng.integers(len(open_days)))]
        hour = int(rng.integers(8, 12 if day == LAST_ORDER_DAY else 18))
        customer = "" if rng.random() < 0.25 else f"{12346 + int(rng.zipf(1.6)) % 300}.0"
        for code in rng.choice(stock, size=int(rng.integers(1, 6)), replace=False):
            rows.append({"InvoiceNo": str(invoice), "StockCode": code, "Description": f"ITEM {code}",
                         "Quantity": int(rng.integers(1, 13)), "InvoiceDate": f"{day.month}/{day.day}/{day.year} {hour}:"
                         f"{int(rng.integers(60)):02d}", "UnitPrice": prices[code], "CustomerID": customer,
                         "Country": "United Kingdom"})
    lines = pd.DataFrame(rows)
    cancelled = lines.sample(frac=0.05, random_state=seed).assign(
        InvoiceNo=lambda d: "C" + d["InvoiceNo"], Quantity=lambda d: -d["Quantity"])
    return pd.concat([lines, cancelled], ignore_index=True)


@pytest.fixture(scope="module")
def order_feed(run_feed, tmp_path_factory):
    """The year of order lines written as a CSV and run through the daily DAG with default Params."""
    path = tmp_path_factory.mktemp("orders") / "online_retail_2011.csv"
    order_lines().to_csv(path, index=False)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    result, settings = run_feed("orders", "--source", str(path), "--format", "transactions",
                                "--date", LAST_ORDER_DAY.isoformat(), "--param", "k_min=3", "--param", "k_max=4")
    return result, settings, raw


def test_the_generated_backfill_has_what_real_order_files_have():
    lines = order_lines()
    guests = (lines["CustomerID"] == "").mean()
    dates = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M")
    assert guests >= 0.20 and lines["InvoiceNo"].str.startswith("C").any()
    assert dates.max().hour < 12 and not ((dates >= "2010-12-23") & (dates < "2011-01-05")).any()


def test_order_lines_pass_the_gates_with_guests_quarantined_and_counted(order_feed):
    result, settings, raw = order_feed
    guests = int((raw["CustomerID"] == "").sum())
    assert fetch(settings, "SELECT rows_read, curated, quarantined, duplicates FROM journey.ingest_runs") == [
        (len(raw), len(raw) - guests, guests, 0)]
    assert fetch(settings, "SELECT reason, rows FROM journey.quarantine_summary") == [("missing_user_id", guests)]
    assert fetch(settings, "SELECT count(*) FROM journey.dq_results WHERE NOT success AND severity = 'error'") == [
        (0,)]
    assert f"products: {raw['StockCode'].nunique():,} titles from order-line descriptions" in task_log(settings)
    assert_a_person_can_follow(result, settings)


def test_order_lines_profiles_count_orders_and_net_spend(order_feed):
    _, settings, raw = order_feed
    known = raw[raw["CustomerID"] != ""].assign(
        customer=lambda d: d["CustomerID"].str.replace(".0", "", regex=False),
        value=lambda d: d["Quantity"].astype(int) * d["UnitPrice"].astype(float))
    bought = known[~known["InvoiceNo"].str.startswith("C")]
    expected = pd.DataFrame({
        "orders": bought.groupby("customer")["InvoiceNo"].nunique(),
        "spend": known.groupby("customer")["value"].sum().clip(lower=0).round(2),
    }).fillna(0)
    assert fetch(settings, "SELECT sum(views), sum(carts), count(cart_abandonment_rate) FROM journey.user_profiles"
                 ) == [(0, 0, 0)]
    published = pd.DataFrame(fetch(settings, "SELECT user_id, frequency, round(monetary::numeric, 2)::float "
                                             "FROM journey.user_profiles"), columns=["customer", "orders", "spend"])
    published = published.set_index("customer").sort_index()
    assert list(published.index) == sorted(expected.index)
    assert published["orders"].tolist() == expected.sort_index()["orders"].astype(int).tolist()
    assert np.allclose(published["spend"], expected.sort_index()["spend"], atol=0.011)


def test_order_lines_train_dag_publishes_scores_without_coupons_or_views(order_feed):
    _, settings, raw = order_feed
    result = journey_train(settings, "--date", LAST_ORDER_DAY.isoformat(), "--param", "horizon_days=60",
                           "--param", "lookback_days=365", "--param", "cutoff_step_days=30", "--param", "epochs=2")
    assert "responsiveness: not applicable to this feed" in task_log(settings)
    assert "-> task score_users" in result.stdout
    customers = raw.loc[raw["CustomerID"] != "", "CustomerID"].nunique()
    [(scored, alive, propensity, responsiveness)] = fetch(
        settings, "SELECT count(*), count(p_alive), count(propensity), count(responsiveness) FROM journey.user_scores")
    assert scored == alive == propensity == customers and responsiveness == 0
