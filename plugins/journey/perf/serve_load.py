"""Load clients of the API benchmark (journey.perf.serve): wrk when installed, else httpx.

Both send GET /v1/users/u<i>/next-best-action for random i in [0, users × 1.05) (5 % never
published: the unknown-user fallback) with `concurrency` requests in flight, until `requests`
answers or `max_seconds`, and return a LoadResult.

- wrk (Debian package `wrk`, C, one thread): ~0.03 ms of CPU a request, so on 2 cores nearly
  all the CPU is left to the server. Its latencies are per request as wrk saw them; the
  seconds are from its first request to its last answer (the script's clock).
- httpx.AsyncClient (pinned): ~2 ms of CPU a request, as much as the server itself used to need;
  on 2 cores it caps the figure below what the server can do.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

import httpx
import numpy as np

WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
           int clock_gettime(int clock, bench_timespec *t); ]]
local function now()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, t)
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) * 1e-9
end
local users = tonumber(os.getenv("BENCH_USERS"))
local limit = tonumber(os.getenv("BENCH_REQUESTS"))
local threads = {}
answered, first, last = 0, 0, 0
function setup(thread) table.insert(threads, thread) end
function init(args) math.randomseed(7) end
function request()
  if first == 0 then first = now() end
  return wrk.format("GET", "/v1/users/u" .. math.random(0, math.floor(users * 1.05) - 1) .. "/next-best-action")
end
function response(status, headers, body)
  answered = answered + 1
  last = now()
  if answered >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local e, t = summary.errors, threads[1]
  io.write(string.format('BENCH {"requests": %d, "seconds": %.3f, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\n', t:get("answered"), t:get("last") - t:get("first"),
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """What a load client measured."""

    client: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failed: int  # non-2xx answers and socket errors
    client_cpu_s: float


def wrk_available() -> bool:
    """wrk on PATH (`apt-get install wrk`)."""
    return shutil.which("wrk") is not None


def _answered(port: int) -> int:
    """Next-best-action answers the API has counted (its /metrics), 0 when it cannot say."""
    line = 'journey_api_requests_total{method="GET",route="/v1/users/{user_id}/next-best-action",status="200"} '
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0
    return int(text.split(line)[1].split()[0]) if line in text else 0


def wrk_load(port: int, token: str, users: int, requests: int, concurrency: int, max_seconds: float) -> LoadResult:
    """Run wrk (1 thread, `concurrency` connections) with the Lua script above.

    wrk only ends at `-d`; once the API has answered the cap (its /metrics), wrk gets SIGINT,
    on which it stops and prints its summary.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = {**os.environ, "BENCH_USERS": str(users), "BENCH_REQUESTS": str(requests)}
    started, before, counted = time.perf_counter(), os.times(), _answered(port)
    try:
        wrk = subprocess.Popen(["wrk", "-t1", f"-c{concurrency}", f"-d{int(max_seconds)}s", "--timeout", "10s",
                                "-H", f"Authorization: Bearer {token}", "-s", script.name,
                                f"http://127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE, text=True)
        while wrk.poll() is None and time.perf_counter() - started < max_seconds + 60:
            time.sleep(0.5)
            if _answered(port) - counted >= requests and wrk.poll() is None:
                wrk.send_signal(signal.SIGINT)
        stdout = wrk.communicate(timeout=60)[0]
    finally:
        os.unlink(script.name)
    usage = os.times()
    line = next(line for line in stdout.splitlines() if line.startswith("BENCH "))
    found = json.loads(line.removeprefix("BENCH "))
    return LoadResult("wrk", found["requests"], found["seconds"] or time.perf_counter() - started,
                      found["p50_us"] / 1e3, found["p95_us"] / 1e3,
                      found["p99_us"] / 1e3, found["non_2xx"] + found["socket_errors"],
                      usage.children_user + usage.children_system - before.children_user - before.children_system)


async def _httpx_load(port: int, token: str, users: int, requests: int, concurrency: int, max_seconds: float):
    """(latencies in seconds, failed answers, wall seconds) from an httpx.AsyncClient."""
    latencies, failed, sent = [], 0, 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                 headers={"Authorization": f"Bearer {token}"}) as client:

        async def worker(seed: int) -> None:
            nonlocal sent, failed
            draw = random.Random(seed)
            while sent < requests and time.perf_counter() - started < max_seconds:
                sent += 1
                begun = time.perf_counter()
                answer = await client.get(f"/v1/users/u{draw.randrange(int(users * 1.05))}/next-best-action")
                latencies.append(time.perf_counter() - begun)
                failed += answer.status_code != 200

        await asyncio.gather(*(worker(seed) for seed in range(concurrency)))
    return latencies, failed, time.perf_counter() - started


def httpx_load(port: int, token: str, users: int, requests: int, concurrency: int, max_seconds: float) -> LoadResult:
    """The same load from Python (CPU time of this process counted as the client's)."""
    cpu = time.process_time()
    latencies, failed, wall = asyncio.run(_httpx_load(port, token, users, requests, concurrency, max_seconds))
    p50, p95, p99 = np.percentile(np.array(latencies) * 1000, [50, 95, 99])
    return LoadResult("httpx", len(latencies), wall, p50, p95, p99, failed, time.process_time() - cpu)
