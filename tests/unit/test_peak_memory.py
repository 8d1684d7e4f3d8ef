"""The benchmark's memory sampler: the peak and the processes that made it up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from journey.perf.memory import GIB, PeakMemory, ProcessMemory, own_memory

HOLD = "import sys, time; block = b'x' * (300 * 2**20); print('ready', flush=True); time.sleep(1.5)"


def test_peak_counts_a_child_process_and_names_it():
    with PeakMemory(interval=0.05) as memory:
        child = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        child.wait()

    at_peak = {name.rsplit(" ", 1)[1]: size for name, size in memory.at_peak.items()}
    assert at_peak[str(child.pid)] >= 300 * 2**20  # the child's 300 MiB block was resident at the peak
    assert memory.peak == sum(memory.at_peak.values())
    assert memory.peak_gib >= 300 / 1024
    sizes = [float(part.rsplit(" ", 1)[1]) for part in memory.breakdown().removesuffix(" GiB").split(" + ")]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) >= 0.01  # largest first, crumbs left out
    assert round(at_peak[str(child.pid)] / GIB, 2) in sizes  # the child is listed with its size
    assert sum(sizes) == pytest.approx(memory.peak_gib, abs=0.01 * len(memory.at_peak))


def test_a_copy_sharing_its_parents_memory_is_not_counted_twice():
    # What the sampler saw during a 1M-event ingest: the JVM (pid 19752) and a clone of it named
    # after the calling thread, before its exec of chmod, with the JVM's own sizes.
    jvm = ProcessMemory("java", 19752, 19700, rss=int(1.68 * GIB), vms=int(6.85 * GIB))
    clone = ProcessMemory("Executor task l", 20083, 19752, rss=int(1.68 * GIB), vms=int(6.85 * GIB))
    driver = ProcessMemory("python", 19700, 1, rss=int(0.13 * GIB), vms=int(1.2 * GIB))
    chmod = ProcessMemory("chmod", 20084, 19752, rss=2 * 2**20, vms=8 * 2**20)
    worker = ProcessMemory("python", 20090, 19752, rss=int(0.05 * GIB), vms=int(0.3 * GIB))

    counted = own_memory([driver, jvm, clone, chmod, worker])

    assert counted == {"python 19700": int(0.13 * GIB), "java 19752": int(1.68 * GIB), "chmod 20084": 2 * 2**20,
                       "python 20090": int(0.05 * GIB)}
