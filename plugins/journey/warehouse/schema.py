"""Connections, versioned SQL migrations and the read-only BI role."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from journey.config import BI_ROLE, DB_SCHEMA, Settings, get_settings
from journey.warehouse.errors import WarehouseError, first_line, redact
from journey.warehouse.role_password import verifier_matches
from journey.warehouse.server import database_url

log = logging.getLogger(__name__)

MIGRATIONS_DIR = files("journey") / "migrations"  # a folder, or inside the zip shipped to a Spark cluster
MIGRATION_FILE = re.compile(r"^V(\d+)__(\w+)\.sql$")
MIGRATION_LOCK = 7_242_026_001  # pg_advisory_lock key: one process migrates a database at a time
_migrated: set[str] = set()  # URLs migrated by this process
LEGACY_BI_PASSWORD = BI_ROLE  # the BI role's password before it was generated: replaced where still in use

# Roles are cluster-wide: create it only when missing (another database may have made it), then
# grant exactly USAGE on the schema and SELECT on its tables and views, now and in the future.
BI_ROLE_SQL = f"""
DO $journey$
DECLARE
    pw text := current_setting('journey.bi_password');
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{BI_ROLE}') THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', '{BI_ROLE}', pw);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created at the same moment by a migration of another database
        END;
    ELSIF current_setting('journey.bi_password_set') = 'on' THEN
        EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', '{BI_ROLE}', pw);
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO {BI_ROLE}', current_database());
    GRANT USAGE ON SCHEMA {DB_SCHEMA} TO {BI_ROLE};
    REVOKE CREATE ON SCHEMA {DB_SCHEMA} FROM {BI_ROLE};
    GRANT SELECT ON ALL TABLES IN SCHEMA {DB_SCHEMA} TO {BI_ROLE};
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {DB_SCHEMA} FROM {BI_ROLE};
    ALTER DEFAULT PRIVILEGES IN SCHEMA {DB_SCHEMA} GRANT SELECT ON TABLES TO {BI_ROLE};
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'cannot manage role {BI_ROLE} (%): ask a DBA to create it with SELECT on schema {DB_SCHEMA}',
        SQLERRM;
END
$journey$
"""


@dataclass(frozen=True)
class Migration:
    """One V<NNN>__<name>.sql file."""

    version: str
    name: str
    path: Traversable

    @property
    def checksum(self) -> str:
        """sha256 of the file's bytes."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def role_url(url: str, user: str, password: str) -> str:
    """The same server and database as `url`, logged in as another role."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def bi_url(settings: Settings) -> str:
    """URL dashboards use: the warehouse as the read-only journey_bi role."""
    return role_url(database_url(settings), BI_ROLE, settings.bi_password)


def open_connection(url: str) -> psycopg2.extensions.connection:
    """psycopg2 connection to `url`; a failure is one line naming the (redacted) URL and the reason."""
    try:
        return psycopg2.connect(url, connect_timeout=10, application_name="journey")
    except psycopg2.Error as exc:
        raise WarehouseError(f"cannot connect to PostgreSQL at {redact(url)}: {first_line(exc)}") from exc


def connect(settings: Settings) -> psycopg2.extensions.connection:
    """Connection to the warehouse (embedded server started if needed), migrated once per process."""
    url = database_url(settings)
    conn = open_connection(url)
    if url not in _migrated:
        try:
            migrate(conn, settings=settings)
        except Exception:
            conn.close()
            raise
        _migrated.add(url)
    return conn


def fetch_all(conn, sql: str, params: dict | tuple | None = None) -> list[tuple]:
    """Rows of one query (read-only helper for the CLI, reports and tests)."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def migration_files(folder: Traversable = MIGRATIONS_DIR) -> list[Migration]:
    """Every V<NNN>__<name>.sql file of the folder, in version order; a bad name is an error."""
    found: dict[int, Migration] = {}
    for path in sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name):
        match = MIGRATION_FILE.match(path.name)
        if not match:
            raise WarehouseError(f"{path}: migration files must be named V<number>__<name>.sql")
        number = int(match.group(1))
        if number in found:
            raise WarehouseError(f"{path.name} and {found[number].path.name} have the same version")
        found[number] = Migration(match.group(1), match.group(2), path)
    return [found[number] for number in sorted(found)]


