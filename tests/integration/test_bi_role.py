"""The read-only BI role against every published table and view, listed from the catalog.

New tables and views of schema `journey` are covered automatically; the list of contract tables
below only guards against a catalog query that finds nothing. The dashboard queries of docs/bi.md
are run as `journey_bi` too, so the documentation stays runnable.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from journey import warehouse
from journey.config import get_settings

pytestmark = pytest.mark.postgres

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bi.md"
CONTRACT = {  # DESIGN.md's warehouse contracts, written by hand
    "user_profiles", "user_segments", "segment_history", "segment_summary", "segment_transitions",
    "model_registry", "user_scores", "campaigns", "campaign_holdout", "coupon_assignments", "ad_assignments",
    "recommendation_assignments", "dq_results", "quarantine_summary", "bi_campaign_summary",
}
RELATIONS_SQL = """
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'journey' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname
"""


@pytest.fixture(scope="module")
def owner(tmp_path_factory):
    """A migrated embedded warehouse (owner connection, autocommit) with one suppression row; stopped after."""
    settings = get_settings({"JOURNEY_HOME": str(tmp_path_factory.mktemp("bi-role") / "home")})
    conn = warehouse.connect(settings)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO journey.suppression_list (user_id, reason) VALUES ('u-bi', 'opt_out')")
    yield settings, conn
    conn.close()
    warehouse.stop_server(settings)


@pytest.fixture(scope="module")
def relations(owner) -> dict[str, str]:
    """relname -> kind ('table' or 'view') of everything in schema journey."""
    found = warehouse.fetch_all(owner[1], RELATIONS_SQL)
    return {name: "view" if kind in ("v", "m") else "table" for name, kind in found}


@pytest.fixture(scope="module")
def bi(owner):
    """A connection as journey_bi (autocommit: each refused statement stands alone)."""
    conn = psycopg2.connect(warehouse.bi_url(owner[0]))
    conn.autocommit = True
    yield conn
    conn.close()


def run_as(conn, sql: str) -> list[tuple]:
    """Execute one statement; rows when it returns any."""
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall() if cur.description else []


def test_catalog_lists_every_contract_table_and_view(relations):
    assert CONTRACT <= set(relations), sorted(CONTRACT - set(relations))
    assert relations["bi_campaign_summary"] == "view" and relations["campaigns"] == "table"


def test_bi_selects_every_table_and_view(owner, relations, bi):
    for name in relations:
        (count,) = run_as(bi, f"SELECT count(*) FROM journey.{name}")[0]  # raises if refused
        assert count == warehouse.fetch_all(owner[1], f"SELECT count(*) FROM journey.{name}")[0][0], name
    assert run_as(bi, "SELECT user_id, reason FROM journey.suppression_list") == [("u-bi", "opt_out")]


@pytest.mark.parametrize("template", [
    "INSERT INTO journey.{name} DEFAULT VALUES",
    "UPDATE journey.{name} SET {column} = {column}",
    "DELETE FROM journey.{name}",
    "TRUNCATE journey.{name}",
])
def test_bi_cannot_change_any_table(owner, relations, bi, template):
    tables = [name for name, kind in relations.items() if kind == "table"]
    for name in tables:
        (column,) = warehouse.fetch_all(owner[1], "SELECT column_name FROM information_schema.columns WHERE "
                                                  "table_schema = 'journey' AND table_name = %s AND "
                                                  "ordinal_position = 1", (name,))[0]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match=f"permission denied for table {name}"):
            run_as(bi, template.format(name=name, column=column))
    assert run_as(bi, "SELECT count(*) FROM journey.suppression_list") == [(1,)]


def test_bi_has_no_write_privilege_on_any_view(relations, bi):
    views = [name for name, kind in relations.items() if kind == "view"]
    assert views
    for name in views:
        for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            assert run_as(bi, f"SELECT has_table_privilege('journey.{name}', '{privilege}')") == [(False,)], (
                name, privilege)
        with pytest.raises(psycopg2.Error):
            run_as(bi, f"DELETE FROM journey.{name}")


@pytest.mark.parametrize("statement", [
    "CREATE TABLE journey.sneaky (x int)",
    "CREATE VIEW journey.sneaky AS SELECT 1 AS x",
    "CREATE TABLE public.sneaky (x int)",
    "CREATE VIEW public.sneaky AS SELECT 1 AS x",
    "CREATE SCHEMA sneaky",
    "CREATE FUNCTION journey.sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
])
def test_bi_cannot_create_objects(bi, statement):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
        run_as(bi, statement)


def doc_queries() -> list[str]:
    """Every statement of the ```sql blocks of docs/bi.md."""
    blocks = re.findall(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    statements = [s.strip() for block in blocks for s in block.split(";")]
    return [s for s in statements if s and not all(line.startswith("--") for line in s.splitlines())]


def test_documented_dashboard_queries_run_as_bi(bi):
    queries = doc_queries()
    assert len(queries) >= 7, queries
    for sql in queries:
        run_as(bi, sql)  # raises on a typo, a wrong column or a missing grant
