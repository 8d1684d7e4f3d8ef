"""Peak memory of this process and its children (the Spark driver JVM), sampled in a thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil

GIB = 2**30


@dataclass(frozen=True)
class ProcessMemory:
    """One process's resident and virtual sizes, with its parent's pid."""

    name: str
    pid: int
    ppid: int
    rss: int
    vms: int


def own_memory(processes: list[ProcessMemory]) -> dict[str, int]:
    """Resident bytes keyed "name pid", leaving out each process whose virtual size is its parent's.

    Such a process is a copy of its parent that has not yet run a program of its own: the JVM starts
    shell commands (Hadoop's chmod on a machine without its native library) through a clone that
    shares the JVM's memory until it execs, and reports the JVM's whole RSS meanwhile. Counting it
    doubled the Spark JVM in two of four 10M ingest benchmarks (9.18 and 9.37 GiB peaks).
    """
    vms_of = {proc.pid: proc.vms for proc in processes}
    return {f"{proc.name} {proc.pid}": proc.rss for proc in processes if vms_of.get(proc.ppid) != proc.vms}


def process_rss() -> dict[str, int]:
    """Resident bytes of this process and of each descendant (JVM, Python workers), keyed "name pid";
    copies that share their parent's memory are left out (own_memory)."""
    me = psutil.Process()
    processes = []
    for proc in [me, *me.children(recursive=True)]:
        try:
            info = proc.memory_info()
            processes.append(ProcessMemory(proc.name(), proc.pid, proc.ppid(), info.rss, info.vms))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return own_memory(processes)


@dataclass
class PeakMemory:
    """Context manager: samples process_rss() every `interval` seconds; `peak` holds the largest
    total and `at_peak` the processes that made it up."""

    interval: float = 0.25
    peak: int = 0
    at_peak: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        """Take one sample; keep it when it is the largest so far."""
        sizes = process_rss()
        total = sum(sizes.values())
        if total >= self.peak:
            self.peak, self.at_peak = total, sizes

    def _run(self) -> None:
        """Sample until stopped."""
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.peak, self.at_peak = 0, {}
        self._sample()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._sample()

    @property
    def peak_gib(self) -> float:
        """Peak in GiB."""
        return self.peak / GIB

    def breakdown(self) -> str:
        """The processes at the peak, largest first, e.g. "java 4.53 + python3 0.13 GiB"."""
        largest = sorted(self.at_peak.items(), key=lambda item: -item[1])
        return " + ".join(f"{name.rsplit(' ', 1)[0]} {size / GIB:.2f}" for name, size in largest if size >= GIB / 100) + " GiB"
