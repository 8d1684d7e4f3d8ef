"""The FastAPI application: routes, API-key scopes, body limits, errors, metrics.

    app = create_app(ConnectionPool(url, setup=queries.prepare), settings.inbox, SnapshotHolder(url))

Reads (next best action, recommendations, segments) come from the in-memory snapshot
(`journey.serve.snapshot`, refreshed by `journey.serve.refresh`); without a holder they query the
published views per request (`journey.serve.reads.DatabaseReads`).

Reads need a key with scope `read`, POSTs a key with scope `write` (header
`Authorization: Bearer <token>`); /healthz, /metrics and the OpenAPI pages (/docs) need none.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import psycopg2
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from journey.config import get_settings
from journey.errors import ConfigError
from journey.serve import auth, builder, exposures, inbox, queries
from journey.serve.metrics import CONTENT_TYPE, RequestMetrics
from journey.serve.models import (
    MAX_ID_LENGTH,
    Channel,
    EventBatch,
    EventsAccepted,
    ExposureBatch,
    ExposuresStored,
    NextBestAction,
    Recommendation,
    Segment,
)
from journey.serve.pool import ConnectionPool
from journey.serve.reads import DatabaseReads, SnapshotReads
from journey.serve.refresh import SnapshotHolder
from journey.warehouse.errors import WarehouseError

log = logging.getLogger(__name__)

READS_ENV = "JOURNEY_API_READS"
MAX_BODY_BYTES = 1 << 20  # 1 MiB per request body
MAX_RECOMMENDATIONS = 100
bearer = HTTPBearer(auto_error=False, description="an API key from `journey api-keys create`")
UserId = Annotated[str, PathParam(min_length=1, max_length=MAX_ID_LENGTH, description="the user's id")]


class Guard:
    """ASGI middleware: refuse bodies over the limit (or of unknown length) and record every request."""

    def __init__(self, app, metrics: RequestMetrics, max_body: int = MAX_BODY_BYTES):
        self.app, self.metrics, self.max_body = app, metrics, max_body

    def _refusal(self, scope) -> JSONResponse | None:
        """413/411 for a POST whose Content-Length is over the limit or missing."""
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return None
        length = dict(scope["headers"]).get(b"content-length")
        if length is None or not length.isdigit():
            return JSONResponse({"detail": "a request body needs a Content-Length header"}, status_code=411)
        if int(length) > self.max_body:
            return JSONResponse({"detail": f"request body of {int(length):,} bytes is over the limit of "
                                           f"{self.max_body:,} bytes"}, status_code=413)
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope)
            await (refusal or self.app)(scope, receive, sending)
        finally:
            route = scope.get("route")
            self.metrics.observe(scope["method"], getattr(route, "path", "unmatched"), status,
                                 time.perf_counter() - started)


def _lookup(pool: ConnectionPool, token: str) -> tuple[str, tuple[str, ...]] | None:
    """(key_id, scopes) of an active key, from the database."""
    with pool.transaction() as conn:
        return auth.key_scopes(conn, token)


def require(scope: str):
    """Dependency: the key_id of a valid, unrevoked API key holding `scope` (401 / 403 otherwise)."""

    async def check(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        if credentials is None:
            raise HTTPException(401, "missing API key (Authorization: Bearer <key>)",
                                headers={"WWW-Authenticate": "Bearer"})
        token, cache, now = credentials.credentials, request.app.state.keys, time.monotonic()
        found = cache.get(token, now)
        if found is None:
            found = await run_in_threadpool(_lookup, request.app.state.pool, token)
            if found is not None:
                cache.put(token, found, now)
        if found is None:
            raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        key_id, scopes = found
        if scope not in scopes:
            raise HTTPException(403, f"API key {key_id} lacks scope '{scope}'")
        return key_id

    return check


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 when the warehouse cannot answer (no connection free, server down)."""
    log.warning("database unavailable for %s: %s", request.url.path, str(exc).splitlines()[0] if str(exc) else exc)
    return JSONResponse({"detail": "the warehouse is unavailable; retry later"}, status_code=503)


def _json(body: bytes) -> Response:
    """An answer already serialised (by `journey.serve.reads`): sent as it is, not validated again."""
    return Response(content=body, media_type="application/json")


def _add_read_routes(app: FastAPI) -> None:
    """GET routes answered by `app.state.reads` (the snapshot, or the published views)."""
    reader = [Depends(require("read"))]

    @app.get("/v1/users/{user_id}/next-best-action", response_model=NextBestAction, dependencies=reader,
             tags=["users"])
    async def next_best_action(request: Request, user_id: UserId,
                               channel: Annotated[Channel | None,
                                                  Query(description="only assignments on this channel")] = None,
                               k: Annotated[int, Query(ge=1, le=MAX_RECOMMENDATIONS)] = queries.DEFAULT_RECOMMENDATIONS):
        """The user's current treatment across live campaigns, or the fallback (see docs/api.md)."""
        return _json(await request.app.state.reads.next_best_action(user_id, channel, k))

    @app.get("/v1/users/{user_id}/recommendations", response_model=list[Recommendation], dependencies=reader,
             tags=["users"])
    async def recommendations(request: Request, user_id: UserId,
                              k: Annotated[int, Query(ge=1, le=MAX_RECOMMENDATIONS)] = 10):
        """Top-k products of the user's latest live campaign list (empty for held-out or unknown users)."""
        return _json(await request.app.state.reads.recommendations(user_id, k))

    @app.get("/v1/segments", response_model=list[Segment], dependencies=reader, tags=["segments"])
    async def segments(request: Request):
        """Every segment of the latest published snapshot."""
        return _json(await request.app.state.reads.segments())

    @app.get("/v1/segments/{segment_id}", response_model=Segment, dependencies=reader, tags=["segments"])
    async def segment(request: Request, segment_id: Annotated[int, PathParam(ge=0)]):
        """One segment of the latest published snapshot (404 when it has none with this id)."""
        found = await request.app.state.reads.segment(segment_id)
        if found is None:
            raise HTTPException(404, f"no segment {segment_id} in the latest published snapshot")
        return _json(found)


