"""The campaign DAG for real: daily DAG for a snapshot, then the campaign triggered through the REST API.

The daily DAG runs with `airflow dags test`; the campaign goes the way a marketing tool sends it:
the real api-server, scheduler and dag-processor on a free loopback port, a JWT from the simple
auth manager, `POST /api/v2/dags/journey_campaign/dagRuns` with a JSON conf, polling until the run
finishes. A conf the Params reject is refused with HTTP 400; one only `validate_params` can judge
fails in that task, with the field named in its log (read back through the REST API).

The good run is launched the way a marketer does it: the campaign builder's preview and Launch of
a real `journey serve` (which triggers the DAG over the same REST API); the bad one straight over
REST. After the run, the simulator continues the world for 14 days with the campaign's known
effects (`journey generate --respond-to`), the ingest job curates those days and the results DAG
measures the run: its converters per arm must be the simulator's. The model DAG then trains (among
the others) the uplift model on the measured run's treated vs held-out outcomes, and a second
campaign, triggered over REST, values its coupons with that model (its reasons say "uplift model v1").
The first campaign holds out half of its audience so that both arms have the 50 users the uplift
model needs, and spends half of its budget on randomised test picks (`test_share`).

Expectations come from the generated input files (read with pandas), the simulator's ground truth
and rows this test inserts itself (suppression list, an earlier campaign's messages), not from the
code under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
from e2e_stack import airflow_served, journey_stack, wait_for_run
from secret_search import leaks

from journey import warehouse
from journey.campaigns.params import DEFAULT_COUPONS
from journey.datagen import generate
from journey.orchestration import airflow_env
from journey.orchestration.airflow_api import AirflowApiError
from journey.perf.serve import free_port, start_api
from journey.serve import auth

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.spark]

SNAPSHOT = "2026-10-31"
CAMPAIGN = {"campaign_id": "autumn-test", "name": "Autumn test", "objective": "conversion", "segments": ["all"],
            "channels": ["email", "push"], "coupons": DEFAULT_COUPONS, "budget": 60.0, "holdout_fraction": 0.5, "test_share": 0.5,
            "recommendations_k": 5, "recommendations_per_category": 4, "frequency_cap": 3, "start_time": "2026-11-01T00:00:00+00:00",
            "end_time": "2026-11-08T00:00:00+00:00"}
BAD_SEGMENT = {**CAMPAIGN, "campaign_id": "bad-one", "segments": ["No such segment"]}
SECOND = {**CAMPAIGN, "campaign_id": "winter-test", "name": "Winter test", "holdout_fraction": 0.1,
          "start_time": "2026-11-20T00:00:00+00:00", "end_time": "2026-11-27T00:00:00+00:00"}
TRAIN_CONF = {"horizon_days": 3, "lookback_days": 10, "epochs": 2, "margin": 0.0}
DAG_ID = "journey_campaign"
RESULTS_DAG_ID = "journey_campaign_results"
DAG_IDS = ("journey_daily_profiles", "journey_train_models", DAG_ID, RESULTS_DAG_ID)
JOURNEY = str(Path(sys.executable).parent / "journey")
INGEST_JOB = Path(__file__).resolve().parents[2] / "jobs" / "ingest_events.py"
RUN_TIMEOUT = 1800  # seconds; the Spark steps on 300 users take 4-8 minutes on 2 cores (recommendations tune each run)


def query(settings, sql: str, params=None) -> list[tuple]:
    """Rows of one query against the warehouse."""
    with warehouse.connect(settings) as conn:
        return warehouse.fetch_all(conn, sql, params)


def execute(settings, sql: str, params=None) -> None:
    """Run one statement and commit."""
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(sql, params)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Generated data, embedded PostgreSQL, a published daily snapshot and the campaign run."""
    with journey_stack(tmp_path_factory.mktemp("e2e-campaign") / "home", JOURNEY_SHUFFLE_PARTITIONS="2",
                       AIRFLOW__CORE__PARALLELISM="2") as ready:
        yield campaign_run(ready)


