"""Request counts and latency histograms per route, in the Prometheus text exposition format.

prometheus_client is not among the pinned packages, so this is a small hand-written exposition
(format 0.0.4): `journey_api_requests_total{method,route,status}` and
`journey_api_request_duration_seconds{method,route}` (histogram). The route label is the
route's template (`/v1/users/{user_id}/next-best-action`), never the raw path, so user ids do not
become label values.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    """A label value escaped for the text format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class RequestMetrics:
    """Thread-safe counters and histograms of the requests served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], int] = defaultdict(int)
        self._buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sums: dict[tuple[str, str], float] = defaultdict(float)
        self._totals: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its duration."""
        first = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            self._counts[(method, route, str(status))] += 1
            counts = self._buckets[(method, route)]
            for index in range(first, len(BUCKETS)):
                counts[index] += 1
            self._sums[(method, route)] += seconds
            self._totals[(method, route)] += 1

    def count(self, method: str, route: str, status: int) -> int:
        """Requests counted so far for one (method, route, status)."""
        with self._lock:
            return self._counts.get((method, route, str(status)), 0)

    def render(self) -> str:
        """Everything in the Prometheus text format."""
        lines = ["# HELP journey_api_requests_total Requests served, by method, route and status.",
                 "# TYPE journey_api_requests_total counter"]
        with self._lock:
            for (method, route, status), count in sorted(self._counts.items()):
                lines.append(f'journey_api_requests_total{{method="{method}",route="{_label(route)}",'
                             f'status="{status}"}} {count}')
            lines += ["# HELP journey_api_request_duration_seconds Time to answer a request, by method and route.",
                      "# TYPE journey_api_request_duration_seconds histogram"]
            for (method, route), counts in sorted(self._buckets.items()):
                labels = f'method="{method}",route="{_label(route)}"'
                for bound, count in zip(BUCKETS, counts, strict=True):
                    lines.append(f'journey_api_request_duration_seconds_bucket{{{labels},le="{bound}"}} {count}')
                total = self._totals[(method, route)]
                lines.append(f'journey_api_request_duration_seconds_bucket{{{labels},le="+Inf"}} {total}')
                lines.append(f"journey_api_request_duration_seconds_sum{{{labels}}} {self._sums[(method, route)]:.6f}")
                lines.append(f"journey_api_request_duration_seconds_count{{{labels}}} {total}")
        return "\n".join(lines) + "\n"
