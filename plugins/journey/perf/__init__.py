"""Benchmark parts behind `make bench` (`python -m journey.bench`): memory sampling, the
DuckDB reference for profile aggregates, COPY vs INSERT publishing, and the pipeline run."""
