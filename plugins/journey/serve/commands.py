"""`journey serve` and `journey api-keys create|list|revoke` (registered by journey.cli)."""

from __future__ import annotations

import argparse

from journey.config import get_settings

DEFAULT_HOST = "127.0.0.1"


def _serve(args: argparse.Namespace) -> int:
    """journey serve: the API on host:port until Ctrl-C (warehouse started and migrated first)."""
    import uvicorn

    from journey import warehouse

    settings = get_settings()
    with warehouse.connect(settings):
        pass
    port = args.port or settings.api_port
    print(f"Journey API on http://{args.host}:{port} (OpenAPI: http://{args.host}:{port}/docs)", flush=True)
    print(f"Campaign builder: http://{args.host}:{port}/builder, campaigns: http://{args.host}:{port}/campaigns",
          flush=True)
    uvicorn.run("journey.serve.app:app_from_environment", factory=True, host=args.host, port=port,
                workers=args.workers, log_level="info", access_log=args.access_log)
    return 0


def _api_keys(args: argparse.Namespace) -> int:
    """journey api-keys create|list|revoke."""
    from journey import warehouse
    from journey.serve import auth

    with warehouse.connect(get_settings()) as conn:
        if args.action == "create":
            key_id, token = auth.create_key(conn, args.name, auth.parse_scopes(args.scopes))
            print(f"API key {key_id} ({args.scopes}) for {args.name!r}; keep it now, it is not shown again:")
            print(token)
        elif args.action == "revoke":
            auth.revoke_key(conn, args.key_id)
            print(f"revoked {args.key_id}")
        else:
            for key in auth.list_keys(conn):
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
                print(f"{key.key_id}  {','.join(key.scopes):<10}  {state:<24}  "
                      f"created {key.created_at:%Y-%m-%d %H:%M}  {key.name}")
    return 0


def add_commands(sub, port_type) -> None:
    """Register `serve` and `api-keys` on the CLI's sub-parsers (`port_type` parses a positive int)."""
    serve = sub.add_parser("serve", help="serve the next-best-action HTTP API (docs/api.md) until Ctrl-C")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=port_type, default=None, help="default: JOURNEY_API_PORT or 8000")
    serve.add_argument("--workers", type=port_type, default=1, help="uvicorn worker processes (default 1)")
    serve.add_argument("--access-log", action="store_true", help="log every request (path and status)")
    serve.set_defaults(func=_serve)

    keys = sub.add_parser("api-keys", help="API keys of `journey serve`: create, list, revoke")
    keys.add_argument("action", choices=["create", "list", "revoke"])
    keys.add_argument("key_id", nargs="?", default="", help="revoke: the key's id (from list)")
    keys.add_argument("--name", default="", help="create: who or what uses the key")
    keys.add_argument("--scopes", default="read", help="create: read, write or read,write (default read)")
    keys.set_defaults(func=_api_keys)
