"""Benchmark: next-best-action requests/s and latency of `journey serve` on loopback.

    python -m journey.perf.serve [--users 1000000] [--requests 20000] [--concurrency 16] [--workers 1]
                                 [--max-seconds 120]

Publishes N users into a fresh embedded PostgreSQL with server-side INSERT … SELECT
generate_series (one live campaign: 90 % treated with a coupon, an ad and 5 recommendations,
10 % held out; a segment per user), starts the API with uvicorn in a child process on a free
127.0.0.1 port, then sends GET /v1/users/{id}/next-best-action for random ids (5 % unknown)
from an httpx.AsyncClient with `--concurrency` requests in flight, bounded by `--requests` and
`--max-seconds`. Prints requests/s and p50/p95/p99 latency as the client saw them (the load
generator shares the machine's cores with the server and PostgreSQL), and the CPU time per
request of the API process(es) and of the load client, which a busy machine does not inflate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from journey import warehouse
from journey.config import get_settings
from journey.serve import auth

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


def start_api(home: Path, port: int, workers: int) -> subprocess.Popen:
    """uvicorn with the API factory in a child process; returns once /healthz answers."""
    env = {**os.environ, "JOURNEY_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "journey.serve.app:app_from_environment",
                                "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                                "--no-access-log", "--log-level", "warning"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not answer /healthz within 60 s")


async def load(port: int, token: str, users: int, requests: int, concurrency: int, max_seconds: float):
    """Send next-best-action requests; returns (latencies in seconds, statuses, wall seconds)."""
    latencies, statuses = [], {}
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    sent = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits) as client:

        async def worker(seed: int) -> None:
            nonlocal sent
            draw = random.Random(seed)
            while sent < requests and time.perf_counter() - started < max_seconds:
                sent += 1
                user = draw.randrange(int(users * 1.05))
                begun = time.perf_counter()
                answer = await client.get(f"/v1/users/u{user}/next-best-action")
                latencies.append(time.perf_counter() - begun)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        await asyncio.gather(*(worker(seed) for seed in range(concurrency)))
    return latencies, statuses, time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn workers) so far."""
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=120.0)
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
        api = start_api(home, port, args.workers)
        try:
            server_cpu, client_cpu = cpu_seconds(api.pid), time.process_time()
            latencies, statuses, wall = asyncio.run(load(port, token, args.users, args.requests, args.concurrency,
                                                         args.max_seconds))
            server_cpu, client_cpu = cpu_seconds(api.pid) - server_cpu, time.process_time() - client_cpu
        finally:
            api.terminate()
            api.wait(timeout=30)
    finally:
        warehouse.stop_server(settings)
    p50, p95, p99 = np.percentile(np.array(latencies) * 1000, [50, 95, 99])
    print(f"next-best-action: {len(latencies):,} requests in {wall:.1f} s = {len(latencies) / wall:,.0f} requests/s "
          f"(concurrency {args.concurrency}, {args.workers} uvicorn worker(s)); latency p50 {p50:.1f} ms, "
          f"p95 {p95:.1f} ms, p99 {p99:.1f} ms; statuses {statuses}; CPU per request: API "
          f"{server_cpu / len(latencies) * 1000:.2f} ms, load client {client_cpu / len(latencies) * 1000:.2f} ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
