"""``/v1/admin``: tenants, their keys and the workers (admin key only); ``/v1/keys``: a
tenant's own keys."""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi import APIRouter, Depends

from kakehashi.service import db
from kakehashi.service.auth import Caller, issue_key
from kakehashi.service.deps import State, admin, caller, state
from kakehashi.service.errors import ConflictError, NotFoundError
from kakehashi.service.models import ApiKey, Tenant, Worker
from kakehashi.service.quotas import limits_for
from kakehashi.service.schemas import (
    ErrorOut,
    KeyIn,
    KeyOut,
    NewKeyOut,
    TenantIn,
    TenantOut,
    WorkerOut,
)

router = APIRouter(prefix="/v1", tags=["admin"])
ERRORS = {c: {"model": ErrorOut} for c in (401, 403, 404, 409, 422, 429)}


def tenant_out(t: Tenant, st: State) -> TenantOut:
    lim = limits_for(t, st.settings)
    return TenantOut(
        id=t.id,
        name=t.name,
        is_admin=bool(t.is_admin),
        limits={k: float(v) for k, v in vars(lim).items()},
    )


def key_out(k: ApiKey) -> KeyOut:
    return KeyOut(
        id=k.id, prefix=k.prefix, label=k.label, created_at=k.created_at, revoked_at=k.revoked_at
    )


@router.post("/admin/tenants", status_code=201, response_model=NewKeyOut, responses=ERRORS)
def create_tenant(body: TenantIn, _: Caller = Depends(admin), st: State = Depends(state)):
    """A new tenant with its first API key (shown this once)."""
    with db.write_session(st.engine) as session:
        if session.execute(sa.select(Tenant).where(Tenant.name == body.name)).first():
            raise ConflictError(
                f"a tenant named {body.name!r} exists",
                fix="choose another name, or add a key to it",
            )
        tenant = Tenant(is_admin=False, created_at=time.time(), **body.model_dump())
        session.add(tenant)
        session.flush()
        key, row = issue_key(session, tenant, "first key")
        return NewKeyOut(tenant=tenant_out(tenant, st), key=key_out(row), api_key=key)


@router.get("/admin/tenants", response_model=list[TenantOut], responses=ERRORS)
def list_tenants(_: Caller = Depends(admin), st: State = Depends(state)):
    with db.read_session(st.engine) as session:
        return [tenant_out(t, st) for t in session.execute(sa.select(Tenant)).scalars()]


@router.post(
    "/admin/tenants/{tenant_id}/keys", status_code=201, response_model=NewKeyOut, responses=ERRORS
)
def create_key(tenant_id: int, body: KeyIn, _: Caller = Depends(admin), st: State = Depends(state)):
    """Another key for a tenant (shown this once)."""
    with db.write_session(st.engine) as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFoundError(f"no tenant {tenant_id}", fix="see GET /v1/admin/tenants")
        key, row = issue_key(session, tenant, body.label)
        return NewKeyOut(tenant=tenant_out(tenant, st), key=key_out(row), api_key=key)


@router.delete("/admin/keys/{key_id}", response_model=KeyOut, responses=ERRORS)
def revoke_any_key(key_id: int, _: Caller = Depends(admin), st: State = Depends(state)):
    """Revoke any tenant's key; it stops working at once."""
    return _revoke(st, key_id, None)


@router.get("/admin/workers", response_model=list[WorkerOut], responses=ERRORS)
def list_workers(_: Caller = Depends(admin), st: State = Depends(state)):
    with db.read_session(st.engine) as session:
        return [
            WorkerOut(**{c: getattr(w, c) for c in WorkerOut.model_fields})
            for w in session.execute(sa.select(Worker)).scalars()
        ]


@router.get("/keys", response_model=list[KeyOut], responses=ERRORS)
def list_own_keys(who: Caller = Depends(caller), st: State = Depends(state)):
    """The caller's tenant's keys (never the keys themselves: only their prefixes)."""
    with db.read_session(st.engine) as session:
        rows = session.execute(sa.select(ApiKey).where(ApiKey.tenant_id == who.tenant_id))
        return [key_out(k) for k in rows.scalars()]


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=ERRORS)
def revoke_own_key(key_id: int, who: Caller = Depends(caller), st: State = Depends(state)):
    """Revoke one of the caller's tenant's keys."""
    return _revoke(st, key_id, who.tenant_id)


def _revoke(st: State, key_id: int, tenant_id: int | None) -> KeyOut:
    with db.write_session(st.engine) as session:
        row = session.get(ApiKey, key_id)
        if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
            raise NotFoundError(f"no key {key_id}", fix="see GET /v1/keys")
        if row.revoked_at is None:
            row.revoked_at = time.time()
        out = key_out(row)
    st.keys.forget_key(key_id)  # refused from the next request on, not when the cache expires
    return out
