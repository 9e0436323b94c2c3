"""API keys: ``kh_<prefix>_<secret>``, shown once, stored only as a SHA-256, revocable.

The prefix finds the key's row; the hash of the whole key is compared in constant time. Keys
carry 192 random bits, so a plain SHA-256 (not a slow password hash) is the right tool.

Example:
    >>> key, prefix, digest = new_key()
    >>> key.startswith("kh_" + prefix + "_"), digest == hash_key(key)
    (True, True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kakehashi.service.errors import AuthenticationError, PermissionDeniedError
from kakehashi.service.models import ApiKey, Tenant

KEY_PREFIX = "kh_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """A fresh key, its lookup prefix and its hash: ``(key, prefix, sha256)``."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    return key, prefix, hash_key(key)


def issue_key(session: Session, tenant: Tenant, label: str = "") -> tuple[str, ApiKey]:
    """Store a new key for ``tenant``; return the key (the only time it exists) and its row."""
    key, prefix, digest = new_key()
    row = ApiKey(
        tenant_id=tenant.id, prefix=prefix, key_hash=digest, label=label, created_at=time.time()
    )
    session.add(row)
    session.flush()
    return key, row


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who made a request: the tenant and the key used."""

    tenant_id: int
    tenant_name: str
    is_admin: bool
    key_id: int
    rate_limit: float | None

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDeniedError(
                "this request needs the admin key", fix="ask your service's administrator"
            )


def authenticate(session: Session, key: str | None) -> Caller:
    """The caller a key belongs to, or :class:`AuthenticationError`."""
    fix = "send 'Authorization: Bearer kh_…' with a key your administrator issued"
    if not key:
        raise AuthenticationError("no API key given", fix=fix)
    parts = key.split("_")
    if not key.startswith(KEY_PREFIX) or len(parts) < 3:
        raise AuthenticationError("malformed API key (keys begin with 'kh_')", fix=fix)
    row = session.execute(
        sa.select(ApiKey, Tenant)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.prefix == parts[1])
    ).first()
    if row is None or not hmac.compare_digest(row.ApiKey.key_hash, hash_key(key)):
        raise AuthenticationError("unknown API key", fix=fix)
    if row.ApiKey.revoked_at is not None:
        raise AuthenticationError("this API key was revoked", fix="ask for a new key")
    t = row.Tenant
    return Caller(t.id, t.name, bool(t.is_admin), row.ApiKey.id, t.rate_limit)


class KeyCache:
    """Keys this API process checked lately, so that a busy client is not looked up in the
    database on every request. An entry lives ``seconds``; revoking a key through this
    process forgets it at once (another API process notices within ``seconds``). Only keys
    that passed :func:`authenticate` are kept, by their hash.

    Example:
        >>> cache = KeyCache(5.0)
        >>> who = Caller(1, "t", False, 7, None)
        >>> cache.put("kh_a_b", who, now=0.0); cache.get("kh_a_b", now=1.0) is who
        True
        >>> cache.forget_key(7); cache.get("kh_a_b", now=1.0) is None
        True
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str | None, *, now: float | None = None) -> Caller | None:
        if not key or self.seconds <= 0:
            return None
        entry = self._entries.get(hash_key(key))
        if entry is None:
            return None
        now = time.monotonic() if now is None else now
        return entry[0] if now < entry[1] else None

    def put(self, key: str, who: Caller, *, now: float | None = None) -> None:
        if self.seconds <= 0:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._entries) > 10_000:  # many keys: drop the expired ones
                self._entries = {k: e for k, e in self._entries.items() if e[1] > now}
            self._entries[hash_key(key)] = (who, now + self.seconds)

    def forget_key(self, key_id: int) -> None:
        with self._lock:
            self._entries = {k: e for k, e in self._entries.items() if e[0].key_id != key_id}


def key_from_headers(
    authorization: str | None, x_api_key: str | None, cookie: str | None = None
) -> str | None:
    """The key from ``Authorization: Bearer``, ``X-API-Key`` or the dashboard's cookie."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return x_api_key or cookie or None
