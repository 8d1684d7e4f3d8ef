"""A measured figure: what ran, how long, how many rows (and the peak memory when sampled)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """Wall time and rows of one measured step."""

    step: str
    seconds: float
    rows: int
    peak_gib: float | None = None  # Python + JVM resident memory, when sampled

    @property
    def rows_per_second(self) -> float:
        """Throughput."""
        return self.rows / self.seconds if self.seconds else 0.0
