"""The BI role's password: generated on first start, kept (mode 0600), the old default refused.

Real embedded PostgreSQL; every role but the superuser logs in with a password (scram-sha-256),
as a dashboard would.
"""

from __future__ import annotations

import psycopg2
import pytest

from journey import warehouse
from journey.config import BI_ROLE, get_settings
from journey.warehouse.schema import role_url

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A fresh Journey home whose embedded server is started (and migrated) by the first connect."""
    path = tmp_path_factory.mktemp("bi-password") / "home"
    settings = get_settings({"JOURNEY_HOME": str(path)})
    with warehouse.connect(settings):
        pass
    yield path
    warehouse.stop_server(settings)


def logs_in(settings, password: str) -> bool:
    """True when journey_bi can log in to the warehouse with `password`."""
    try:
        conn = psycopg2.connect(role_url(warehouse.database_url(settings), BI_ROLE, password), connect_timeout=10)
    except psycopg2.OperationalError as exc:
        assert "password authentication failed" in str(exc)
        return False
    with conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, count(*) FROM journey.campaigns")
        assert cur.fetchone() == (BI_ROLE, 0)
    conn.close()
    return True


def owner_sql(settings, statement: str) -> None:
    """Run one statement as the owner (superuser of the embedded server)."""
    conn = warehouse.open_connection(warehouse.database_url(settings))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.close()


def test_first_start_generates_a_private_random_password_the_role_logs_in_with(home):
    settings = get_settings({"JOURNEY_HOME": str(home)})
    kept = settings.bi_password_file
    assert kept == home / "secrets" / "bi_password"
    assert kept.stat().st_mode & 0o777 == 0o600
    password = kept.read_text().strip()
    assert len(password) == 24 and password != "journey_bi"
    assert logs_in(settings, password)
    assert not logs_in(settings, "journey_bi")
    assert warehouse.bi_url(settings).split("@")[0].endswith(f":{password}")


def test_a_second_start_reuses_the_kept_password(home):
    settings = get_settings({"JOURNEY_HOME": str(home)})
    before = settings.bi_password_file.read_text()
    assert warehouse.stop_server(settings) is True
    conn = warehouse.open_connection(warehouse.database_url(settings))  # restarts the server
    warehouse.migrate(conn, settings=get_settings({"JOURNEY_HOME": str(home)}))
    conn.close()
    assert settings.bi_password_file.read_text() == before
    assert logs_in(settings, before.strip())


@pytest.mark.parametrize("encryption", ["scram-sha-256", "md5"])
def test_a_role_still_on_the_old_default_gets_the_kept_password(home, encryption):
    settings = get_settings({"JOURNEY_HOME": str(home)})
    owner_sql(settings, f"SET password_encryption = '{encryption}'; "
                        "ALTER ROLE journey_bi PASSWORD 'journey_bi'")  # as an older Journey left it
    conn = warehouse.open_connection(warehouse.database_url(settings))
    (stored,) = warehouse.fetch_all(conn, "SELECT rolpassword FROM pg_authid WHERE rolname = 'journey_bi'")[0]
    assert stored.startswith({"scram-sha-256": "SCRAM-SHA-256$", "md5": "md5"}[encryption])
    if encryption == "scram-sha-256":  # (an md5 verifier cannot answer a scram-sha-256 login at all)
        assert logs_in(settings, "journey_bi")
    warehouse.migrate(conn, settings=settings)
    conn.close()
    assert not logs_in(settings, "journey_bi")
    assert logs_in(settings, settings.bi_password)


def test_a_role_with_another_password_is_left_alone_unless_one_is_given(home):
    settings = get_settings({"JOURNEY_HOME": str(home)})
    owner_sql(settings, "ALTER ROLE journey_bi PASSWORD 'chosen-by-a-dba'")
    conn = warehouse.open_connection(warehouse.database_url(settings))
    warehouse.migrate(conn, settings=settings)
    assert logs_in(settings, "chosen-by-a-dba")
    explicit = get_settings({"JOURNEY_HOME": str(home), "JOURNEY_BI_PASSWORD": "explicit-wins"})
    warehouse.migrate(conn, settings=explicit)
    conn.close()
    assert logs_in(settings, "explicit-wins") and not logs_in(settings, "chosen-by-a-dba")
    assert warehouse.bi_url(explicit).split("@")[0].endswith(":explicit-wins")
