"""SparkSubmitOperator that ships the `journey` package to the executors when the master is a cluster.

In local mode (`local`, `local[*]`, `local[N]`) driver and executors are one process on the machine
that has the package installed, so nothing is shipped and the command is unchanged. On a cluster
(`spark://…`, `yarn`, `k8s://…`) `execute` builds (or reuses) the zip of the package under
`$JOURNEY_HOME/dist` and passes it as `--py-files`. All of it happens at run time: nothing is read
or written when the DAG file is parsed.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from journey.config import get_settings
from journey.runtime.packaging import package_zip, ships_package


def with_py_file(py_files: str | None, path: str) -> str:
    """The comma-separated --py-files list with `path` added once."""
    entries = [p for p in (py_files or "").split(",") if p]
    return ",".join(entries if path in entries else [*entries, path])


class JourneySparkSubmitOperator(SparkSubmitOperator):
    """spark-submit on a connection; on a cluster, with the journey package zip in --py-files."""

    def execute(self, context: Any) -> None:
        """Resolve the master, add the package zip when it is a cluster, then submit."""
        master = self.spark_master()
        if ships_package(master):
            archive = package_zip(get_settings())
            self.py_files = with_py_file(self.py_files, str(archive))
            self.log.info("Shipping the journey package to the executors of %s: %s", master, archive)
        super().execute(context)

    def spark_master(self) -> str:
        """The master URL the connection resolves to (as the provider's hook reads it)."""
        return self._get_hook()._connection["master"]
