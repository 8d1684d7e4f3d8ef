"""The campaign builder and the campaigns list, served by `journey serve` (docs/campaigns.md).

Pages (plain HTML and a little JavaScript from serve/pages, nothing fetched from elsewhere):
GET /builder and GET /campaigns. Their data comes from the JSON routes below, which take the
API key as the other routes do (Authorization: Bearer) or from the cookie POST /v1/session sets
after checking a key (HttpOnly, SameSite=Strict), so a browser can open the reports by link.

    GET  /v1/campaigns/form      the builder's choices: segments, stages, channels, kinds, holdout range, defaults
    POST /v1/campaigns/preview   the audience funnel, holdout, coupons and cost (campaign_preview.py)
    POST /v1/campaigns           launch: trigger journey_campaign over Airflow's REST API (scope write)
    GET  /v1/campaigns           the campaigns list's rows (campaign_list.py)
    GET  /campaigns/{campaign_id}/{run_id}/report   a run's HTML report (and its plotly.js)

Every check of a campaign is `campaigns.params.parse_params` + `resolve_segments`, the DAG's
own validation; a refusal answers 422 with the field it names, for the page to show it there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from journey.campaigns.currency import campaign_currency
from journey.campaigns.fields import CampaignParamsError
from journey.campaigns.params import (
    CAMPAIGN_CHANNELS,
    CAMPAIGN_FIELDS,
    CONSENT_CHANNELS,
    COUPON_KINDS,
    DEFAULT_COUPONS,
    FIELDS,
    HOLDOUT_RANGE,
    OBJECTIVES,
    CampaignParams,
    parse_params,
    resolve_segments,
)
from journey.config import get_settings
from journey.errors import JourneyError
from journey.reports.page import ASSETS_DIR, PLOTLY_JS
from journey.schemas import LIFECYCLE_STAGES, SCENES
from journey.serve import campaign_launch, campaign_list, campaign_preview, queries

PAGES = Path(__file__).with_name("pages")
KEY_COOKIE = "journey_key"
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,249}$"
CAMPAIGN_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,62}$"
router = APIRouter()
bearer = HTTPBearer(auto_error=False, description="an API key from `journey api-keys create`")


def require_key(scope: str):
    """Dependency: the app's key check (journey.serve.app.require), the key from the header or the cookie."""

    async def check(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        from journey.serve.app import require  # app.py includes this router: imported when first called

        if credentials is None and request.cookies.get(KEY_COOKIE):
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=request.cookies[KEY_COOKIE])
        return await require(scope)(request, credentials)

    return check


def _page(name: str) -> HTMLResponse:
    """One of the static pages."""
    return HTMLResponse((PAGES / name).read_text(encoding="utf-8"))


@router.get("/builder", response_class=HTMLResponse, tags=["campaign builder"], include_in_schema=False)
def builder_page():
    """The campaign builder (its data needs a key: the page asks for one)."""
    return _page("builder.html")


@router.get("/campaigns", response_class=HTMLResponse, tags=["campaign builder"], include_in_schema=False)
def campaigns_page():
    """The campaigns list."""
    return _page("campaigns.html")


@router.get("/builder/{name}", tags=["campaign builder"], include_in_schema=False)
def builder_asset(name: Annotated[str, PathParam(pattern=r"^(builder|campaigns|common)\.(js|css)$")]):
    """The pages' script and style sheet."""
    return FileResponse(PAGES / name)


@router.post("/v1/session", tags=["campaign builder"])
async def session(request: Request, key: Annotated[str, Body(embed=True, min_length=1, max_length=200)]):
    """Check an API key (scope read) and keep it in an HttpOnly cookie for the pages' requests and links."""
    await require_key("read")(request, HTTPAuthorizationCredentials(scheme="Bearer", credentials=key))
    answer = JSONResponse({"signed_in": True})
    answer.set_cookie(KEY_COOKIE, key, httponly=True, samesite="strict", max_age=8 * 3600)
    return answer


