"""Campaign generation: parameters, eligibility, holdout, coupon allocation, ads, publish, report.

See docs/campaigns.md for every rule. Pure-Python modules (params, holdout, allocation,
codes) import no Spark, so the DAG's first task can validate parameters cheaply.
"""
