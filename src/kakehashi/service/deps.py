"""FastAPI dependencies: the app's state and the authenticated, rate-limited caller."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from kakehashi.service import db
from kakehashi.service.admission import AdmissionQueue
from kakehashi.service.auth import Caller, KeyCache, authenticate
from kakehashi.service.errors import RateLimitedError
from kakehashi.service.ratelimit import TokenBuckets
from kakehashi.service.settings import Settings

COOKIE = "kakehashi_key"
bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer kh_…")
header_key = APIKeyHeader(name="X-API-Key", auto_error=False)
cookie_key = APIKeyCookie(name=COOKIE, auto_error=False)


@dataclasses.dataclass
class State:
    settings: Settings
    engine: sa.Engine
    limiter: TokenBuckets
    admissions: AdmissionQueue
    keys: KeyCache


def state(request: Request) -> State:
    return request.app.state.kakehashi


def caller(
    request: Request,
    st: State = Depends(state),
    cred: HTTPAuthorizationCredentials | None = Depends(bearer),
    x_key: str | None = Depends(header_key),
    c_key: str | None = Depends(cookie_key),
) -> Caller:
    """The tenant behind the request's key (401 otherwise), within its rate limit (429)."""
    key = (cred.credentials if cred else None) or x_key or c_key
    who = st.keys.get(key)
    if who is None:
        with db.read_session(st.engine) as session:
            who = authenticate(session, key)
        st.keys.put(key, who)
    wait = st.limiter.take(who.key_id, rate=who.rate_limit)
    if wait > 0:
        raise RateLimitedError(
            f"too many requests for this key "
            f"(limit {who.rate_limit or st.settings.rate_limit:g}/s)",
            fix=f"retry after {wait:.2f} s",
        )
    request.state.caller = who
    return who


def admin(who: Caller = Depends(caller)) -> Caller:
    who.require_admin()
    return who
