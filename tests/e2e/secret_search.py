"""Search what a run left under a Journey home for passwords (logs, reports, Airflow's and PostgreSQL's files)."""

from __future__ import annotations

import json
from pathlib import Path

from journey.config import get_settings
from journey.orchestration.airflow_server import ADMIN_USER, PASSWORDS_FILE

SKIPPED = ("lake", "inbox")  # the data the run read and wrote, not logs


def kept_passwords(home: Path) -> dict[Path, str]:
    """File that keeps it → password: the BI role's and the Airflow admin's, as the run generated them."""
    settings = get_settings({"JOURNEY_HOME": str(home)})
    admin_file = settings.airflow_home / PASSWORDS_FILE
    return {settings.bi_password_file: settings.bi_password_file.read_text().strip(),
            admin_file: json.loads(admin_file.read_text())[ADMIN_USER]}


def leaks(home: Path) -> tuple[list[str], int]:
    """'<file>: <which>' for every file under `home` holding a kept password (byte search), and files searched.

    Every file counts (task logs, run logs, HTML reports, data docs, airflow.db, the PostgreSQL log
    and data files) except the lake, the inbox and the two files meant to keep the passwords.
    """
    kept = kept_passwords(home)
    found, searched = [], 0
    for path in sorted(home.rglob("*")):
        if not path.is_file() or path in kept or any(part in SKIPPED for part in path.relative_to(home).parts[:1]):
            continue
        searched += 1
        data = path.read_bytes()
        found += [f"{path}: {kept_file.name}" for kept_file, secret in kept.items() if secret.encode() in data]
    return found, searched
