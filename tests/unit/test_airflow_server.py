"""`journey airflow` building blocks: the login it prints, the environment it serves with, a taken port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from journey.orchestration.airflow_server import ensure_password, serve, server_environment

JOURNEY = str(Path(sys.executable).parent / "journey")


def test_password_is_kept_chosen_or_generated(tmp_path):
    passwords = tmp_path / "airflow" / "passwords.json"
    generated = ensure_password(passwords)
    assert len(generated) >= 12
    assert json.loads(passwords.read_text()) == {"admin": generated}
    assert ensure_password(passwords) == generated  # reused: the printed login stays valid
    assert ensure_password(passwords, wanted="s3cret") == "s3cret"
    assert json.loads(passwords.read_text()) == {"admin": "s3cret"}
    assert passwords.stat().st_mode & 0o077 == 0


def test_server_environment_points_every_component_at_one_loopback_port(tmp_path):
    env = server_environment({"AIRFLOW_HOME": str(tmp_path), "KEEP": "me"}, 18123)
    assert env["KEEP"] == "me"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1" and env["AIRFLOW__API__PORT"] == "18123"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(tmp_path / "journey_passwords.json")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_unknown_component_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(ValueError, match="unknown Airflow component.*webserver"), \
            serve({"AIRFLOW_HOME": str(tmp_path)}, 18124, tmp_path, components=("webserver",)):
        pass
    assert not list(tmp_path.glob("*.log"))


def test_journey_airflow_on_a_taken_port_is_one_error_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "JOURNEY_HOME": str(tmp_path / "home"),
               "JOURNEY_AIRFLOW_PORT": str(port)}
        result = subprocess.run([JOURNEY, "airflow"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: port {port} on 127.0.0.1 is taken; "
                                      "set JOURNEY_AIRFLOW_PORT to a free port")


# A stand-in for `journey airflow`: two components (`sleep`, each in its own session as start_component
# starts them) watched under sigterm_as_interrupt, stopped by serve's own stop_components on the way out.
SUPERVISOR = """
import subprocess, sys
from pathlib import Path
from journey.orchestration.airflow_server import AirflowServer, sigterm_as_interrupt, stop_components, watch

procs = {name: subprocess.Popen(["sleep", "300"], start_new_session=True, stdout=subprocess.DEVNULL)
         for name in ("scheduler", "triggerer")}
server = AirflowServer("http://127.0.0.1:1", "admin", "-", procs, Path(sys.argv[1]))
try:
    with sigterm_as_interrupt():
        try:
            print(" ".join(str(p.pid) for p in procs.values()), flush=True)
            watch(server, poll=0.1)
        finally:
            stop_components(procs, timeout=5)
except KeyboardInterrupt as stop:
    print(f"stopped by {stop}", flush=True)
"""


def _alive(pid: int) -> bool:
    """Whether a process with this id still exists (and is not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_sigterm_stops_every_component_as_ctrl_c_does(tmp_path):
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path)], stdout=subprocess.PIPE,
                                  text=True)
    children = [int(pid) for pid in supervisor.stdout.readline().split()]
    assert len(children) == 2 and all(_alive(pid) for pid in children)

    supervisor.terminate()  # SIGTERM, as a service manager sends it
    out, _ = supervisor.communicate(timeout=30)

    assert supervisor.returncode == 0 and out.strip() == "stopped by signal SIGTERM"
    assert not [pid for pid in children if _alive(pid)]
