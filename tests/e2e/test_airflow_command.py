"""`journey airflow` for real: it serves on the port, and a SIGTERM (a service manager, a script) frees it.

The test starts the command as a user would (its own JOURNEY_HOME, a free port), waits for the
"ready" banner, notes every Airflow process it started (found by the AIRFLOW_HOME in their
environment), sends SIGTERM, and checks that the command ends cleanly, nothing listens on the port
and none of those processes is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from journey.orchestration.airflow_server import free_port, port_in_use

JOURNEY = str(Path(sys.executable).parent / "journey")
READY_TIMEOUT = 420


def airflow_processes(airflow_home: Path) -> list[psutil.Process]:
    """Live processes whose environment points at this Airflow home (the components and their workers)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("AIRFLOW_HOME") == str(airflow_home) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def wait_for_banner(proc: subprocess.Popen, timeout: float) -> str:
    """Read the command's output until it says Airflow is ready; fail with what it printed otherwise."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "Airflow is ready" in line:
            return "".join(seen)
    raise AssertionError(f"`journey airflow` not ready after {timeout}s (exit {proc.poll()}):\n{''.join(seen)}")


def test_sigterm_to_journey_airflow_frees_the_port_and_stops_every_component(tmp_path):
    home, port = tmp_path / "home", free_port()
    env = {**os.environ, "JOURNEY_HOME": str(home), "JOURNEY_AIRFLOW_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    command = subprocess.Popen([JOURNEY, "airflow"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    try:
        wait_for_banner(command, READY_TIMEOUT)
        assert port_in_use(port)
        started = airflow_processes(home / "airflow")
        assert len(started) >= 4, [p.cmdline() for p in started]

        command.send_signal(signal.SIGTERM)
        rest, _ = command.communicate(timeout=120)

        assert command.returncode == 0, rest
        assert "Airflow stopped" in rest
        assert not port_in_use(port)
        left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not left, [p.cmdline() for p in left]
    finally:
        if command.poll() is None:
            command.kill()
        subprocess.run([JOURNEY, "db", "stop"], env=env, capture_output=True, timeout=120)
