"""The real samples of ../shared/data (beside the clone): where they are, or a skip that says where it looked."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CDNOW_MAPPING = REPO / "docs" / "examples" / "cdnow.yaml"
SAMPLE_FOLDERS = (REPO.parent / "shared" / "data", Path("/work/shared/data"))


def shared_sample(name: str) -> Path:
    """A real sample file by name, or a skip naming the folders looked in."""
    for folder in SAMPLE_FOLDERS:
        if (folder / name).is_file():
            return (folder / name).resolve()
    pytest.skip(f"shared data missing: no {name} in {' or '.join(str(f) for f in SAMPLE_FOLDERS)}")


def cdnow_file() -> Path:
    """The CDNOW sample as distributed."""
    return shared_sample("cdnow_sample.txt")