def default_times(now: datetime) -> tuple[str, str]:
    """Start tomorrow 09:00 UTC, end a week later (the builder's defaults)."""
    start = (now + timedelta(days=1)).astimezone(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return start.isoformat().replace("+00:00", "Z"), (start + timedelta(days=7)).isoformat().replace("+00:00", "Z")


def form_choices(segments: list[dict]) -> dict:
    """Everything the builder offers, from the campaign field table (the DAG's one source)."""
    start, end = default_times(datetime.now(UTC))
    return {"segments": segments, "lifecycle_stages": list(LIFECYCLE_STAGES), "channels": list(CAMPAIGN_CHANNELS),
            "consent_channels": list(CONSENT_CHANNELS), "objectives": list(OBJECTIVES),
            "coupon_kinds": list(COUPON_KINDS), "scenes": list(SCENES), "currency": campaign_currency(),
            "holdout_range": list(HOLDOUT_RANGE), "coupons_max": FIELDS["coupons"].max_items,
            "defaults": {**{f.name: f.default for f in CAMPAIGN_FIELDS if f.name != "products"},
                         "coupons": DEFAULT_COUPONS, "start_time": start, "end_time": end},
            "titles": {f.name: f.title for f in CAMPAIGN_FIELDS},
            "descriptions": {f.name: f.description for f in CAMPAIGN_FIELDS}}


@router.get("/v1/campaigns/form", tags=["campaign builder"], dependencies=[Depends(require_key("read"))])
def campaign_form(request: Request):
    """The builder's choices: current segments with size and value, stages, channels, coupon kinds, bounds."""
    with request.app.state.pool.transaction() as conn:
        return form_choices(queries.segments(conn))


def _refusal(exc: CampaignParamsError) -> HTTPException:
    """422 naming the field (the page shows the message at it)."""
    return HTTPException(422, {"field": exc.field_name, "message": str(exc)})


def checked(conn, raw: dict) -> tuple[CampaignParams, dict[int, str]]:
    """The DAG's validation of the form values and its segments against the published ones."""
    try:
        params = parse_params(raw)
        return params, resolve_segments(params, campaign_preview.known_segments(conn))
    except CampaignParamsError as exc:
        raise _refusal(exc) from exc


@router.post("/v1/campaigns/preview", tags=["campaign builder"], dependencies=[Depends(require_key("read"))])
def campaign_preview_route(request: Request, raw: Annotated[dict[str, Any], Body()]):
    """What the campaign would do on the published data now (nothing is written)."""
    with request.app.state.pool.transaction() as conn:
        params, _ = checked(conn, raw)
        return campaign_preview.preview(conn, get_settings(), params)


@router.post("/v1/campaigns", status_code=201, tags=["campaign builder"])
def launch_campaign(request: Request, raw: Annotated[dict[str, Any], Body()],
                    key_id: Annotated[str, Depends(require_key("write"))]):
    """Launch: the journey_campaign DAG triggered with these values; returns the run id and its Airflow link."""
    with request.app.state.pool.transaction() as conn:
        params, _ = checked(conn, raw)
    conf = {k: v for k, v in raw.items() if k in FIELDS and k != "products"}
    try:
        launched = campaign_launch.launch(campaign_launch.airflow_target(get_settings()), params, conf)
    except (OSError, JourneyError) as exc:
        raise HTTPException(503, f"could not trigger the campaign in Airflow: {exc}") from exc
    return {**launched, "campaign_id": params.campaign_id, "launched_by": key_id}


@router.get("/v1/campaigns", tags=["campaign builder"], dependencies=[Depends(require_key("read"))])
def campaigns(request: Request):
    """The campaigns list: runs with status, dates, budget used, lift and whether a report exists."""
    settings = get_settings()
    airflow = campaign_launch.run_states(campaign_launch.airflow_target(settings))
    with request.app.state.pool.transaction() as conn:
        rows = campaign_list.campaign_runs(conn, settings, airflow)
    return {"airflow": airflow is not None, "currency": campaign_currency(), "runs": rows}


@router.get("/campaigns/{campaign_id}/{run_id}/report", response_class=HTMLResponse, tags=["campaign builder"],
            dependencies=[Depends(require_key("read"))])
def campaign_report(request: Request, campaign_id: Annotated[str, PathParam(pattern=CAMPAIGN_ID_PATTERN)],
                    run_id: Annotated[str, PathParam(pattern=RUN_ID_PATTERN)]):
    """The run's HTML report as the campaign DAG's report task wrote it."""
    with request.app.state.pool.transaction() as conn:
        path = campaign_list.report_file(conn, get_settings(), campaign_id, run_id)
    if path is None:
        raise HTTPException(404, f"no report for run {run_id} of campaign {campaign_id}")
    return FileResponse(path, media_type="text/html")


@router.get("/campaigns/{campaign_id}/assets/" + PLOTLY_JS, tags=["campaign builder"], include_in_schema=False)
def report_script(campaign_id: Annotated[str, PathParam(pattern=CAMPAIGN_ID_PATTERN)]):
    """plotly.js of the reports (the page refers to it as ../assets/plotly.min.js)."""
    path = get_settings().reports_dir / ASSETS_DIR / PLOTLY_JS
    if not path.is_file():
        raise HTTPException(404, "no plotly.js under the reports folder yet")
    return FileResponse(path, media_type="text/javascript")
