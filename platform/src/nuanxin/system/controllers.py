"""Health of the running platform."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from nuanxin import __version__
from nuanxin.db import engine

__all__ = ("HealthController",)


class Health(msgspec.Struct, kw_only=True):
    status: str
    database: str
    engine: str
    version: str


class HealthController(Controller):
    path = "/health"
    tags = ("system",)

    @get(
        operation_id="GetHealth",
        exclude_from_auth=True,
        security=[{}],
        summary="Is the platform up, and can it reach its database?",
    )
    async def health(self) -> Health:
        db = engine()
        try:
            await db.run_ddl("SELECT 1")
            database = "ok"
        except Exception:  # the answer itself says what is wrong
            database = "unreachable"
        return Health(
            status="ok" if database == "ok" else "degraded",
            database=database,
            engine=db.engine_type,
            version=__version__,
        )
