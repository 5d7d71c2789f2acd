"""Moderator accounts: a name, a role, and a token shown once and stored only as its hash.

Tokens are 32 random bytes (URL-safe base64), so a plain sha256 is enough to store
them: there is nothing to brute-force, unlike a password. A request's token is
hashed and looked up by that hash (a unique index); the hashes are then compared
in constant time. The deployment's single token (``CLASSIFIER_TOKEN``) keeps
working as an admin named :data:`ADMIN`, for a one-person setup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from classifier.store import AUTO, ROLES, QueueStore

#: The ``decided_by`` of the deployment token (CLASSIFIER_TOKEN).
ADMIN = "admin"
#: Names no account may take: they already mean the rules (``auto``) and the deployment token.
RESERVED = (AUTO, ADMIN)
TOKEN_BYTES = 32
MAX_NAME = 100


@dataclass(frozen=True)
class User:
    """Who is calling: the name recorded as ``decided_by`` and the role that gates admin routes."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_token(token: str) -> str:
    """The stored form of a token: its sha256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """A valid account name (trimmed), else ValueError: printable, at most 100 characters, not reserved."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"an account name needs 1 to {MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValueError("an account name cannot hold control characters")
    if name.casefold() in RESERVED:
        raise ValueError(f"{name!r} is reserved ({', '.join(RESERVED)} already name the rules and the deployment token)")
    return name


def add_user(store: QueueStore, name: str, role: str) -> str:
    """Create the account ``name`` with ``role`` and return its new token (shown once: only its hash is kept)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (expected {' or '.join(ROLES)})")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    store.add_user(check_name(name), role, hash_token(token))
    return token


def list_users(store: QueueStore) -> list[dict[str, Any]]:
    """Every account with its role, creation and revocation instants (never a token or a hash)."""
    return [{**u, "active": u["revoked_at"] is None} for u in store.users()]


def authenticate(store: QueueStore, token: str | None, admin_token: str | None = None) -> User | None:
    """The account a token belongs to (revoked ones excluded), the deployment admin, or None."""
    if not token:
        return None
    if admin_token and hmac.compare_digest(token.encode("utf-8"), admin_token.encode("utf-8")):
        return User(ADMIN, "admin")
    digest = hash_token(token)
    row = store.user_by_token_hash(digest)
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        return None
    return User(row["name"], row["role"])
