"""The benchmarks (`make bench` runs the first three) and plan checks; each is a module run with `python -m`:

    python -m journey.perf.daily       ingest → profiles → segments at 1M/10M events, DuckDB beside it, COPY publish
    python -m journey.perf.models      training sets, TF/XGBoost training and scoring
    python -m journey.perf.campaigns   campaign generation (allocation, recommendations) at 1M users
    python -m journey.perf.plans       shuffles of the events in the profile build's physical plan (one, shared)

Parts: memory.py (peak memory of Python + the JVM), duckdb_profiles.py (the single-machine reference),
publish_bench.py (COPY vs INSERT), pipeline.py (one timed pipeline run), figures.py. See docs/benchmarks.md.
"""
