"""A small client of Airflow's REST API v2: log in, unpause, trigger with a JSON conf, wait, read task logs.

What a marketing tool does to start a campaign; used by the e2e test and usable from scripts.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from journey.errors import JourneyError

FINISHED = frozenset({"success", "failed"})


class AirflowApiError(JourneyError):
    """The API answered with an error status; `status` and `detail` say what it refused."""

    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class AirflowApi:
    """An authenticated session against one api-server."""

    url: str
    token: str

    @classmethod
    def login(cls, url: str, username: str, password: str) -> AirflowApi:
        """Get a JWT from the simple auth manager (POST /auth/token)."""
        answer = _call("POST", url + "/auth/token", {"username": username, "password": password})
        return cls(url, answer["access_token"])

    def request(self, method: str, path: str, body: dict | None = None, params: dict | None = None) -> dict:
        """One JSON call under /api/v2; errors raise AirflowApiError."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return _call(method, f"{self.url}/api/v2{path}{query}", body, {"Authorization": f"Bearer {self.token}"})

    def wait_for_dag(self, dag_id: str, timeout: float, poll: float = 2) -> dict:
        """Wait until the dag-processor has parsed and stored a DAG; fail naming any import error."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.request("GET", f"/dags/{dag_id}")
            except AirflowApiError as exc:
                if exc.status != 404:
                    raise
            if time.monotonic() > deadline:
                errors = self.request("GET", "/importErrors").get("import_errors", [])
                raise TimeoutError(f"DAG {dag_id} not parsed after {timeout:.0f}s; import errors: "
                                   f"{[(e['filename'], e['stack_trace'][-500:]) for e in errors] or 'none'}")
            time.sleep(poll)

    def unpause(self, dag_id: str) -> dict:
        """Unpause a DAG so the scheduler runs what is triggered."""
        return self.request("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict, logical_date: str | None = None, run_id: str | None = None) -> dict:
        """Trigger a run with `conf` (the DAG's Params), named `run_id` when given; returns the new dag run."""
        body = {"logical_date": logical_date, "conf": conf, **({"dag_run_id": run_id} if run_id else {})}
        return self.request("POST", f"/dags/{dag_id}/dagRuns", body)

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        """One dag run (state, conf, dates)."""
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """task_id -> state of every task instance of a run."""
        found = self.request("GET", f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances",
                             params={"limit": 100})
        return {ti["task_id"]: ti["state"] for ti in found["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """A task try's whole log as text (one line per structured log record)."""
        path = f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/{task_id}/logs/{try_number}"
        content = self.request("GET", path, params={"full_content": "true"}).get("content", [])
        return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in content)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, poll: float = 3) -> dict:
        """Poll a run until it succeeds or fails; TimeoutError names its state and task states."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f}s; "
                                   f"tasks: {self.task_states(dag_id, run_id)}")
            time.sleep(poll)


def _call(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> dict:
    """Send one JSON request, return the JSON answer; HTTP errors become AirflowApiError."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (the configured api-server)
            return json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", errors="replace")
        raise AirflowApiError(method, urllib.parse.urlsplit(url).path, exc.code, detail) from exc
