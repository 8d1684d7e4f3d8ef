"""Airflow 3 served locally: api-server, scheduler, dag-processor and triggerer with a known login.

Used by `journey airflow` (`make airflow`) and by the e2e test that triggers the campaign DAG
through the REST API. Each component is an `airflow <component>` process in its own session,
logging to `<log_dir>/<component>.log`; `serve` stops them all on exit (also on Ctrl-C, and on
SIGTERM under `sigterm_as_interrupt`, as a service manager or a script stops `journey airflow`).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from journey.config import ENV_AIRFLOW_PASSWORD, ENV_AIRFLOW_PORT, Settings
from journey.errors import InputError, JourneyError

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
HOST = "127.0.0.1"
PASSWORDS_FILE = "journey_passwords.json"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
HEALTH_PATH = "/api/v2/monitor/health"
STOP_SECONDS = 30


class AirflowServerError(JourneyError):
    """An Airflow component did not start, or stopped on its own."""


@dataclass(frozen=True)
class AirflowServer:
    """A running local Airflow: where it listens, the login, its processes and their logs."""

    url: str
    username: str
    password: str
    processes: dict[str, subprocess.Popen]
    log_dir: Path

    def log_file(self, component: str) -> Path:
        """Log file of one component."""
        return self.log_dir / f"{component}.log"

    def log_tail(self, component: str, chars: int = 4000) -> str:
        """The last `chars` characters of a component's log (for error messages)."""
        return log_tail(self.log_file(component), chars)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, chars: int = 4000) -> str:
    """The end of a text file, or a note that it does not exist."""
    if not path.exists():
        return f"(no log at {path})"
    return path.read_text(encoding="utf-8", errors="replace")[-chars:]


def ensure_password(passwords_file: Path, username: str = ADMIN_USER, wanted: str | None = None) -> str:
    """The simple auth manager's password for `username`: `wanted`, the one already stored, or a new one."""
    stored = json.loads(passwords_file.read_text() or "{}") if passwords_file.exists() else {}
    password = wanted or stored.get(username) or secrets.token_urlsafe(12)
    if stored.get(username) != password:
        passwords_file.parent.mkdir(parents=True, exist_ok=True)
        passwords_file.write_text(json.dumps({**stored, username: password}) + "\n", encoding="utf-8")
        passwords_file.chmod(0o600)
    return password


def server_environment(env: dict[str, str], port: int) -> dict[str, str]:
    """The Airflow environment plus API address, execution API URL and the simple auth manager's users."""
    base_url = f"http://{HOST}:{port}"
    return {
        **env,
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__WORKERS": env.get("AIRFLOW__API__WORKERS", "1"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),  # LocalExecutor worker processes
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(Path(env["AIRFLOW_HOME"]) / PASSWORDS_FILE),
    }


