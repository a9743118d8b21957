"""Piccolo's configuration: the engine from :class:`~nuanxin.settings.Settings`, and the apps."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from nuanxin.settings import Settings

__all__ = ("APP_REGISTRY", "DB", "engine_for")

APPS = (
    "nuanxin.regions.piccolo_app",
    "nuanxin.accounts.piccolo_app",
    "nuanxin.warehouses.piccolo_app",
    "nuanxin.households.piccolo_app",
    "nuanxin.offers.piccolo_app",
    "nuanxin.rounds.piccolo_app",
    "nuanxin.deliveries.piccolo_app",
    "nuanxin.donations.piccolo_app",
    "nuanxin.help_requests.piccolo_app",
    "nuanxin.audit.piccolo_app",
    "piccolo.apps.user.piccolo_app",
    "piccolo_api.session_auth.piccolo_app",
)


def engine_for(settings: Settings) -> Engine:  # type: ignore[type-arg]
    """The Piccolo engine that ``settings.database_url`` names."""
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # A busy timeout lets writers queue for the lock instead of failing at once.
    return SQLiteEngine(path=str(path), timeout=30)


DB = engine_for(Settings.from_env())
APP_REGISTRY = AppRegistry(apps=list(APPS))
