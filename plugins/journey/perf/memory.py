"""Peak memory of this process and its children (the Spark driver JVM), sampled in a thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil

GIB = 2**30


def tree_rss() -> int:
    """Resident bytes of this process plus all its descendants (JVM, Python workers)."""
    me = psutil.Process()
    total = 0
    for proc in [me, *me.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


@dataclass
class PeakMemory:
    """Context manager: samples tree_rss() every `interval` seconds; `peak` holds the maximum."""

    interval: float = 0.25
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        """Sample until stopped."""
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.peak = tree_rss()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak = max(self.peak, tree_rss())

    @property
    def peak_gib(self) -> float:
        """Peak in GiB."""
        return self.peak / GIB
