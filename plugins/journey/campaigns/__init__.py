"""Campaign generation: parameters, eligibility, holdout, coupon allocation, ads, publish, report.

    params = parse_params(conf)                          # params.py: the trigger form's fields, checked
    request = validate_request(settings, conf, run_id)   # validate.py: params + the published segments
    publish_campaign(settings, request)                  # publish.py: every assignment table, atomically

See docs/campaigns.md for every rule. Names load on first use, and the pure-Python modules (params,
fields, holdout, allocation, codes) import no Spark, so the DAG's first task validates cheaply.
"""

from journey import lazy_face

FACE = {
    "CampaignParams": "params", "CampaignParamsError": "params", "parse_params": "params",
    "CampaignRequest": "request", "load_request": "request", "validate_request": "validate",
    "publish_campaign": "publish", "report": "report",
}
__all__ = sorted(FACE)
__getattr__ = lazy_face(__name__, FACE)
