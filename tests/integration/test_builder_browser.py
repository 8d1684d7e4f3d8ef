"""The campaign builder and the campaigns list in headless Chromium (Playwright) against a real `journey serve`.

The server is uvicorn with the app factory (`journey.perf.serve.start_api`, as `journey serve` runs it)
on a free loopback port over the embedded PostgreSQL holding test_campaign_preview's published
world. Chromium is Debian's /usr/bin/chromium (no browser download); the test skips, saying why,
where it is missing. Airflow is pointed at a port where nothing listens: the list falls back to the
table's status, and Launch is left to the e2e check (docs/campaigns.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journey import warehouse
from journey.perf.serve import free_port, start_api
from journey.serve import auth
from tests.e2e.report_checks import chromium, ink
from tests.integration.test_campaign_preview import CAMPAIGN, SEGMENT_NAMES, expected_counts, publish_world
from tests.integration.test_campaign_publish import settings  # noqa: F401 (the embedded PostgreSQL fixture)

pytestmark = pytest.mark.postgres

MIN_COLOURS = 20  # a page of text, tables and buttons; a blank or single-colour shot has 1
SHOTS = os.environ.get("JOURNEY_SCREENSHOTS")  # also save the shots there (docs/images for the docs)


@pytest.fixture(scope="module")
def server(settings):  # noqa: F811 (the imported fixture)
    """(base URL, read+write key) of a real API process over the published world."""
    publish_world(settings)
    with warehouse.connect(settings) as conn:
        token = auth.create_key(conn, "marketing", ("read", "write"))[1]
    saved = {k: os.environ.get(k) for k in ("JOURNEY_AIRFLOW_URL", "JOURNEY_AIRFLOW_PASSWORD")}
    os.environ.update({"JOURNEY_AIRFLOW_URL": "http://127.0.0.1:9", "JOURNEY_AIRFLOW_PASSWORD": "unused"})
    port = free_port()
    process = start_api(settings.home, port, workers=1)
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        process.terminate()
        process.wait(timeout=30)
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


@pytest.fixture(scope="module")
def page(server):
    """A signed-in Chromium page (Playwright driving Debian's chromium)."""
    executable = chromium()  # skips with the reason when missing
    from playwright.sync_api import sync_playwright

    base, token = server
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=base)
        tab.set_default_timeout(20_000)
        tab.goto("/builder")
        tab.fill("#signin-key", token)
        tab.click("#signin-button")
        tab.wait_for_selector("#builder:not([hidden])")
        yield tab
        browser.close()


def shoot(tab, tmp_path: Path, name: str, selector: str | None = None) -> Path:
    """A screenshot of the page (or of one element), checked not blank (not a single colour, some ink)."""
    path = tmp_path / name
    png = (tab.locator(selector).screenshot(path=str(path)) if selector
           else tab.screenshot(path=str(path), full_page=True))
    colours, share = ink(png)
    assert colours >= MIN_COLOURS and share >= 0.02, f"{name} looks blank: {colours} colours, {share:.1%} ink"
    if SHOTS:
        Path(SHOTS, name).write_bytes(png)
    return path


def assert_airflow_accepts(values: dict) -> None:
    """What the page sends (Launch sends the same) passes the campaign DAG's Airflow Params, as a trigger would."""
    from airflow.sdk.definitions.param import ParamsDict

    from journey.campaigns.params import dag_params

    params = ParamsDict(dag_params(SEGMENT_NAMES))
    params.update(values)
    resolved = params.validate()
    assert (resolved["segments"], resolved["holdout_fraction"], len(resolved["coupons"])) == (
        ["bargain", "loyal"], 0.1, 2)


