"""Does a role's stored password verifier (pg_authid.rolpassword) match a given password?

Lets the owner find out, without a failed login in the server log, whether a role still has a
known weak password (the BI role's old default). Supports the two formats PostgreSQL stores:
SCRAM-SHA-256 (RFC 5802/7677) and the legacy md5.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def _scram_matches(verifier: str, password: str) -> bool:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` against `password`."""
    try:
        _, params, keys = verifier.split("$")
        iterations, salt = params.split(":")
        stored_key, server_key = keys.split(":")
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return (hmac.compare_digest(base64.b64encode(hashlib.sha256(client_key).digest()).decode(), stored_key)
            and hmac.compare_digest(base64.b64encode(server).decode(), server_key))


def verifier_matches(verifier: str | None, user: str, password: str) -> bool:
    """True when the stored verifier of `user` is the one of `password` (None: no password)."""
    if not verifier:
        return False
    if verifier.startswith("SCRAM-SHA-256$"):
        return _scram_matches(verifier, password)
    if verifier.startswith("md5"):
        expected = "md5" + hashlib.md5((password + user).encode(), usedforsecurity=False).hexdigest()
        return hmac.compare_digest(verifier, expected)
    return False
