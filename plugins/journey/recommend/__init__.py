"""Product recommendations: ALS, co-occurrence, sequence, content, titles and popularity, blended with per-run tuned weights.

    evaluation = evaluate(events, snapshot_date, RecommendParams())         # per-user temporal split, tuned
    recs = recommend_for(events, snapshot_date, users, evaluation.tuning.params)   # pipeline.py
    tuning = tune_for(events, snapshot_date, RecommendParams())             # tuning alone (tuning.py)

See docs/campaigns.md ("Recommendations") for the scores, weights and the offline evaluation.
Names load on first use (Spark is imported only then).
"""

from journey import lazy_face

FACE = {
    "RecommendParams": "models", "recommend_for": "pipeline", "evaluate": "pipeline", "Evaluation": "pipeline",
    "Metrics": "evaluate", "tune_for": "pipeline", "Tuning": "tuning",
}
__all__ = sorted(FACE)
__getattr__ = lazy_face(__name__, FACE)
