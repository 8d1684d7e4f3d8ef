"""Guards around publishing: the campaign row limit and one publisher per campaign id / daily snapshot.

Real embedded PostgreSQL and the real publish code; a second publisher runs in a thread with its
own connection, and the test sees it waiting in pg_locks (an advisory lock not granted).
"""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from test_campaign_publish import EXPECTED_RUN_1, make_run, table_counts

from journey import warehouse
from journey.campaigns.publish import loads, publish_campaign
from journey.config import get_settings
from journey.errors import DataError
from journey.profiles.publish import DAILY_PUBLISH_LOCK, publish_daily
from journey.warehouse.publish_lock import lock_key

pytestmark = pytest.mark.postgres

WAITING_SQL = """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                 AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s"""


@pytest.fixture(scope="module")
def home(warehouse_settings):
    """A Journey home with a running embedded PostgreSQL (tests/integration/conftest.py)."""
    return warehouse_settings.home


def settings_of(home, **env: str):
    """Settings of the home with extra variables."""
    return get_settings({"JOURNEY_HOME": str(home), **env})


def waiting_on(settings, name: str) -> int:
    """Sessions waiting for the publish lock of `name` right now."""
    with warehouse.connect(settings) as conn:
        return warehouse.fetch_all(conn, WAITING_SQL, (lock_key(name),))[0][0]


def wait_until(condition, timeout: float = 30) -> None:
    """Poll `condition` until true, else fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


class Background(threading.Thread):
    """A call in a thread, keeping its result or its error."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.result, self.error = call, None, None
        self.start()

    def run(self):
        try:
            self.result = self.call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc


def test_a_campaign_over_the_row_limit_stops_before_publishing(home):
    request = make_run(settings_of(home), "limit-1", ["u1", "u2", "u3", "u4"])  # 17 rows in all
    tight = settings_of(home, JOURNEY_MAX_CAMPAIGN_ROWS="16")
    with pytest.raises(DataError, match=r"^campaign 'spring' run 'limit-1' would publish 17 rows "
                                        r"\(recommendation_assignments: 6, .*\), more than "
                                        r"JOURNEY_MAX_CAMPAIGN_ROWS=16: nothing was published"):
        publish_campaign(tight, request)
    assert table_counts(tight, "limit-1") == dict.fromkeys(EXPECTED_RUN_1, 0)
    assert publish_campaign(settings_of(home, JOURNEY_MAX_CAMPAIGN_ROWS="17"), request) == EXPECTED_RUN_1


def test_two_publishes_of_one_campaign_id_take_turns_and_leave_one_runs_rows(home, capsys):
    settings = settings_of(home)
    request = make_run(settings, "twice", ["u1", "u2", "u3", "u4"])
    first = warehouse.connect(settings)
    warehouse.hold_publish_lock(first, "campaign spring")  # the first publisher, mid-transaction
    second = Background(lambda: publish_campaign(settings, request))
    wait_until(lambda: waiting_on(settings, "campaign spring") == 1)
    assert second.is_alive() and table_counts(settings, "twice") == dict.fromkeys(EXPECTED_RUN_1, 0)
    assert warehouse.publish(first, loads(settings, request), lock="campaign spring")["coupon_assignments"] == 3
    first.close()
    second.join(30)
    assert second.error is None and second.result == EXPECTED_RUN_1
    assert table_counts(settings, "twice") == EXPECTED_RUN_1  # the second replaced the first's rows
    assert "campaign spring is being published by another run: waiting up to 30min" in capsys.readouterr().out


def test_other_campaign_ids_do_not_wait(home):
    settings = settings_of(home)
    first = warehouse.connect(settings)
    warehouse.hold_publish_lock(first, "campaign spring")
    other = warehouse.connect(settings)
    warehouse.hold_publish_lock(other, "campaign autumn", wait="1s")  # returns at once
    other.rollback()
    other.close()
    first.rollback()
    first.close()


def test_a_publisher_that_waits_too_long_fails_naming_the_campaign(home):
    settings = settings_of(home)
    first = warehouse.connect(settings)
    warehouse.hold_publish_lock(first, "campaign spring")
    second = warehouse.connect(settings)
    try:
        with pytest.raises(warehouse.WarehouseError, match="^campaign spring is being published by another run, "
                                                           "still after 300ms: nothing was published"):
            warehouse.hold_publish_lock(second, "campaign spring", wait="300ms")
    finally:
        second.close()
        first.rollback()
        first.close()


def test_a_daily_publish_waits_for_the_one_in_progress_before_reading_anything(home, capsys):
    settings = settings_of(home)
    first = warehouse.connect(settings)
    warehouse.hold_publish_lock(first, DAILY_PUBLISH_LOCK)
    second = Background(lambda: publish_daily(settings, date(2026, 10, 31), "daily-2"))
    wait_until(lambda: waiting_on(settings, DAILY_PUBLISH_LOCK) == 1)
    time.sleep(0.3)
    assert second.is_alive()  # not failed on the missing lake snapshot: still waiting
    first.rollback()
    first.close()
    second.join(30)
    assert isinstance(second.error, FileNotFoundError)  # only then it reads the lake, where no snapshot was made
    assert "snapshot_date=2026-10-31" in str(second.error)
    assert "the daily snapshot is being published by another run" in capsys.readouterr().out
