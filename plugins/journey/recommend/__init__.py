"""Product recommendations: ALS + item co-occurrence + content affinity, blended; popularity fallback.

See docs/campaigns.md ("Recommendations") for the scores, weights and the offline evaluation.
"""