def _ensure_bookkeeping(cur) -> None:
    """Schema journey and the schema_migrations table, created when missing."""
    cur.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", (DB_SCHEMA,))
    if cur.fetchone() is None:  # checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database
        cur.execute(f"CREATE SCHEMA {DB_SCHEMA}")
    cur.execute(f"""CREATE TABLE IF NOT EXISTS {DB_SCHEMA}.schema_migrations (
        version    text        PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        checksum   text        NOT NULL)""")


def _apply(conn, migration: Migration) -> None:
    """Run one migration file and record it, in one transaction."""
    sql = migration.path.read_text(encoding="utf-8")
    try:
        with conn.cursor() as cur:
            if sql.strip():
                cur.execute(sql)
            cur.execute(f"INSERT INTO {DB_SCHEMA}.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum))
        conn.commit()
    except psycopg2.Error as exc:
        conn.rollback()
        raise WarehouseError(f"migration {migration.path.name} failed and was rolled back: {first_line(exc)}") from exc
    log.info("applied migration %s", migration.path.name)


def _check_applied(done: dict[str, str], files: list[Migration]) -> list[Migration]:
    """The migrations still to apply; an edited, already-applied file is an error."""
    pending = []
    for migration in files:
        if migration.version not in done:
            pending.append(migration)
        elif done[migration.version] != migration.checksum:
            raise WarehouseError(
                f"migration {migration.path.name} was changed after it was applied to this database "
                f"(checksum {done[migration.version][:12]}… recorded, {migration.checksum[:12]}… on disk): "
                "put the change in a new migration file instead")
    unknown = sorted(set(done) - {m.version for m in files})
    if unknown:
        log.warning("the database has migrations this code does not know: %s", ", ".join(unknown))
    return pending


def _has_legacy_password(cur) -> bool:
    """True when the BI role still logs in with its old default password (needs the right to read pg_authid)."""
    try:
        cur.execute("SAVEPOINT journey_bi_probe")
        cur.execute("SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = %s", (BI_ROLE,))
        row = cur.fetchone()
        cur.execute("RELEASE SAVEPOINT journey_bi_probe")
    except psycopg2.errors.InsufficientPrivilege:
        cur.execute("ROLLBACK TO SAVEPOINT journey_bi_probe")
        return False
    return row is not None and verifier_matches(row[0], BI_ROLE, LEGACY_BI_PASSWORD)


def ensure_bi_role(conn, settings: Settings | None = None) -> None:
    """Create the read-only BI role if missing and grant it SELECT on schema journey (and nothing else).

    A new role gets `settings.bi_password` (JOURNEY_BI_PASSWORD, else the one generated and kept
    under the home). An existing role gets it too when JOURNEY_BI_PASSWORD is set, or when it
    still has the old default password (equal to the role's name); otherwise its password is left alone.
    """
    settings = settings or get_settings()
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (BI_ROLE,))
        exists = cur.fetchone() is not None
        replace = bool(settings.bi_password_set) or (exists and _has_legacy_password(cur))
        password = settings.bi_password if replace or not exists else ""  # generated only when it is used
        cur.execute("SELECT set_config('journey.bi_password', %s, true), set_config('journey.bi_password_set', %s, true)",
                    (password, "on" if replace else "off"))
        cur.execute(BI_ROLE_SQL)
    conn.commit()
    for notice in conn.notices:
        if "WARNING" in notice:
            log.warning(notice.strip())
    del conn.notices[:]


def migrate(conn, folder: Traversable = MIGRATIONS_DIR, settings: Settings | None = None) -> list[str]:
    """Apply pending migration files in version order, each once and in its own transaction.

    Returns the file names applied now (empty when up to date). Ends with `ensure_bi_role`
    (with `settings`, else the environment's).
    """
    files = migration_files(folder)
    applied = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        with conn.cursor() as cur:
            _ensure_bookkeeping(cur)
            cur.execute(f"SELECT version, checksum FROM {DB_SCHEMA}.schema_migrations")
            done = dict(cur.fetchall())
        conn.commit()
        for migration in _check_applied(done, files):
            _apply(conn, migration)
            applied.append(migration.path.name)
        ensure_bi_role(conn, settings)
    except BaseException:
        conn.rollback()
        raise
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        conn.commit()
    return applied
