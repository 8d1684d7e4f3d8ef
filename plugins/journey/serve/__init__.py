"""The next-best-action HTTP API (`journey serve`): FastAPI + uvicorn over the published tables.

Modules: app (routes, key scopes, limits, errors), auth (API keys), pool (connections, one
REPEATABLE READ transaction per request), queries (reads), inbox (POST /v1/events), exposures
(POST /v1/exposures), metrics (Prometheus text), models (bodies), commands (the CLI).
"""