def campaign_run(ready) -> dict:
    """Publish a daily snapshot, seed a suppression list and earlier messages, run the campaign DAG."""
    settings, env, log = ready.settings, ready.env, ready.log
    generate(settings.inbox, users=300, days=10, seed=11)
    daily = {"source": str(settings.inbox / "events"), "users": str(settings.inbox / "users.csv"),
             "k_min": 3, "k_max": 3}
    assert airflow_env.test_dag("journey_daily_profiles", SNAPSHOT, daily, env, log) == 0, log.read_text()[-4000:]
    users = pd.read_csv(settings.inbox / "users.csv", dtype=str)
    profiled = sorted(r[0] for r in query(settings, "SELECT user_id FROM journey.user_profiles"))
    suppressed, capped = profiled[:4], profiled[4]
    for user in suppressed:
        execute(settings, "INSERT INTO journey.suppression_list (user_id, reason) VALUES (%s, 'opt_out')", (user,))
    seed_earlier_campaign(settings, capped)
    return {"settings": settings, "env": env, "log": log, "users": users, "profiled": profiled,
            "suppressed": suppressed, "capped": capped, **trigger_over_rest(ready)}


def trigger_over_rest(ready) -> dict:
    """Unpause, send a refused conf, then the good and the bad-segment runs together; wait for both."""
    builder_port = free_port()  # known before Airflow starts: the report task's link points at this service
    ready.env["JOURNEY_SERVE_URL"] = f"http://127.0.0.1:{builder_port}"
    with airflow_served(ready) as (server, api):
        for dag_id in DAG_IDS:
            api.wait_for_dag(dag_id, timeout=180)
        ui = {"import_errors": api.request("GET", "/importErrors")["import_errors"],
              "details": {d: api.request("GET", f"/dags/{d}/details") for d in DAG_IDS}}
        api.unpause(DAG_ID)
        with pytest.raises(AirflowApiError) as refused:
            api.trigger(DAG_ID, {**CAMPAIGN, "holdout_fraction": 0.9})
        with campaign_builder(ready, server, builder_port) as builder:
            preview = builder.post("/v1/campaigns/preview", json=CAMPAIGN).raise_for_status().json()
            launched = builder.post("/v1/campaigns", json=CAMPAIGN)
            assert launched.status_code == 201, launched.text
            good = launched.json()["run_id"]
            bad = api.trigger(DAG_ID, BAD_SEGMENT)["dag_run_id"]
            good_run = wait_for_run(server, api, DAG_ID, good, RUN_TIMEOUT)
            bad_run = wait_for_run(server, api, DAG_ID, bad, RUN_TIMEOUT)
            listed = builder.get("/v1/campaigns").raise_for_status().json()
            report = builder.get(f"/campaigns/{CAMPAIGN['campaign_id']}/{good}/report")
            links = api.request("GET", f"/dags/{DAG_ID}/dagRuns/{good}/taskInstances/report/links")
            link = links["extra_links"].get("Campaign report")
            linked = builder.get(link) if link else None  # the link, followed
        truth = simulate_and_curate_the_next_days(ready, good)
        api.unpause(RESULTS_DAG_ID)
        measured = api.trigger(RESULTS_DAG_ID, {"campaign_id": CAMPAIGN["campaign_id"]})["dag_run_id"]
        results_run = wait_for_run(server, api, RESULTS_DAG_ID, measured, RUN_TIMEOUT)
        uplift = train_models_on_the_measured_run(ready)
        second = api.trigger(DAG_ID, SECOND)["dag_run_id"]
        second_run = wait_for_run(server, api, DAG_ID, second, RUN_TIMEOUT)
        return {"uplift": uplift, "second_run": second_run, "second_tasks": api.task_states(DAG_ID, second),
                "ui": ui, "refused": refused.value, "run": good_run, "good_tasks": api.task_states(DAG_ID, good),
                "bad_run": bad_run, "bad_tasks": api.task_states(DAG_ID, bad),
                "bad_log": api.task_log(DAG_ID, bad, "validate_params"),
                "preview": preview, "listed": listed, "report": report, "truth": truth,
                "links": links, "linked": linked, "builder_port": builder_port,
                "results_run": results_run, "results_tasks": api.task_states(RESULTS_DAG_ID, measured),
                "scheduler_log": server.log_tail("scheduler", 6000)}


