"""Data-quality gates: expectation suites, their GX runs, recording and enforcement."""
