"""``/v1/backends``: every backend, whether it can run on this server, and its catalog facts."""

from __future__ import annotations

import functools

from fastapi import APIRouter

from kakehashi.service.schemas import BackendOut

router = APIRouter(prefix="/v1", tags=["backends"])


@functools.lru_cache(maxsize=1)
def _backends() -> list[BackendOut]:
    from kakehashi.backends import backend_names, get_backend
    from kakehashi.backends.catalog import catalog_row

    out = []
    for name in backend_names():
        b = get_backend(name)
        avail = b.available()
        out.append(
            BackendOut(
                name=name,
                modality=b.info.modality,
                vendor=b.info.vendor,
                hardware=b.info.hardware,
                available=bool(avail),
                reason=avail.reason or "",
                fix=avail.fix or "",
                catalog=catalog_row(name),
            )
        )
    return out


@router.get("/backends", response_model=list[BackendOut])
def list_backends() -> list[BackendOut]:
    """Public: no key needed (nothing here is a tenant's)."""
    return _backends()


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}