@contextmanager
def campaign_builder(ready, server, port: int):
    """A real `journey serve` (uvicorn, the app factory) on `port` that launches into this Airflow; a client
    with a read+write key."""
    with warehouse.connect(ready.settings) as conn:
        _, token = auth.create_key(conn, "e2e-marketer", ("read", "write"))
        conn.commit()
    process = start_api(ready.settings.home, port, workers=1,
                        extra_env={"JOURNEY_AIRFLOW_URL": server.url, "JOURNEY_AIRFLOW_PASSWORD": server.password})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                          timeout=120) as client:
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)


def simulate_and_curate_the_next_days(ready, run_id: str) -> pd.DataFrame:
    """`journey generate --respond-to` for 14 days after the run, then the ingest job on those days; the truth."""
    out = ready.settings.home / "responses"
    simulated = subprocess.run([JOURNEY, "generate", "--respond-to", run_id, "--days", "14", "--out", str(out),
                                "--data", str(ready.settings.inbox)], env=ready.env, capture_output=True, text=True)
    assert simulated.returncode == 0, simulated.stderr[-3000:]
    ingest = subprocess.run([sys.executable, str(INGEST_JOB), "--source", str(out / "events"), "--format",
                             "canonical", "--run-id", "e2e-responses"], env=ready.env, capture_output=True, text=True)
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    return pd.read_parquet(out / "ground_truth" / "effects" / f"{run_id}.parquet")


def train_models_on_the_measured_run(ready) -> dict:
    """`airflow dags test journey_train_models` on the snapshot (the DAG stays paused in the served Airflow, so
    its scheduler runs nothing of it); the uplift model's registry row as trained. When the promotion rule kept
    it a challenger (a coin flip on ~45 held-out users), an analyst promotes it by hand with `journey models
    promote --force`, so that the second campaign runs on it either way."""
    code = airflow_env.test_dag("journey_train_models", SNAPSHOT, TRAIN_CONF, ready.env, ready.log)
    assert code == 0, ready.log.read_text()[-4000:]
    rows = query(ready.settings, "SELECT status, metrics, decision FROM journey.model_registry "
                                 "WHERE name = 'uplift' AND version = 1")
    assert len(rows) == 1, ready.log.read_text()[-4000:]
    (status, metrics, decision), = rows
    if status != "champion":
        promoted = subprocess.run([JOURNEY, "models", "promote", "--name", "uplift", "--version", "1", "--force"],
                                  env=ready.env, capture_output=True, text=True)
        assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    return {"status": status, "metrics": metrics, "decision": decision}


def seed_earlier_campaign(settings, user: str) -> None:
    """Three other campaigns' current runs, each messaging `user` in the 7 days before the new one."""
    for day in (27, 28, 29):
        campaign = f"earlier-{day}"
        execute(settings, """INSERT INTO journey.campaigns (campaign_id, run_id, snapshot_date, name, objective,
            params, signals, budget, budget_used, expected_value, value_upper_bound, eligible_users, holdout_users,
            start_time, end_time) VALUES (%s, 'r0', '2026-10-25', 'Earlier', 'retention', '{}', '{}', 0, 0, 0, 0, 1, 0,
            '2026-10-26', '2026-10-31')""", (campaign,))
        execute(settings, """INSERT INTO journey.ad_assignments (campaign_id, run_id, snapshot_date, user_id, channel,
            creative_id, send_at, reason) VALUES (%s, 'r0', '2026-10-25', %s, 'email', 'x', %s, '{}')""",
                (campaign, user, f"2026-10-{day}T10:00:00+00:00"))


