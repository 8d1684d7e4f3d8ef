"""Product recommendations: ALS + item co-occurrence + content affinity, blended; popularity fallback.

    recs = recommend_for(events, snapshot_date, users, RecommendParams())   # pipeline.py
    evaluation = evaluate(events, snapshot_date, RecommendParams())         # offline hold-out metrics

See docs/campaigns.md ("Recommendations") for the scores, weights and the offline evaluation.
Names load on first use (Spark is imported only then).
"""

from journey import lazy_face

FACE = {
    "RecommendParams": "models", "recommend_for": "pipeline", "evaluate": "pipeline", "Evaluation": "pipeline",
    "Metrics": "evaluate",
}
__all__ = sorted(FACE)
__getattr__ = lazy_face(__name__, FACE)
