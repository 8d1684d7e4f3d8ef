"""Benchmark: next-best-action requests/s and latency of `journey serve` on loopback.

    python -m journey.perf.serve [--users 1000000] [--requests 30000] [--concurrency 8] [--workers 1]
                                 [--max-seconds 60] [--client wrk|httpx]

Publishes N users into a fresh embedded PostgreSQL with server-side INSERT … SELECT
generate_series (one live campaign: 90 % treated with a coupon, an ad and 5 recommendations,
10 % held out; a segment per user), starts the API with uvicorn in a child process on a free
127.0.0.1 port (it loads its in-memory snapshot before answering), then sends GET
/v1/users/{id}/next-best-action for random ids (5 % unknown) from wrk, or httpx when wrk is not
installed (journey.perf.serve_load), with `--concurrency` requests in flight, bounded by
`--requests` and `--max-seconds`. Prints the snapshot's load time and the API's resident
memory, requests/s and p50/p95/p99 latency as the client saw them (the load generator shares
the machine's cores with the server), and the CPU time per request of the API process(es) and
of the load client, which a busy machine does not inflate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from journey import warehouse
from journey.config import get_settings
from journey.perf.serve_load import httpx_load, wrk_available, wrk_load
from journey.serve import auth
from journey.serve.app import READS_ENV

STARTUP_S = 600  # the snapshot of 1M users loads before the first answer

PUBLISH = [
    """INSERT INTO journey.campaigns VALUES ('bench', 'r1', current_date, 'Bench', 'revenue', '{}', '{}', 1e6, 1e5,
       1e5, 2e5, %(users)s, %(users)s / 10, now() - interval '1 day', now() + interval '7 days', now())""",
    """INSERT INTO journey.campaign_holdout SELECT 'bench', 'r1', current_date, 'u' || i, i %% 6, 0.01
       FROM generate_series(0, %(users)s - 1) i WHERE i %% 10 = 0""",
    """INSERT INTO journey.coupon_assignments SELECT 'bench', 'r1', current_date, 'u' || i, i %% 6, 'pct10',
       'percent', 10, 20, 'B' || i, 'email', 1.0, 2.0 + (i %% 7), '{"propensity": 0.3}'
       FROM generate_series(0, %(users)s - 1) i WHERE i %% 10 <> 0""",
    """INSERT INTO journey.ad_assignments SELECT 'bench', 'r1', current_date, 'u' || i, i %% 6, 'email',
       'creative_' || (i %% 4), now() + interval '2 hours', 'B' || i, '{"hour": 9}'
       FROM generate_series(0, %(users)s - 1) i WHERE i %% 10 <> 0""",
    """INSERT INTO journey.recommendation_assignments SELECT 'bench', 'r1', current_date, 'u' || i, r,
       'p' || ((i * 7 + r) %% 5000), 'electronics', 1.0 / r, 'hybrid'
       FROM generate_series(0, %(users)s - 1) i, generate_series(1, 5) r WHERE i %% 10 <> 0""",
    """INSERT INTO journey.user_segments SELECT 'u' || i, i %% 6, 'segment_' || (i %% 6), current_date, 'd1'
       FROM generate_series(0, %(users)s - 1) i""",
]


def publish_users(conn, users: int) -> float:
    """Fill the published tables for `users` users in one transaction; returns seconds taken."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        for statement in PUBLISH:
            cur.execute(statement, {"users": users})
        cur.execute("ANALYZE")
    conn.commit()
    return time.perf_counter() - started


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api(home: Path, port: int, workers: int, reads: str = "snapshot",
              extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """uvicorn with the API factory in a child process (`extra_env` added to its environment); returns once
    /healthz answers."""
    env = {**os.environ, "JOURNEY_HOME": str(home), READS_ENV: reads, **(extra_env or {})}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "journey.serve.app:app_from_environment",
                                "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                                "--no-access-log", "--log-level", "warning"], env=env)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the API did not answer /healthz within {STARTUP_S} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn workers) so far."""
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


def memory_mib(pid: int) -> float:
    """Resident memory (MiB) of a process and its children (uvicorn workers)."""
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--reads", choices=["snapshot", "database"], default="snapshot",
                        help="the API's read path (JOURNEY_API_READS; database = the published views per request)")
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if wrk_available() else "httpx",
                        help="load client (default: wrk when installed, `apt-get install wrk`)")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="journey-bench-serve-")) / "home"
    settings = get_settings({"JOURNEY_HOME": str(home)})
    warehouse.start_server(settings)
    try:
        with warehouse.connect(settings) as conn:
            seconds = publish_users(conn, args.users)
            token = auth.create_key(conn, "bench", ("read",))[1]
        print(f"published {args.users:,} users in {seconds:.1f} s", flush=True)
        port = free_port()
        started = time.perf_counter()
        api = start_api(home, port, args.workers, args.reads)
        snapshot = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json().get("snapshot")
        loaded = (f"snapshot of {snapshot['users']:,} users loaded in {snapshot['load_seconds']:.1f} s" if snapshot
                  else "reads from the published views")
        print(f"API up in {time.perf_counter() - started:.1f} s ({loaded}); resident memory "
              f"{memory_mib(api.pid):,.0f} MiB", flush=True)
        try:
            server_cpu = cpu_seconds(api.pid)
            load = wrk_load if args.client == "wrk" else httpx_load
            result = load(port, token, args.users, args.requests, args.concurrency, args.max_seconds)
            server_cpu = cpu_seconds(api.pid) - server_cpu
            memory = memory_mib(api.pid)
        finally:
            api.terminate()
            api.wait(timeout=30)
    finally:
        warehouse.stop_server(settings)
        shutil.rmtree(home.parent, ignore_errors=True)  # the benchmark's database: 2.3 GB at 1M users
    print(f"next-best-action: {result.requests:,} requests in {result.seconds:.1f} s = "
          f"{result.requests / result.seconds:,.0f} requests/s (client {result.client}, concurrency "
          f"{args.concurrency}, {args.workers} uvicorn worker(s), reads from the {args.reads}); latency p50 {result.p50_ms:.1f} ms, p95 "
          f"{result.p95_ms:.1f} ms, p99 {result.p99_ms:.1f} ms; failed {result.failed}; CPU per request: API "
          f"{server_cpu / result.requests * 1000:.3f} ms, load client {result.client_cpu_s / result.requests * 1000:.3f} ms; "
          f"API resident memory {memory:,.0f} MiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
