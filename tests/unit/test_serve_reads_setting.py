"""JOURNEY_API_READS picks the API's read path; anything else is refused before the warehouse is touched."""

from __future__ import annotations

import pytest

from journey.errors import ConfigError
from journey.serve.app import READS_ENV, app_from_environment


@pytest.mark.parametrize("value", ["memory", "", "SNAPSHOT"])
def test_an_unknown_read_path_is_a_config_error_naming_the_variable(monkeypatch, tmp_path, value):
    monkeypatch.setenv(READS_ENV, value)
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path / "home"))
    with pytest.raises(ConfigError, match=f"{READS_ENV}={value!r}: expected snapshot or database"):
        app_from_environment()
    assert not (tmp_path / "home").exists()  # refused before any warehouse was started
