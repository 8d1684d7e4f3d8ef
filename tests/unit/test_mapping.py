"""YAML column mappings of the `mapped` format: a good file is read as written, a bad one
fails with one message that names the file and lists every problem."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from journey.ingest.adapters import feed_format
from journey.ingest.mapping import ColumnMapping, MappingError, ReadOptions, load_mapping, parse_mapping

GOOD = """
columns:
  when: event_time
  customer: user_id
  action: event_type
  sku: product_id
timestamp:
  format: dd/MM/yyyy HH:mm
  zone: Europe/Berlin
event_types:
  pageview: view
  order: purchase
constants:
  channel: app
  quantity: 1
"""


def write(tmp_path, text: str):
    """A mapping file with the given text."""
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_mapping_is_read_as_written(tmp_path):
    path = write(tmp_path, GOOD)

    mapping = load_mapping(path)

    assert mapping == ColumnMapping(
        path=str(path),
        columns={"when": "event_time", "customer": "user_id", "action": "event_type", "sku": "product_id"},
        timestamp_format="dd/MM/yyyy HH:mm",
        timestamp_zone="Europe/Berlin",
        event_types={"pageview": "view", "order": "purchase"},
        constants={"channel": "app", "quantity": "1"},
        orders="per_user_day",  # no session column and no `orders` option: the default, with a warning
    )
    assert mapping.source_columns == ("when", "customer", "action", "sku")
    assert mapping.source_for["user_id"] == "customer"
    assert not mapping.format_has_zone


def test_every_problem_is_listed_in_one_message():
    document = {
        "columns": {"ts": "event_time", "name": "customer_name", "kind": "event_type", "t2": "event_time"},
        "timestamp": {"zone": "Mars/Olympus", "style": "iso"},
        "event_types": {"basket": "add_to_basket"},
        "extras": {},
    }

    with pytest.raises(MappingError) as raised:
        parse_mapping(document, "feeds/shop.yaml")

    message = str(raised.value)
    assert message.startswith("feeds/shop.yaml: ")
    assert "unknown section(s): extras" in message
    assert "unknown canonical field(s): customer_name" in message
    assert "canonical field(s) fed more than once: event_time" in message
    assert "required field(s) not mapped: user_id" in message
    assert "event_types maps to unknown type(s): add_to_basket" in message
    assert "unknown key(s) under 'timestamp': style" in message
    assert "timestamp zone 'Mars/Olympus' is not an IANA time zone" in message


def test_required_fields_may_come_from_constants():
    mapping = parse_mapping({"columns": {"ts": "event_time", "buyer": "user_id"},
                             "constants": {"event_type": "purchase"}}, "m.yaml")

    assert mapping.constants == {"event_type": "purchase"}
    assert mapping.timestamp_zone == "UTC" and mapping.timestamp_format is None


def test_all_required_fields_missing_are_named_together():
    with pytest.raises(MappingError, match=r"required field\(s\) not mapped: event_time, user_id, event_type"):
        parse_mapping({"columns": {"sku": "product_id"}}, "m.yaml")


@pytest.mark.parametrize(
    ("pattern", "has_zone"),
    [("yyyy-MM-dd'T'HH:mm:ssXXX", True), ("dd.MM.yyyy HH:mm z", True), ("yyyy-MM-dd'T'HH:mm", False),
     ("dd/MM/yyyy HH:mm", False)],
)
def test_zone_in_the_pattern_is_recognised(pattern, has_zone):
    mapping = parse_mapping({"columns": {"a": "event_time", "b": "user_id", "c": "event_type"},
                             "timestamp": {"format": pattern}}, "m.yaml")

    assert mapping.format_has_zone is has_zone


def test_files_that_are_not_mappings_are_named(tmp_path):
    with pytest.raises(MappingError, match="mapping file not found: .*nope.yaml"):
        load_mapping(tmp_path / "nope.yaml")
    with pytest.raises(MappingError, match="mapping.yaml: not valid YAML"):
        load_mapping(write(tmp_path, "columns: [unclosed"))
    with pytest.raises(MappingError, match="must be a YAML mapping with a 'columns' section"):
        load_mapping(write(tmp_path, "- just\n- a list\n"))


def test_format_and_mapping_must_go_together(tmp_path):
    with pytest.raises(ValueError, match="format 'mapped' needs a mapping file"):
        feed_format("mapped")
    with pytest.raises(ValueError, match="only used with format 'mapped', not 'transactions'"):
        feed_format("transactions", str(write(tmp_path, GOOD)))
    with pytest.raises(ValueError, match="unknown format 'xml': expected one of canonical, rees46, transactions, mapped"):
        feed_format("xml")


def test_mapped_format_requires_the_mapped_source_columns(tmp_path):
    feed = feed_format("mapped", str(write(tmp_path, GOOD)))

    assert feed.required == ("when", "customer", "action", "sku")
    assert feed.name.startswith("mapped (") and feed.name.endswith("mapping.yaml)")


def run_cli(tmp_path, *args: str):
    """The installed `journey` command in an isolated home."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "JOURNEY_HOME": str(tmp_path / "home"),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.run([str(Path(sys.executable).parent / "journey"), *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_names_a_bad_mapping_before_spark_starts(tmp_path):
    bad = write(tmp_path, "columns:\n  ts: event_time\n")

    without = run_cli(tmp_path, "ingest", "--source", str(tmp_path), "--format", "mapped")
    with_bad = run_cli(tmp_path, "ingest", "--source", str(tmp_path), "--format", "mapped", "--mapping", str(bad))

    assert without.returncode == 2 and "Traceback" not in without.stderr
    assert without.stderr.strip().splitlines()[-1] == (
        "error: format 'mapped' needs a mapping file (--mapping FILE, see docs/formats.md)")
    assert with_bad.returncode == 2
    assert with_bad.stderr.strip().splitlines()[-1] == (
        f"error: {bad}: required field(s) not mapped: user_id, event_type "
        "(map a source column to them under 'columns' or set them under 'constants')")