def test_campaign_dag_runs_end_to_end(stack):
    assert stack["run"]["state"] == "success", (stack["good_tasks"], stack["scheduler_log"])
    assert stack["run"]["conf"] == CAMPAIGN  # the JSON conf arrived as sent
    assert set(stack["good_tasks"].values()) == {"success"}
    settings = stack["settings"]
    (row,) = query(settings, "SELECT eligible_users, holdout_users, budget, budget_used, signals FROM journey.campaigns "
                             "WHERE campaign_id = 'autumn-test'")
    eligible, held, budget, used, signals = row
    assert budget == 60.0 and 0 < used <= 60.0
    assert "fallback" in signals["description"] or "model" in signals["description"]
    assert 0.4 <= held / eligible <= 0.6  # half of a few hundred users
    counts = dict(query(settings, "SELECT 'coupons', count(*) FROM journey.coupon_assignments "
                                  "WHERE campaign_id = 'autumn-test' UNION ALL "
                                  "SELECT 'ads', count(*) FROM journey.ad_assignments WHERE campaign_id = 'autumn-test' "
                                  "UNION ALL SELECT 'eval', count(*) FROM journey.recommendation_eval "
                                  "WHERE campaign_id = 'autumn-test'"))
    assert counts["ads"] == eligible - held  # one message per treated user
    assert counts["coupons"] >= 1 and counts["eval"] == 3  # hybrid, plain ALS, popularity on the same users


def test_consent_suppression_and_frequency_cap_are_honoured(stack):
    settings, users = stack["settings"], stack["users"]
    consented = {(r.user_id, ch) for r in users.itertuples() for ch in ("email", "push")
                 if getattr(r, f"consent_{ch}") == "true"}
    sent = query(settings, "SELECT user_id, channel FROM journey.ad_assignments WHERE campaign_id = 'autumn-test' "
                           "UNION ALL SELECT user_id, channel FROM journey.coupon_assignments "
                           "WHERE campaign_id = 'autumn-test'")
    assert sent and all(pair in consented for pair in sent)
    reached = {u for u, _ in sent} | {r[0] for r in query(settings, "SELECT user_id FROM journey.recommendation_"
                                                                    "assignments WHERE campaign_id = 'autumn-test'")}
    assert not reached & set(stack["suppressed"])
    assert stack["capped"] not in reached
    reasons = dict(query(settings, "SELECT reason, sum(users) FROM journey.campaign_audience "
                                   "WHERE status = 'excluded' AND campaign_id = 'autumn-test' GROUP BY reason"))
    no_consent = [u for u in stack["profiled"] if u not in stack["suppressed"]
                  and (u, "email") not in consented and (u, "push") not in consented]
    assert reasons["suppressed"] == 4
    assert reasons["no_channel_consent"] == len(no_consent)
    assert reasons.get("frequency_cap", 0) == (0 if stack["capped"] in no_consent else 1)


def test_holdout_gets_nothing_and_budget_and_codes_hold(stack):
    settings = stack["settings"]
    held = {r[0] for r in query(settings, "SELECT user_id FROM journey.campaign_holdout "
                                          "WHERE campaign_id = 'autumn-test'")}
    treated = {r[0] for r in query(settings, "SELECT user_id FROM journey.ad_assignments "
                                             "WHERE campaign_id = 'autumn-test' UNION SELECT user_id FROM "
                                             "journey.recommendation_assignments WHERE campaign_id = 'autumn-test'")}
    assert held and not held & treated
    (spent, codes, distinct) = query(settings, "SELECT sum(expected_cost), count(coupon_code), count(DISTINCT "
                                               "coupon_code) FROM journey.coupon_assignments "
                                               "WHERE campaign_id = 'autumn-test'")[0]
    assert spent <= 60.0 and codes == distinct


def test_recommendations_respect_k_purchases_and_diversity(stack):
    settings = stack["settings"]
    events = pd.concat(pd.read_parquet(p) for p in sorted((settings.inbox / "events").glob("*.parquet")))
    bought = set(zip(events.loc[events.event_type == "purchase", "user_id"],
                     events.loc[events.event_type == "purchase", "product_id"], strict=True))
    recs = query(settings, "SELECT user_id, product_id, rank, category FROM journey.recommendation_assignments "
                           "WHERE campaign_id = 'autumn-test'")
    assert recs and not {(u, p) for u, p, _, _ in recs} & bought
    frame = pd.DataFrame(recs, columns=["user_id", "product_id", "rank", "category"])
    assert frame.groupby("user_id").size().eq(5).all()  # K long: plenty of candidates on generated data
    assert frame.groupby(["user_id", "category"]).size().max() <= 4  # recommendations_per_category
    assert (frame.groupby("user_id")["rank"].apply(lambda r: sorted(r) == list(range(1, len(r) + 1)))).all()


