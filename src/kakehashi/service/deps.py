"""FastAPI dependencies: the app's state and the authenticated, rate-limited caller."""

from __future__ import annotations

import asyncio
import dataclasses

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from kakehashi.service import db
from kakehashi.service.admission import AdmissionQueue
from kakehashi.service.auth import Caller, KeyCache, authenticate, hash_key
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
    # key hash → the lookup in flight for it, so that concurrent first requests with one key
    # share one database read (50 at once on a fresh server waited up to 200 ms otherwise)
    lookups: dict[str, asyncio.Task] = dataclasses.field(default_factory=dict)


async def state(request: Request) -> State:
    # async (it does not block): FastAPI runs a plain `def` dependency in a thread, and the
    # hop costs more than this whole function
    return request.app.state.kakehashi


async def caller(
    request: Request,
    st: State = Depends(state),
    cred: HTTPAuthorizationCredentials | None = Depends(bearer),
    x_key: str | None = Depends(header_key),
    c_key: str | None = Depends(cookie_key),
) -> Caller:
    """The tenant behind the request's key (401 otherwise), within its rate limit (429)."""
    key = (cred.credentials if cred else None) or x_key or c_key
    who = st.keys.get(key)  # a recently checked key: no database read, no thread
    if who is None:
        who = await _shared_look_up(st, key)
    wait = st.limiter.take(who.key_id, rate=who.rate_limit)
    if wait > 0:
        raise RateLimitedError(
            f"too many requests for this key "
            f"(limit {who.rate_limit or st.settings.rate_limit:g}/s)",
            fix=f"retry after {wait:.2f} s",
        )
    request.state.caller = who
    return who


async def _shared_look_up(st: State, key: str | None) -> Caller:
    """Look the key up in a thread, once for every request that needs it meanwhile (of
    this event loop); a key that passes is cached."""
    digest = hash_key(key or "")
    task = st.lookups.get(digest)
    if task is None or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(run_in_threadpool(_look_up, st, key))
        st.lookups[digest] = task
        task.add_done_callback(
            lambda t: st.lookups.pop(digest, None) if st.lookups.get(digest) is t else None
        )
    who = await asyncio.shield(task)
    st.keys.put(key, who)
    return who


def _look_up(st: State, key: str | None) -> Caller:
    with db.read_session(st.engine) as session:
        return authenticate(session, key)


async def admin(who: Caller = Depends(caller)) -> Caller:
    who.require_admin()
    return who
