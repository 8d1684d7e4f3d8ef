"""A measured figure: what ran, how long, how many rows (and the peak memory when sampled)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Figure:
    """Wall time and rows of one measured step."""

    step: str
    seconds: float
    rows: int
    peak_gib: float | None = None  # Python + JVM resident memory, when sampled
    peak_processes: str | None = None  # what made up the peak, e.g. "java 4.53 + python3 0.13 GiB"

    @property
    def rows_per_second(self) -> float:
        """Throughput."""
        return self.rows / self.seconds if self.seconds else 0.0


def suffixed(table: pa.Table, columns: Iterable[str], suffix: str) -> pa.Table:
    """The table with `suffix` appended to the text of `columns`: a copy of benchmark rows as new ids."""
    for name in columns:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.binary_join_element_wise(table.column(name), suffix, ""))
    return table