def test_bi_summary_adds_up_per_segment(stack):
    settings = stack["settings"]
    rows = query(settings, "SELECT sum(eligible), sum(holdout), sum(coupons), sum(budget_used), sum(ads) "
                           "FROM journey.bi_campaign_summary WHERE campaign_id = 'autumn-test'")[0]
    (eligible, held, used) = query(settings, "SELECT eligible_users, holdout_users, budget_used "
                                             "FROM journey.campaigns WHERE campaign_id = 'autumn-test'")[0]
    assert rows[0] == eligible and rows[1] == held
    assert rows[3] == pytest.approx(used)
    assert rows[4] == eligible - held


def test_builder_preview_matches_the_run_and_its_report_is_served(stack):
    """The builder's preview (before launch) counted what the run then did; the list and report are over HTTP."""
    settings, preview, run_id = stack["settings"], stack["preview"], stack["run"]["dag_run_id"]
    assert run_id.startswith("campaign__autumn-test__")
    audience = query(settings, "SELECT status, reason, sum(users) FROM journey.campaign_audience "
                               "WHERE campaign_id = 'autumn-test' GROUP BY status, reason")
    assert preview["eligible"] == sum(n for status, _, n in audience if status != "excluded")
    excluded = {reason: n for reason, n in preview["excluded_by_reason"].items() if n}  # the funnel lists zeros too
    assert excluded == {reason: n for status, reason, n in audience if status == "excluded"}
    assert preview["holdout"] == query(settings, "SELECT count(*) FROM journey.campaign_holdout "
                                                 "WHERE campaign_id = 'autumn-test'")[0][0]
    (listed,) = [r for r in stack["listed"]["runs"] if r["run_id"] == run_id]
    assert listed["status"] == "success" and listed["report"]
    assert stack["report"].status_code == 200 and run_id in stack["report"].text


def test_report_task_links_to_the_runs_report_on_the_journey_service(stack):
    """Airflow's extra link of the report task (REST API, as the UI reads it) opens the same report."""
    run_id, port = stack["run"]["dag_run_id"], stack["builder_port"]
    assert stack["links"]["extra_links"] == {
        "Campaign report": f"http://127.0.0.1:{port}/campaigns/autumn-test/{run_id}/report"}
    assert stack["linked"] is not None and stack["linked"].status_code == 200
    assert stack["linked"].text == stack["report"].text


def test_results_dag_measures_the_simulated_converters_per_arm(stack):
    """The measured converters of each arm are the ones the simulator made (its ground truth)."""
    truth = stack["truth"]
    rows = query(stack["settings"], "SELECT treated_users, treated_converters, holdout_users, holdout_converters, "
                                    "provisional FROM journey.campaign_results_current "
                                    "WHERE campaign_id = 'autumn-test' AND level = 'campaign'")
    treated, held = truth[truth["arm"] == "treated"], truth[truth["arm"] == "holdout"]
    assert rows == [(treated["user_id"].nunique(), int(treated.groupby("user_id")["converted"].max().sum()),
                     len(held), int(held["converted"].sum()), False)]


def test_results_dag_measures_the_run_and_the_bi_role_reads_it(stack):
    assert stack["results_run"]["state"] == "success", stack["results_tasks"]
    settings = stack["settings"]
    (eligible, held), = query(settings, "SELECT eligible_users, holdout_users FROM journey.campaigns "
                                        "WHERE campaign_id = 'autumn-test'")
    rows = query(settings, "SELECT level, treated_users, holdout_users, window_end FROM journey.campaign_results_current "
                           "WHERE campaign_id = 'autumn-test' ORDER BY level, key")
    levels = [level for level, *_ in rows]
    assert levels[0] == "campaign" and "segment" in levels and "offer" in levels
    _, treated, holdout, window_end = rows[0]
    assert (treated, holdout) == (eligible - held, held)  # every treated user has an ad
    assert window_end == datetime(2026, 11, 15, tzinfo=UTC)  # the campaign's 14-day default window
    conn = warehouse.open_connection(warehouse.bi_url(settings))
    try:
        bi = warehouse.fetch_all(conn, "SELECT count(*) FROM journey.bi_campaign_results "
                                       "WHERE campaign_id = 'autumn-test' AND level = 'campaign'")
    finally:
        conn.close()
    assert bi == [(1,)]


