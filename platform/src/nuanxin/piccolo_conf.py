"""Piccolo's configuration: the apps, and ``DB`` for Piccolo's own command line.

The app and ``python -m nuanxin`` build the engine from the settings they were given
(:func:`nuanxin.db.configure`); ``DB`` answers with that engine. Only when nothing configured one
(the ``piccolo`` command) does ``DB`` read the settings from the environment, here and only here.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry

from nuanxin import db
from nuanxin.settings import Settings

__all__ = ("APP_REGISTRY",)  # and DB, answered by __getattr__

APPS = (
    "nuanxin.regions.piccolo_app",
    "nuanxin.accounts.piccolo_app",
    "nuanxin.warehouses.piccolo_app",
    "nuanxin.households.piccolo_app",
    "nuanxin.offers.piccolo_app",
    "nuanxin.rounds.piccolo_app",
    "nuanxin.deliveries.piccolo_app",
    "nuanxin.advice.piccolo_app",
    "nuanxin.routes.piccolo_app",
    "nuanxin.donations.piccolo_app",
    "nuanxin.help_requests.piccolo_app",
    "nuanxin.audit.piccolo_app",
    "nuanxin.jobs.piccolo_app",
    "nuanxin.deadlines.piccolo_app",
    "nuanxin.safety.piccolo_app",
    "nuanxin.notifications.piccolo_app",
    "piccolo.apps.user.piccolo_app",
    "piccolo_api.session_auth.piccolo_app",
)

APP_REGISTRY = AppRegistry(apps=list(APPS))


def __getattr__(name: str) -> Any:
    """``DB``: the configured engine, or one configured from the environment."""
    if name != "DB":
        raise AttributeError(name)
    return db.configured() or db.configure(Settings.from_env())
