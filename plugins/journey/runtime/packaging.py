"""The `journey` package as a zip for Spark executors (`--py-files`), rebuilt only when the code changes.

The zip is named by a hash of the package's files, under `$JOURNEY_HOME/dist/`, and written to a
temporary name then renamed, so concurrent tasks share one file and never see a half-written one.
Its bytes depend only on the files (fixed timestamps, sorted entries).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

from journey.config import Settings
from journey.errors import MissingInputError

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # plugins/journey
DIST_FOLDER = "dist"  # under $JOURNEY_HOME
SKIPPED_DIRS = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})
ZIP_TIMESTAMP = (2020, 1, 1, 0, 0, 0)  # fixed, so the same files give the same bytes
HASH_CHARS = 16
LOCAL_MASTER_PREFIX = "local"  # local, local[*], local[N]: executors are the driver's own process


def ships_package(master: str) -> bool:
    """True when the master runs executors outside this process (anything but local mode)."""
    return not master.strip().startswith(LOCAL_MASTER_PREFIX)


def package_files(root: Path = PACKAGE_DIR) -> list[Path]:
    """Every file of the package folder (code and data such as migrations), sorted; no byte-code."""
    if not (root / "__init__.py").is_file():
        raise MissingInputError(f"{root} is not a package folder (no __init__.py): cannot build the Spark zip")
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and path.suffix not in SKIPPED_SUFFIXES
        and not SKIPPED_DIRS.intersection(path.relative_to(root).parts)
    )


def content_hash(root: Path = PACKAGE_DIR) -> str:
    """Short sha256 over the package's relative file names and bytes."""
    digest = hashlib.sha256()
    for path in package_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:HASH_CHARS]


def dist_dir(settings: Settings) -> Path:
    """Folder of the built package zips."""
    return settings.home / DIST_FOLDER


def _write_zip(root: Path, target: Path) -> None:
    """Write the package as `<name>/...` entries into target, via a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in package_files(root):
                info = zipfile.ZipInfo(f"{root.name}/{path.relative_to(root).as_posix()}", ZIP_TIMESTAMP)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def package_zip(settings: Settings, root: Path = PACKAGE_DIR) -> Path:
    """The zip of the package for this code version: reused when present, built otherwise."""
    target = dist_dir(settings) / f"{root.name}-{content_hash(root)}.zip"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_zip(root, target)
    return target
