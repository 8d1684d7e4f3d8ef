"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from journey import warehouse
from journey.config import get_settings


@pytest.fixture(scope="module")
def warehouse_settings(tmp_path_factory, request):
    """A Journey home with a running embedded PostgreSQL, for the tests of one module."""
    home = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "home"
    settings = get_settings({"JOURNEY_HOME": str(home), "JOURNEY_SHUFFLE_PARTITIONS": "4"})
    warehouse.start_server(settings)
    yield settings
    warehouse.stop_server(settings)
