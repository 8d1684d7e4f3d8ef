"""PostgreSQL warehouse: embedded server, migrations, the BI role, COPY loads and atomic publish.

With no JOURNEY_DB_URL the project runs its own PostgreSQL (the binaries of the `pgserver`
package, data under $JOURNEY_HOME/pg). The server outlives the process that started it, so
later processes (Airflow tasks, the CLI) reuse it; `journey db stop` stops it.

    url = start_server(settings)            # or database_url(settings)
    with connect(settings) as conn:         # migrated on first connect in a process
        publish(conn, [TableLoad("segment_history", table, columns,
                                 "snapshot_date = %(d)s", {"d": day})])
"""

from journey.warehouse.bulk import copy_from_arrow, copy_from_parquet
from journey.warehouse.errors import WarehouseError, redact
from journey.warehouse.publish import TableLoad, publish
from journey.warehouse.publish_lock import hold_publish_lock
from journey.warehouse.schema import (
    bi_url,
    connect,
    ensure_bi_role,
    fetch_all,
    migrate,
    migration_files,
    open_connection,
    role_url,
)
from journey.warehouse.server import database_url, server_status, start_server, stop_server

__all__ = [
    "TableLoad", "WarehouseError", "bi_url", "connect", "copy_from_arrow", "copy_from_parquet", "database_url",
    "ensure_bi_role", "fetch_all", "hold_publish_lock", "migrate", "migration_files", "open_connection", "publish", "redact",
    "role_url", "server_status", "start_server", "stop_server",
]
