"""The ground floor: settings that name their variable, the error family at the entry points, lake paths."""

from __future__ import annotations

import pytest

from journey import lake
from journey.config import get_settings
from journey.errors import ConfigError, InputError, JourneyError, MissingInputError
from journey.runtime.runner import run_main


@pytest.mark.parametrize("name", ["JOURNEY_SHUFFLE_PARTITIONS", "JOURNEY_TASK_RETRIES", "JOURNEY_RETRY_DELAY_SECONDS",
                                  "JOURNEY_AIRFLOW_PORT"])
def test_a_setting_that_does_not_parse_names_its_variable(name):
    with pytest.raises(ConfigError, match=f"^{name}='eight' is not a whole number"):
        get_settings({name: "eight"})


def test_the_bi_password_is_a_setting_else_generated_and_kept(tmp_path):
    fresh = get_settings({"JOURNEY_HOME": str(tmp_path)})
    generated = fresh.bi_password
    assert fresh.bi_password_set is None and len(generated) == 24 and generated != "journey_bi"
    assert fresh.bi_password_file.read_text().strip() == generated
    assert fresh.bi_password_file.stat().st_mode & 0o777 == 0o600
    assert get_settings({"JOURNEY_HOME": str(tmp_path)}).bi_password == generated  # kept
    assert get_settings({"JOURNEY_HOME": str(tmp_path / "other")}).bi_password != generated
    given = get_settings({"JOURNEY_HOME": str(tmp_path), "JOURNEY_BI_PASSWORD": "s3cret"})
    assert (given.bi_password, given.bi_password_set) == ("s3cret", "s3cret")
    assert "s3cret" not in repr(given)


def test_expected_errors_are_one_line_and_exit_2(capsys):
    def main(_argv):
        raise InputError("events.csv row 3: price 'abc' is not a number")

    assert run_main(main, []) == 2
    assert capsys.readouterr().err == "error: events.csv row 3: price 'abc' is not a number\n"


def test_a_bug_keeps_its_traceback():
    def main(_argv):
        return int("not a number")  # a plain ValueError: a bug, not bad input

    with pytest.raises(ValueError, match="invalid literal"):
        run_main(main, [])


def test_the_family_keeps_the_builtin_kinds_callers_catch():
    assert issubclass(InputError, ValueError) and issubclass(MissingInputError, FileNotFoundError)
    assert all(issubclass(kind, JourneyError) for kind in (InputError, ConfigError, MissingInputError))


@pytest.mark.parametrize(("target", "local"), [
    ("file:///lake/curated/events", "/lake/curated/events"),
    ("/lake/curated/events", "/lake/curated/events"),
    ("hdfs://nn:8020/lake/x", "hdfs://nn:8020/lake/x"),
])
def test_local_path_strips_file_uris_and_passes_other_file_systems(target, local):
    assert lake.local_path(target) == local


def test_local_path_refuses_a_remote_lake_where_local_files_are_needed():
    with pytest.raises(ConfigError, match="model artifacts needs a local or mounted lake, not s3a://b/m: set JOURNEY_LAKE"):
        lake.local_path("s3a://b/m", needs_local="model artifacts")


def test_as_uri_makes_paths_file_uris():
    assert (lake.as_uri("/lake/x"), lake.as_uri("hdfs://nn/x")) == ("file:///lake/x", "hdfs://nn/x")


def test_json_documents_are_written_whole_and_read_back(tmp_path):
    target = str(tmp_path / "runs" / "ingest" / "run-1.json")

    lake.write_json(target, {"run_id": "run-1", "rows": 3})
    lake.write_json(target, {"run_id": "run-1", "rows": 4})

    assert lake.read_json(target) == {"run_id": "run-1", "rows": 4}
    assert [p.name for p in (tmp_path / "runs" / "ingest").iterdir()] == ["run-1.json"]  # no temporary file left


@pytest.mark.parametrize(("text", "value"), [("True", True), ("false", False), ("1", True), ("", False), ("on", True)])
def test_boolean_options_read_what_airflow_renders(text, value):
    from journey.runtime.runner import boolean_text

    assert boolean_text(text) is value


def test_a_boolean_option_that_is_neither_is_refused():
    from journey.runtime.runner import boolean_text

    with pytest.raises(InputError, match="'maybe' is not true or false"):
        boolean_text("maybe")
