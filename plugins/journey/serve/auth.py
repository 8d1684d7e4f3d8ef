"""API keys: a random token shown once, stored only as its sha256, with scopes `read` and/or `write`.

A token reads `jrn_<key_id>_<secret>`: key_id (8 hex characters) names the key in `journey
api-keys list|revoke` and in the exposures it reports; the secret is 32 random bytes from
`secrets`. The server hashes the token it receives and looks the hash up; tokens are never
written to a log or a table.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from journey.errors import InputError

SCOPES: tuple[str, ...] = ("read", "write")
TOKEN_PREFIX = "jrn_"


@dataclass(frozen=True)
class ApiKey:
    """One stored key (never its token)."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    """Hex sha256 of a token: what the table stores and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(text: str) -> tuple[str, ...]:
    """'read,write' → ('read', 'write'); an unknown or empty scope list is an InputError."""
    scopes = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InputError(f"scopes {text!r}: expected a comma-separated list of {', '.join(SCOPES)}")
    return scopes


def create_key(conn, name: str, scopes: tuple[str, ...]) -> tuple[str, str]:
    """Store a new key; returns (key_id, token). The token cannot be recovered later."""
    if not name.strip():
        raise InputError("an API key needs a name (who or what uses it)")
    parse_scopes(",".join(scopes))
    key_id = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with conn.cursor() as cur:
        cur.execute("INSERT INTO journey.api_keys (key_id, name, key_hash, scopes) VALUES (%s, %s, %s, %s)",
                    (key_id, name.strip(), token_hash(token), list(scopes)))
    conn.commit()
    return key_id, token


def list_keys(conn) -> list[ApiKey]:
    """Every key, oldest first, revoked ones included."""
    with conn.cursor() as cur:
        cur.execute("SELECT key_id, name, scopes, created_at, revoked_at FROM journey.api_keys "
                    "ORDER BY created_at, key_id")
        rows = cur.fetchall()
    conn.rollback()
    return [ApiKey(key_id, name, tuple(scopes), created, revoked) for key_id, name, scopes, created, revoked in rows]


def revoke_key(conn, key_id: str) -> None:
    """Revoke a key at once (its row stays); an unknown or already revoked key is an InputError."""
    with conn.cursor() as cur:
        cur.execute("UPDATE journey.api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL",
                    (key_id,))
        changed = cur.rowcount
    conn.commit()
    if not changed:
        raise InputError(f"no active API key {key_id!r} (see `journey api-keys list`)")


def key_scopes(conn, token: str) -> tuple[str, tuple[str, ...]] | None:
    """(key_id, scopes) of an active key with this token, or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT key_id, scopes FROM journey.api_keys WHERE key_hash = %s AND revoked_at IS NULL",
                    (token_hash(token),))
        row = cur.fetchone()
    return (row[0], tuple(row[1])) if row else None


class KeyCache:
    """Recently verified keys, so a busy sender's requests skip the lookup: token hash → (key_id, scopes, when).

    Only valid keys are kept, for `ttl_s` seconds: a revoked key is refused at most `ttl_s` after
    `journey api-keys revoke`. Full at `max_keys` entries → emptied (a new entry is one lookup away).
    """

    def __init__(self, ttl_s: float = 5.0, max_keys: int = 10_000):
        self.ttl_s, self.max_keys = ttl_s, max_keys
        self._entries: dict[str, tuple[str, tuple[str, ...], float]] = {}

    def get(self, token: str, now: float) -> tuple[str, tuple[str, ...]] | None:
        """(key_id, scopes) when the token was verified less than ttl_s ago."""
        entry = self._entries.get(token_hash(token))
        if entry is None or now - entry[2] >= self.ttl_s:
            return None
        return entry[0], entry[1]

    def put(self, token: str, found: tuple[str, tuple[str, ...]], now: float) -> None:
        """Remember a verified key."""
        if len(self._entries) >= self.max_keys:
            self._entries.clear()
        self._entries[token_hash(token)] = (*found, now)
