"""Bad input to the CLI: one line on stderr, exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

JOURNEY = str(Path(sys.executable).parent / "journey")


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the installed `journey` command in an isolated home."""
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "JOURNEY_HOME": str(tmp_path / "home"),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.run([JOURNEY, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "--out", "x", "--seed", "abc"), "seed 'abc' is not a whole number"),
        (("generate", "--out", "x", "--seed", "-1"), "seed -1 must be 0 or more"),
        (("generate", "--out", "x", "--users", "0"), "0 must be at least 1"),
        (("generate", "--out", "x", "--dirty", "0.9"), "0.9 must be between 0 and 0.5"),
        (("generate",), "the following arguments are required: --out"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("summary", "--date", "2026-13-01"), "'2026-13-01' is not a date in YYYY-MM-DD form"),
    ],
)
def test_bad_arguments(tmp_path, args, message):
    result = run(*args, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr


def test_ingest_missing_file(tmp_path):
    result = run("ingest", "--source", str(tmp_path / "missing.csv"), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"error: input not found: {tmp_path / 'missing.csv'}"


def test_ingest_unknown_format(tmp_path):
    result = run("ingest", "--source", str(tmp_path), "--format", "xml", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "invalid choice: 'xml'" in result.stderr.strip().splitlines()[-1]