REPO = Path(__file__).resolve().parents[2]
BASE = {"columns": {"d": "event_time", "c": "user_id"}, "constants": {"event_type": "purchase"}}


def test_read_layout_floor_identity_orders_and_line_prices_are_read_as_written():
    document = {**BASE, "read": {"delimiter": "whitespace", "header": False, "names": ["x", "c", "d"],
                                 "encoding": "latin-1"},
                "timestamp": {"format": "yyyyMMdd", "floor": "1990-01-01"}, "rows_are_distinct": True,
                "orders": "per_row", "price_is": "line_total"}

    mapping = parse_mapping(document, "m.yaml")

    assert mapping.read == ReadOptions(delimiter="whitespace", header=False, names=("x", "c", "d"),
                                       encoding="ISO-8859-1")
    assert mapping.read.whitespace
    assert (mapping.time_floor, mapping.rows_are_distinct, mapping.orders, mapping.price_is) == (
        date(1990, 1, 1), True, "per_row", "line_total")


def test_defaults_keep_todays_behaviour():
    mapping = parse_mapping({**BASE, "columns": {**BASE["columns"], "v": "session_id"}}, "m.yaml")

    assert mapping.read == ReadOptions(delimiter=",", header=True, names=(), encoding="UTF-8")
    assert (mapping.time_floor, mapping.rows_are_distinct, mapping.orders, mapping.price_is) == (
        None, False, None, "unit_price")


@pytest.mark.parametrize(("written", "delimiter"), [(";", ";"), ("tab", "\t"), ("\t", "\t"), ("|", "|")])
def test_delimiter_is_one_character_or_a_word(written, delimiter):
    mapping = parse_mapping({**BASE, "orders": "per_row", "read": {"delimiter": written}}, "m.yaml")

    assert mapping.read.delimiter == delimiter


def test_an_order_column_becomes_the_session():
    mapping = parse_mapping({**BASE, "orders": {"column": "invoice"}}, "m.yaml")

    assert mapping.columns["invoice"] == "session_id"
    assert mapping.source_columns == ("d", "c", "invoice")
    assert mapping.orders is None