def start_component(component: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    """Start `airflow <component>` in its own session, output appended to its log file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "airflow"), component]
    with open(log_dir / f"{component}.log", "ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def stop_components(processes: dict[str, subprocess.Popen], timeout: float = STOP_SECONDS) -> None:
    """SIGTERM every component's process group, then SIGKILL what is still there after `timeout`."""
    for proc in processes.values():
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in processes.values():
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    """Send a signal to the process group a component leads (its workers and task processes too)."""
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass


def health(url: str) -> dict:
    """The api-server's health document (metadatabase, scheduler, dag processor, triggerer)."""
    with urllib.request.urlopen(url + HEALTH_PATH, timeout=5) as response:  # noqa: S310 (loopback URL)
        return json.load(response)


def wait_until_healthy(server: AirflowServer, timeout: float) -> None:
    """Block until every started component reports healthy; fail naming the one that died or lagged."""
    wanted = {name.replace("-", "_") for name in server.processes if name != "api-server"}
    deadline, state = time.monotonic() + timeout, "api-server not answering"
    while time.monotonic() < deadline:
        for name, proc in server.processes.items():
            if proc.poll() is not None:
                raise AirflowServerError(f"airflow {name} exited with status {proc.returncode}; "
                                         f"log {server.log_file(name)}:\n{server.log_tail(name)}")
        try:
            report = health(server.url)
            lagging = sorted(n for n in wanted if report.get(n, {}).get("status") != "healthy")
            if not lagging:
                return
            state = f"not healthy yet: {', '.join(lagging)}"
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(1)
    raise AirflowServerError(f"Airflow at {server.url} not ready after {timeout:.0f}s ({state}); "
                             f"logs in {server.log_dir}")


@contextmanager
def serve(env: dict[str, str], port: int, log_dir: Path, components: Sequence[str] = COMPONENTS,
          password: str | None = None, ready_timeout: float = 180) -> Iterator[AirflowServer]:
    """Start the Airflow components on `port`, wait until healthy, yield the server, stop everything after."""
    unknown = sorted(set(components) - set(COMPONENTS))
    if unknown:
        raise InputError(f"unknown Airflow component(s) {', '.join(unknown)}; expected some of {', '.join(COMPONENTS)}")
    full_env = server_environment(env, port)
    login = ensure_password(Path(full_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]), ADMIN_USER, password)
    processes: dict[str, subprocess.Popen] = {}
    try:
        for component in components:
            processes[component] = start_component(component, full_env, log_dir)
        server = AirflowServer(f"http://{HOST}:{port}", ADMIN_USER, login, processes, log_dir)
        wait_until_healthy(server, ready_timeout)
        yield server
    finally:
        stop_components(processes)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt: it takes Ctrl-C's path (every component stopped).

    The components run in their own sessions, so without this a SIGTERM to `journey airflow` ends it
    and leaves all four running on the port. The previous handler comes back on exit.
    """
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def watch(server: AirflowServer, poll: float = 1.0) -> None:
    """Block while every component runs; raise AirflowServerError naming the first that stops on its own."""
    while (stopped := first_exited(server)) is None:
        time.sleep(poll)
    raise AirflowServerError(f"airflow {stopped} stopped on its own; log {server.log_file(stopped)}:\n"
                             f"{server.log_tail(stopped)}")


def first_exited(server: AirflowServer) -> str | None:
    """Name of a component that has exited, if any."""
    return next((name for name, proc in server.processes.items() if proc.poll() is not None), None)


def port_in_use(port: int) -> bool:
    """Whether something already listens on the loopback port."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        return sock.connect_ex((HOST, port)) == 0


def run_foreground(settings: Settings, echo=print) -> int:
    """`journey airflow`: warehouse + the four Airflow components until Ctrl-C or SIGTERM; prints URL and login."""
    from journey import warehouse
    from journey.orchestration import airflow_env
    from journey.runtime.javacheck import ensure_java_home

    if port_in_use(settings.airflow_port):
        raise AirflowServerError(f"port {settings.airflow_port} on {HOST} is taken; "
                                 f"set {ENV_AIRFLOW_PORT} to a free port")
    ensure_java_home()
    with warehouse.connect(settings):  # starts the embedded server when needed, applies migrations
        pass
    env = airflow_env.airflow_environment(settings, warehouse.database_url(settings))
    log_dir = settings.home / "logs" / "airflow"
    log_dir.mkdir(parents=True, exist_ok=True)
    echo(f"==> Preparing Airflow metadata DB in {settings.airflow_home}")
    airflow_env.migrate_metadata_db(env, log_dir / "migrate.log")
    echo(f"==> Starting {', '.join(COMPONENTS)} (logs in {log_dir})")
    try:
        with sigterm_as_interrupt(), serve(env, settings.airflow_port, log_dir,
                                           password=settings.airflow_password) as server:
            echo(banner(server, settings))
            watch(server)
    except KeyboardInterrupt:
        echo("==> Airflow stopped (PostgreSQL keeps running: `journey db stop`)")
        return 0


def banner(server: AirflowServer, settings: Settings) -> str:
    """What `journey airflow` prints once everything is up."""
    from journey.orchestration.airflow_env import DAGS_FOLDER

    return "\n".join([
        f"==> Airflow is ready: {server.url}",
        f"    login: {server.username} / {server.password}  (set {ENV_AIRFLOW_PASSWORD} to choose it)",
        f"    DAGs from {DAGS_FOLDER}; Airflow home {settings.airflow_home}",
        "    Trigger a campaign: the journey_campaign form, or POST /api/v2/dags/journey_campaign/dagRuns",
        "    Ctrl-C (or SIGTERM) stops every component.",
    ])