def _add_write_routes(app: FastAPI) -> None:
    """POST routes: events into the inbox, exposures into the warehouse."""

    @app.post("/v1/events", response_model=EventsAccepted, tags=["events"])
    def post_events(request: Request, batch: EventBatch, key_id: Annotated[str, Depends(require("write"))]):
        """Check each event against the ingest contract; file the good ones for the next daily run."""
        good, bad = inbox.check_batch(batch.events)
        written = inbox.write_batch(request.app.state.events_folder, good) if good else None
        log.info("key %s: %d event(s) accepted into %s, %d rejected", key_id, len(good), written, len(bad))
        return {"accepted": len(good), "rejected": bad, "file": written.name if written else None}

    @app.post("/v1/exposures", response_model=ExposuresStored, tags=["exposures"])
    def post_exposures(request: Request, batch: ExposureBatch, key_id: Annotated[str, Depends(require("write"))]):
        """Store which assignments were actually shown or sent (committed before the answer)."""
        with request.app.state.pool.transaction() as conn:
            stored = exposures.store(conn, batch.exposures, key_id)
        return {"stored": stored}


def _add_operations_routes(app: FastAPI) -> None:
    """/healthz and /metrics (no key: keep the service on loopback or behind a proxy)."""

    @app.get("/healthz", tags=["operations"])
    def healthz(request: Request):
        """Database reachable, and how fresh the latest publishes are."""
        try:
            with request.app.state.pool.transaction() as conn:
                fresh = queries.freshness(conn)
        except (WarehouseError, psycopg2.Error) as exc:
            log.warning("health check: database unreachable: %s", str(exc).splitlines()[0] if str(exc) else exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        holder = request.app.state.snapshot
        if holder is not None:
            fresh["snapshot"] = {"loaded_at": datetime.fromtimestamp(holder.current.loaded_at, UTC),
                                 "load_seconds": round(holder.current.load_seconds, 3),
                                 "users": len(holder.current.users), "reloads": holder.reloads}
        return {"status": "ok", "database": "reachable", "checked_at": datetime.now(UTC), **fresh}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
    def metrics(request: Request):
        """Request counts and latency histograms per route (Prometheus text format)."""
        return PlainTextResponse(request.app.state.metrics.render(), media_type=CONTENT_TYPE)


def _lifespan(holder: SnapshotHolder | None):
    """Start the snapshot's refresh thread with the app, stop it at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if holder is not None:
            holder.start()
        try:
            yield
        finally:
            if holder is not None:
                holder.stop()

    return lifespan


def create_app(pool: ConnectionPool, inbox_dir: Path, snapshot: SnapshotHolder | None = None) -> FastAPI:
    """The API over a connection pool; reads from `snapshot` when given, else from the published views.

    Accepted events go to `inbox_dir`/events; keys, exposures and /healthz always use the pool.
    """
    app = FastAPI(title="Journey next-best-action API", version="1", lifespan=_lifespan(snapshot),
                  description="Per-user decisions from the published campaign tables (docs/api.md).")
    app.state.pool = pool
    app.state.snapshot = snapshot
    app.state.reads = DatabaseReads(pool) if snapshot is None else SnapshotReads(snapshot)
    app.state.metrics = RequestMetrics()
    app.state.keys = auth.KeyCache()
    app.state.events_folder = inbox.events_folder(inbox_dir)
    app.add_exception_handler(WarehouseError, _database_unavailable)
    app.add_exception_handler(psycopg2.OperationalError, _database_unavailable)
    _add_read_routes(app)
    _add_write_routes(app)
    _add_operations_routes(app)
    app.include_router(builder.router)  # the campaign builder and campaigns list (serve/builder.py)
    app.add_middleware(Guard, metrics=app.state.metrics)
    return app


def app_from_environment() -> FastAPI:
    """App factory for uvicorn (`--factory`): warehouse started and migrated, snapshot loaded, then served.

    JOURNEY_API_READS=database serves the reads from the published views instead (no snapshot:
    less memory, ~2 ms of CPU a request; docs/api.md).
    """
    from journey import warehouse

    reads = os.environ.get(READS_ENV, "snapshot")
    if reads not in ("snapshot", "database"):
        raise ConfigError(f"{READS_ENV}={reads!r}: expected snapshot or database")
    settings = get_settings()
    with warehouse.connect(settings):
        pass
    url = warehouse.database_url(settings)
    snapshot = SnapshotHolder(url) if reads == "snapshot" else None
    return create_app(ConnectionPool(url, setup=queries.prepare), settings.inbox, snapshot)
