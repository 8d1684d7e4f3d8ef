"""Data-quality gates: expectation suites, their GX runs, recording and enforcement.

    outcomes = gate(settings, run_id, "events", [("events", df, events_suite(params, now))])   # gate.py
    check_events(spark, settings, ingest_result, QualityParams(), now)                       # daily.py

suites.py holds every check and its threshold (QualityParams); options.py makes the events gate's
thresholds DAG Params and ingest-job options. Names load on first use (GX and
Spark are imported only then). See docs/quality.md.
"""

from journey import lazy_face

FACE = {
    "QualityParams": "suites", "Check": "suites", "gate": "gate", "QualityGateError": "gate", "Outcome": "gate",
    "check_events": "daily", "check_profiles": "daily", "check_segments": "daily",
    "QualityParamsError": "suites", "GATE_OPTIONS": "options", "gate_params": "options",
}
__all__ = sorted(FACE)
__getattr__ = lazy_face(__name__, FACE)
