"""`journey generate --respond-to RUN`: a published run's users in the warehouse, the next days on disk.

The run's rows are written straight into the campaign tables (known users, codes and arms), so
the files the command writes can be checked user by user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from journey import warehouse
from journey.config import get_settings
from journey.datagen import generate

pytestmark = pytest.mark.postgres

JOURNEY = str(Path(sys.executable).parent / "journey")
RUN = "spring__r1"
USERS = 600


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A Journey home with a running embedded PostgreSQL, a small generated world and a published run."""
    home = tmp_path_factory.mktemp("respond") / "home"
    settings = get_settings({"JOURNEY_HOME": str(home)})
    warehouse.start_server(settings)
    generate(home / "gen", users=USERS, days=5, seed=3)
    users = [f"u{i:06d}" for i in range(USERS)]
    treated, held = users[:300], users[300:500]  # the last 100 users are outside the campaign
    with warehouse.connect(settings) as conn, conn.cursor() as cur:
        base = ("spring", RUN, "2026-10-31")
        cur.executemany("INSERT INTO journey.coupon_assignments VALUES (%s,%s,%s,%s,1,'pct20','percent',20,0,%s,"
                        "'email',4,1,'{}')", [(*base, u, f"SPR-{u}") for u in treated])
        cur.executemany("INSERT INTO journey.ad_assignments VALUES (%s,%s,%s,%s,1,'email','winback.sale.banner',"
                        "'2026-11-01T09:00:00Z',%s,'{}')", [(*base, u, f"SPR-{u}") for u in treated])
        cur.executemany("INSERT INTO journey.campaign_holdout VALUES (%s,%s,%s,%s,1,0.01)",
                        [(*base, u) for u in held])
        conn.commit()
    yield home
    warehouse.stop_server(settings)


def respond(home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the installed command against the test's home."""
    env = {**os.environ, "JOURNEY_HOME": str(home)}
    return subprocess.run([JOURNEY, "generate", "--respond-to", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_respond_writes_the_next_days_and_the_truth(home):
    out = home / "gen"
    result = respond(home, RUN, "--days", "7", "--out", str(out), "--seed", "4")
    assert result.returncode == 0, result.stderr
    assert "300 treated, 200 held out, 100 outside the campaign" in result.stdout
    days = sorted(p.name for p in (out / "events").glob("events-2026-11-*.parquet"))
    assert days == [f"events-2026-11-{d:02d}.parquet" for d in range(1, 8)]
    events = pd.concat([pd.read_parquet(out / "events" / d) for d in days], ignore_index=True)
    truth = pd.read_parquet(out / "ground_truth" / "effects" / f"{RUN}.parquet")
    assert truth.groupby("arm").size().to_dict() == {"holdout": 200, "treated": 300, "untargeted": 100}
    outside = truth[truth["arm"] == "untargeted"]
    assert (outside["p_treated"] == outside["p_untreated"]).all() and outside["converted"].sum() > 10
    assert set(events.loc[events["event_type"] == "purchase", "user_id"]) == set(truth.loc[truth["converted"], "user_id"])
    redeems = events[events["event_type"] == "coupon_redeem"]
    assert len(redeems) > 0 and (redeems["coupon_code"] == "SPR-" + redeems["user_id"]).all()
    assert set(redeems["user_id"]) <= set(truth.loc[truth["arm"] == "treated", "user_id"])
    assert json.loads((out / "ground_truth" / "world.json").read_text())["users"] == USERS
    again = respond(home, RUN, "--days", "7", "--out", str(out), "--seed", "4")
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "ground_truth" / "effects" / f"{RUN}.parquet"), truth)


def test_unknown_run_is_one_error_line(home):
    result = respond(home, "nope", "--out", str(home / "gen"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "'nope' has no assignments" in result.stderr
    assert "Traceback" not in result.stderr
