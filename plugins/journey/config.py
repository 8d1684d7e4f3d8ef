"""Settings from the environment, in one place, each with its default next to its name; secrets
generated once and kept in a private file (mode 0600) under the Journey home."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from journey.errors import ConfigError

ENV_HOME = "JOURNEY_HOME"  # default ./.journey
ENV_DB_URL = "JOURNEY_DB_URL"  # unset -> embedded PostgreSQL under $JOURNEY_HOME/pg
ENV_SPARK_MASTER = "JOURNEY_SPARK_MASTER"  # default local[*]
ENV_LAKE = "JOURNEY_LAKE"  # default $JOURNEY_HOME/lake; any Hadoop URI on a cluster
ENV_SHUFFLE_PARTITIONS = "JOURNEY_SHUFFLE_PARTITIONS"  # default 8 (local mode)
ENV_DRIVER_MEMORY = "JOURNEY_SPARK_DRIVER_MEMORY"  # default 4g
ENV_TASK_RETRIES = "JOURNEY_TASK_RETRIES"  # default 2 (Airflow task retries)
ENV_RETRY_DELAY = "JOURNEY_RETRY_DELAY_SECONDS"  # default 300
ENV_AIRFLOW_PORT = "JOURNEY_AIRFLOW_PORT"  # default 8080 (`journey airflow`: api-server port)
ENV_AIRFLOW_PASSWORD = "JOURNEY_AIRFLOW_PASSWORD"  # default: generated once, kept in $AIRFLOW_HOME
ENV_AIRFLOW_URL = "JOURNEY_AIRFLOW_URL"  # default http://127.0.0.1:$JOURNEY_AIRFLOW_PORT (the builder's Launch)
ENV_AIRFLOW_USER = "JOURNEY_AIRFLOW_USER"  # default admin (the builder's Launch)
ENV_BI_PASSWORD = "JOURNEY_BI_PASSWORD"  # default: generated once, kept in $JOURNEY_HOME/secrets/bi_password
ENV_MAX_CAMPAIGN_ROWS = "JOURNEY_MAX_CAMPAIGN_ROWS"  # default 50,000,000 (rows one campaign run may publish)
ENV_API_PORT = "JOURNEY_API_PORT"  # default 8000 (`journey serve`: the next-best-action API)
ENV_SERVE_URL = "JOURNEY_SERVE_URL"  # default http://127.0.0.1:$JOURNEY_API_PORT (links from Airflow to reports)

DEFAULT_HOME = ".journey"
DEFAULT_SPARK_MASTER = "local[*]"
DEFAULT_SHUFFLE_PARTITIONS = 8
DEFAULT_DRIVER_MEMORY = "4g"
DEFAULT_TASK_RETRIES = 2
DEFAULT_RETRY_DELAY_SECONDS = 300
DEFAULT_AIRFLOW_PORT = 8080
DEFAULT_MAX_CAMPAIGN_ROWS = 50_000_000
BI_PASSWORD_FILE = Path("secrets") / "bi_password"  # under $JOURNEY_HOME, mode 0600
DEFAULT_API_PORT = 8000
DB_SCHEMA = "journey"
BI_ROLE = "journey_bi"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    home: Path
    db_url: str | None
    spark_master: str
    lake: str
    shuffle_partitions: int
    driver_memory: str
    task_retries: int
    retry_delay_seconds: int
    airflow_port: int
    airflow_password: str | None = field(repr=False)
    bi_password_set: str | None = field(default=None, repr=False)  # JOURNEY_BI_PASSWORD as given (None: unset)
    api_port: int = DEFAULT_API_PORT
    max_campaign_rows: int = DEFAULT_MAX_CAMPAIGN_ROWS

    @property
    def bi_password(self) -> str:
        """Password of the read-only BI role: JOURNEY_BI_PASSWORD, else the one kept in `bi_password_file`.

        Reading it the first time in a home generates the file (random, mode 0600).
        """
        return self.bi_password_set or kept_secret(self.bi_password_file)

    @property
    def bi_password_file(self) -> Path:
        """Where the generated BI password is kept (used when JOURNEY_BI_PASSWORD is unset)."""
        return self.home / BI_PASSWORD_FILE

    @property
    def pg_dir(self) -> Path:
        """Data directory of the embedded PostgreSQL server."""
        return self.home / "pg"

    @property
    def reports_dir(self) -> Path:
        """Where human-readable run reports go."""
        return self.home / "reports"

    @property
    def airflow_home(self) -> Path:
        """AIRFLOW_HOME used by the local runs (`make demo`, tests)."""
        return self.home / "airflow"

    @property
    def inbox(self) -> Path:
        """Default folder the daily DAG ingests events from."""
        return self.home / "inbox"


def _whole_number(env, name: str, default: int) -> int:
    """An integer setting; a value that does not parse names its variable."""
    text = env.get(name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a whole number (default {default})") from None


def get_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (or a given mapping); paths become absolute."""
    env = os.environ if environ is None else environ
    home = Path(env.get(ENV_HOME) or DEFAULT_HOME).expanduser().resolve()
    lake = env.get(ENV_LAKE) or str(home / "lake")
    return Settings(
        home=home,
        db_url=env.get(ENV_DB_URL) or None,
        spark_master=env.get(ENV_SPARK_MASTER) or DEFAULT_SPARK_MASTER,
        lake=lake.rstrip("/"),
        shuffle_partitions=_whole_number(env, ENV_SHUFFLE_PARTITIONS, DEFAULT_SHUFFLE_PARTITIONS),
        driver_memory=env.get(ENV_DRIVER_MEMORY) or DEFAULT_DRIVER_MEMORY,
        task_retries=_whole_number(env, ENV_TASK_RETRIES, DEFAULT_TASK_RETRIES),
        retry_delay_seconds=_whole_number(env, ENV_RETRY_DELAY, DEFAULT_RETRY_DELAY_SECONDS),
        airflow_port=_whole_number(env, ENV_AIRFLOW_PORT, DEFAULT_AIRFLOW_PORT),
        airflow_password=env.get(ENV_AIRFLOW_PASSWORD) or None,
        bi_password_set=env.get(ENV_BI_PASSWORD) or None,
        api_port=_whole_number(env, ENV_API_PORT, DEFAULT_API_PORT),
        max_campaign_rows=_whole_number(env, ENV_MAX_CAMPAIGN_ROWS, DEFAULT_MAX_CAMPAIGN_ROWS),
    )


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