def fill_campaign(tab) -> None:
    """The campaign of test_campaign_preview, as a marketer types it: two segments, three stages, two coupons."""
    tab.fill("#campaign_id", CAMPAIGN["campaign_id"])
    tab.fill("#name", CAMPAIGN["name"])
    for segment in CAMPAIGN["segments"]:
        tab.check(f"input[name=segment][value={segment}]")
    for stage in CAMPAIGN["lifecycle_stages"]:
        tab.check(f"input[name=stage][value={stage}]")
    tab.fill("#frequency_cap", str(CAMPAIGN["frequency_cap"]))
    tab.click("#add-coupon")
    tab.click("#add-coupon")
    tab.fill("#budget", "500")
    tab.fill("#holdout", "10")
    tab.fill("#test_share", "20")
    tab.fill("#start_time", "2026-11-03T09:00")
    tab.fill("#end_time", "2026-11-10T09:00")


def test_builder_preview_shows_the_expected_audience_and_90_percent_holdout_blocks_launch(page, tmp_path):
    expected = expected_counts(CAMPAIGN, {0, 1})
    assert page.locator("#segments tbody tr").count() == 4
    assert page.locator("#segments tbody tr").first.inner_text().split("\t")[1:3] == ["bargain", "100"]
    fill_campaign(page)
    assert page.locator("#coupons tbody tr").count() == 2
    assert page.is_disabled("#launch")  # no preview yet
    with page.expect_request("**/v1/campaigns/preview") as sent:
        page.click("#preview")
    page.wait_for_selector("#preview-result:not([hidden])")
    assert_airflow_accepts(sent.value.post_data_json)
    assert sent.value.post_data_json["test_share"] == 0.2  # the percent typed, as the Param's share
    assert page.inner_text("#pv-eligible") == f"{expected['eligible']:,}"
    assert page.inner_text("#pv-holdout").startswith(f"{expected['holdout']:,} ")
    assert page.inner_text("#pv-treated") == f"{expected['eligible'] - expected['holdout']:,}"
    funnel = {row.split("\t")[0]: row.split("\t")[1] for row in page.locator("#pv-funnel tbody tr").all_inner_texts()}
    assert funnel == {"snapshot users": "0", **{k.replace("_", " "): str(expected[k]) for k in (
        "not_target_segment", "not_target_stage", "suppressed", "no_channel_consent", "frequency_cap")}}
    assert page.inner_text("#pv-revenue") == "computed by the run"
    assert page.is_enabled("#launch")
    shoot(page, tmp_path, "campaign-builder-preview.png")

    page.fill("#holdout", "90")
    assert "between 1 % and 50 %" in page.inner_text("#holdout-error")
    assert page.is_disabled("#launch")
    assert "invalid" in page.get_attribute("#holdout", "class")
    page.click("#launch", force=True)  # a disabled button does nothing
    assert page.inner_text("#launch-result") == ""
    shoot(page, tmp_path, "campaign-builder-holdout-error.png", "section:has(#holdout)")


def test_a_refused_value_is_shown_at_its_field(page):
    page.fill("#holdout", "10")
    page.fill("#campaign_id", "Bad Id")
    page.click("#preview")
    page.wait_for_function("document.querySelector('[data-error=campaign_id]').textContent.length > 0")
    assert "must be a slug" in page.inner_text("[data-error=campaign_id]")
    assert page.is_disabled("#launch")


def test_campaigns_list_links_the_published_runs_report_over_http(page, tmp_path):
    page.goto("/campaigns")
    page.wait_for_selector("#list:not([hidden])")
    row = page.locator("#runs tbody tr", has_text="spring-r1")
    assert row.locator(".status").inner_text() == "live"
    assert "264 of 100 EUR" in row.inner_text()  # make_run: 66 treated users' coupons at 4.0 against a budget of 100
    assert "not reachable" in page.inner_text("#source")
    shoot(page, tmp_path, "campaigns-list.png")
    row.locator("a", has_text="Open report").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/campaigns/spring/spring-r1/report")
    assert page.title().startswith("Journey: Campaign") and "spring-r1" in page.content()
    shoot(page, tmp_path, "campaign-report.png")
