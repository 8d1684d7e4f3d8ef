"""Journey: the decision layer of an e-commerce marketing stack.

Ground floor: config.py (settings), errors.py (the error family), schemas.py (contracts), dag_ids.py,
lake.py (lake paths). Front doors: cli.py (`journey`), demo.py (`make demo`). One sub-package per
stage or concept: ingest, profiles, quality, models, recommend, campaigns, warehouse, reports,
datagen, orchestration (all that knows Airflow), runtime (process plumbing), perf (benchmarks).
"""

from collections.abc import Callable
from importlib import import_module

__version__ = "0.1.0"


def lazy_face(package: str, face: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` (PEP 562): each public name of `face` is imported from its module on first use.

    Packages whose modules pull heavy libraries (Spark, TensorFlow, Airflow) name their face this way,
    so that importing the package, or one light module of it, imports nothing heavy.
    """

    def __getattr__(name: str) -> object:
        if name not in face:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{face[name]}"), name)

    return __getattr__