def test_without_sessions_or_orders_a_warning_names_the_default(caplog):
    with caplog.at_level("WARNING", logger="journey.ingest.mapping"):
        mapping = parse_mapping(BASE, "feeds/shop.yaml")

    assert mapping.orders == "per_user_day"
    assert [r.getMessage() for r in caplog.records] == [
        "feeds/shop.yaml: no session_id or order column and no 'orders' option: orders cannot be told apart; "
        "using orders: per_user_day (one order per user and day)"]


def test_every_bad_option_is_listed_in_one_message():
    document = {**BASE, "read": {"delimiter": ";;", "header": "yes", "encoding": "klingon", "quote": "'"},
                "timestamp": {"floor": "soon"}, "rows_are_distinct": "yes", "orders": "per_week",
                "price_is": "gross"}

    with pytest.raises(MappingError) as raised:
        parse_mapping(document, "feeds/shop.yaml")

    assert str(raised.value) == (
        "feeds/shop.yaml: 'orders' must be one of per_user_day, per_row, got 'per_week'; "
        "timestamp floor 'soon' is not a date (YYYY-MM-DD); "
        "unknown key(s) under 'read': quote (known: delimiter, header, names, encoding); "
        "read.header must be true or false, got 'yes'; "
        "read.delimiter ';;' must be one character (not a quote or line break), 'tab' or 'whitespace'; "
        "read.encoding 'klingon' is not supported (known: UTF-8, ISO-8859-1, US-ASCII, UTF-16BE, UTF-16LE, "
        "UTF-16, UTF-32); "
        "'rows_are_distinct' must be true or false, got 'yes'; "
        "'price_is' must be one of unit_price, line_total, got 'gross'")


def test_names_and_orders_must_agree_with_the_columns():
    document = {**BASE, "columns": {**BASE["columns"], "v": "session_id"}, "orders": {"column": "c"},
                "read": {"header": False, "names": ["d", "x", "x"]}}

    with pytest.raises(MappingError) as raised:
        parse_mapping(document, "m.yaml")

    assert str(raised.value) == (
        "m.yaml: orders.column 'c' is already mapped to user_id; read.names repeats: x; "
        "mapped column(s) not among read.names: c, v")


@pytest.mark.parametrize(("read", "problem"), [
    ({"header": False}, "read.names is required when read.header is false"),
    ({"names": ["d", "c"]}, "read.names is only used with read.header: false"),
    ({"header": False, "names": "d c"}, "read.names must be a list of column names, got 'd c'"),
    ({"delimiter": '"'}, "read.delimiter '\"' must be one character (not a quote or line break)"),
    ("whitespace", "'read' must be a mapping of options, got str"),
])
def test_bad_read_sections_are_named(read, problem):
    with pytest.raises(MappingError, match=re.escape(problem)):
        parse_mapping({**BASE, "orders": "per_row", "read": read}, "m.yaml")


def test_orders_and_a_session_column_cannot_both_say_what_an_order_is():
    with pytest.raises(MappingError, match=re.escape("'orders: per_row' and a session_id field both say")):
        parse_mapping({**BASE, "columns": {**BASE["columns"], "v": "session_id"}, "orders": "per_row"}, "m.yaml")


def test_the_cdnow_example_mapping_is_valid():
    mapping = load_mapping(REPO / "docs" / "examples" / "cdnow.yaml")

    assert mapping.read.names == ("full_customer_id", "customer_id", "date", "number_of_cds", "dollar_value")
    assert mapping.source_for == {"user_id": "customer_id", "event_time": "date", "quantity": "number_of_cds",
                                  "price": "dollar_value"}
    assert (mapping.read.whitespace, mapping.read.header, mapping.rows_are_distinct, mapping.orders,
            mapping.price_is, mapping.time_floor) == (True, False, True, "per_user_day", "line_total",
                                                      date(1990, 1, 1))
