"""One campaign run in the lake: where its outputs live and its request/summary JSON documents.

Layout: campaigns/<campaign_id>/run_id=<run>/{request.json, audience, holdout, signals,
coupons, ads, recommendations, recommendation_eval, summary-<step>.json}. The request (validated
parameters, snapshot date, targeted segments) is written by the DAG's first task without Spark
and read by every later step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from journey import lake
from journey.campaigns.params import CAMPAIGN_STEPS, CampaignParams, parse_params
from journey.config import Settings
from journey.errors import MissingInputError

CAMPAIGNS = "campaigns"
OUTPUTS = ("audience", "holdout", "signals", "coupons", "ads", "recommendations", "recommendation_eval")


@dataclass(frozen=True)
class CampaignRequest:
    """Everything a step needs to know about the run."""

    params: CampaignParams
    run_id: str
    snapshot_date: date
    segments: dict[int, str]  # targeted segments
    shares: dict[int, float]  # budget share per segment id

    def to_json(self) -> dict:
        """JSON form (segment ids as text keys)."""
        return {"params": self.params.to_json(), "run_id": self.run_id, "snapshot_date": self.snapshot_date.isoformat(),
                "segments": {str(k): v for k, v in self.segments.items()},
                "shares": {str(k): v for k, v in self.shares.items()}}

    @classmethod
    def from_json(cls, doc: dict) -> CampaignRequest:
        """Back from `to_json`."""
        raw = dict(doc["params"])
        raw["coupons"] = [dict(o) for o in raw["coupons"]]
        return cls(params=parse_params(raw), run_id=doc["run_id"], snapshot_date=date.fromisoformat(doc["snapshot_date"]),
                   segments={int(k): v for k, v in doc["segments"].items()},
                   shares={int(k): float(v) for k, v in doc["shares"].items()})


def campaign_run_id(campaign_id: str, at: datetime) -> str:
    """A run id that names the campaign: campaign__<id>__<UTC time to the second> (the REST API's dag_run_id)."""
    return f"campaign__{campaign_id}__{at.astimezone(UTC).strftime('%Y-%m-%dT%H%M%SZ')}"


def run_dir(settings: Settings, campaign_id: str, run_id: str) -> str:
    """Lake folder of one campaign run."""
    return lake.path(settings, CAMPAIGNS, campaign_id, f"run_id={lake.safe_name(run_id)}")


def output_path(settings: Settings, campaign_id: str, run_id: str, name: str) -> str:
    """Lake path of one output (Parquet folder or JSON file) of the run."""
    return f"{run_dir(settings, campaign_id, run_id)}/{name}"


def save_request(settings: Settings, request: CampaignRequest) -> str:
    """Write request.json of the run; returns its path."""
    target = output_path(settings, request.params.campaign_id, request.run_id, "request.json")
    lake.write_json(target, request.to_json())
    return target


def load_request(settings: Settings, campaign_id: str, run_id: str) -> CampaignRequest:
    """Read the run's request.json; a missing one says which task must run first."""
    target = output_path(settings, campaign_id, run_id, "request.json")
    try:
        return CampaignRequest.from_json(lake.read_json(target))
    except FileNotFoundError:
        raise MissingInputError(f"no campaign request at {target}: run the validate_params task first") from None


def save_step_summary(settings: Settings, request: CampaignRequest, step: str, summary: dict) -> None:
    """summary-<step>.json of the run (counts, signals, timings) for the report."""
    lake.write_json(output_path(settings, request.params.campaign_id, request.run_id, f"summary-{step}.json"), summary)


def load_step_summaries(settings: Settings, campaign_id: str, run_id: str) -> dict[str, dict]:
    """Every step summary of the run that exists, by step."""
    out = {}
    for step in CAMPAIGN_STEPS:
        try:
            out[step] = lake.read_json(output_path(settings, campaign_id, run_id, f"summary-{step}.json"))
        except FileNotFoundError:
            continue
    return out