def reasons(settings, campaign_id: str) -> list[dict]:
    """The reason JSON of every coupon assignment of a campaign."""
    rows = query(settings, "SELECT reason FROM journey.coupon_assignments WHERE campaign_id = %s", (campaign_id,))
    return [r if isinstance(r, dict) else json.loads(r) for r, in rows]


def test_train_dag_learns_the_uplift_model_from_the_measured_campaign(stack):
    """The model DAG trained the uplift model on every user of the measured run, treated and held out."""
    truth, uplift = stack["truth"], stack["uplift"]
    measured = truth.loc[truth["arm"].isin(["treated", "holdout"]), "user_id"].nunique()  # not the untargeted
    assert uplift["metrics"]["runs"] == 1
    assert uplift["metrics"]["refit_rows"] == measured
    assert uplift["metrics"]["train_rows"] + uplift["metrics"]["test_rows"] == measured
    assert uplift["decision"], uplift  # the promotion rule said why it did what it did


def test_second_campaign_values_coupons_with_the_learned_uplift(stack):
    """Campaign 1 (no uplift model yet) used the hand formula; campaign 2 the uplift model trained on its results."""
    assert stack["second_run"]["state"] == "success", stack["second_tasks"]
    settings = stack["settings"]
    first, second = reasons(settings, "autumn-test"), reasons(settings, "winter-test")
    assert first and {r["uplift_source"] for r in first} == {"hand formula"}
    assert {r["selection"] for r in first} == {"optimised", "randomised test"}  # test_share 0.5
    assert second and {r["uplift_source"] for r in second} == {"uplift model v1"}
    (used,) = query(settings, "SELECT budget_used FROM journey.campaigns WHERE campaign_id = 'winter-test'")[0]
    assert 0 < used <= SECOND["budget"]


def test_ui_shows_every_dag_documented_with_no_import_error(stack):
    assert stack["ui"]["import_errors"] == []
    for dag_id, details in stack["ui"]["details"].items():
        assert details["owners"] == ["marketing-ops" if dag_id.startswith(DAG_ID) else "data-engineering"], dag_id
        assert "journey" in {tag["name"] for tag in details["tags"]}, dag_id
        assert details["doc_md"] and details["doc_md"].lstrip().startswith("###"), dag_id


def test_conf_outside_the_params_is_refused_naming_the_field(stack):
    refused = stack["refused"]
    assert refused.status == 400
    assert "holdout_fraction" in refused.detail and "0.9 is greater than the maximum of 0.5" in refused.detail


def test_invalid_parameters_fail_in_the_first_task_naming_the_field(stack):
    settings = stack["settings"]
    assert stack["bad_run"]["state"] == "failed"
    assert stack["bad_tasks"].pop("validate_params") == "failed"
    assert set(stack["bad_tasks"].values()) == {"upstream_failed"}  # no Spark step started
    assert "parameter 'segments': unknown segment 'No such segment'" in stack["bad_log"]
    assert query(settings, "SELECT count(*) FROM journey.campaigns WHERE campaign_id = 'bad-one'") == [(0,)]
    assert not (settings.home / "lake" / "campaigns" / "bad-one").exists()


def test_campaign_run_report_renders_with_its_charts(stack):
    from report_checks import assert_report_renders

    from journey.reports import report_path

    path = report_path(stack["settings"], DAG_ID, stack["run"]["dag_run_id"])
    assert path.exists(), f"no report at {path}"
    assert_report_renders(path, {"allocation": 1, "budget": 1, "ads": 1})


def test_no_password_in_any_log_or_report(stack):
    """The BI role's and the Airflow admin's generated passwords appear in no file of the run (tasks' logs,
    the served components' logs, reports, airflow.db, PostgreSQL's files), only in the files keeping them."""
    found, searched = leaks(stack["settings"].home)
    assert searched >= 100 and not found, (searched, found)
