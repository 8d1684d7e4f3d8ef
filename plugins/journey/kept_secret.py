"""Secrets generated once and kept in a private file (mode 0600) under the Journey home."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from journey.errors import ConfigError

SECRET_BYTES = 18  # 24 URL-safe characters


def _read(path: Path) -> str:
    """The secret stored in `path`; an empty file is an error naming it."""
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigError(f"{path} is empty: delete it to have a new secret generated")
    return value


def kept_secret(path: Path) -> str:
    """The secret in `path`, generated (random, URL-safe) and written with mode 0600 when missing.

    The secret is written to a private temporary file, then hard-linked into place: the link fails
    when the file exists, so two processes starting at once agree on one secret, and a reader
    never sees a half-written file.
    """
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(SECRET_BYTES)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:  # another process won the race: use its secret
        return _read(path)
    finally:
        draft.unlink()
    return value
