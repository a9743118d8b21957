"""Where state shared by the app servers of one deployment lives: sessions and limit counters.

With ``REDIS_URL`` set, both go to Redis (one client per app, closed with the app): sessions
in Litestar's :class:`~litestar.stores.redis.RedisStore`, the abuse-limit windows in
:class:`~nuanxin.limits.RedisCounters`, all under ``REDIS_NAMESPACE``, so that a session made
on one server is known to the others and a limit is counted once for all of them. Without
Redis (the SQLite demo, a single server), the embedded defaults: sessions in files under
``var/sessions`` (in memory for tests), counters in the process.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from nuanxin.limits import RateLimiter, RedisCounters
from nuanxin.settings import Settings

__all__ = ("SharedState", "shared_state")


@dataclass(frozen=True, slots=True)
class SharedState:
    """The session store (registered as ``"sessions"``) and the limiter of one app."""

    sessions: Store
    limiter: RateLimiter


def shared_state(settings: Settings) -> SharedState:
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url)
        namespace = settings.redis_namespace
        return SharedState(
            # the store closes the client when the app stops
            sessions=RedisStore(
                client, namespace=f"{namespace}:sessions", handle_client_shutdown=True
            ),
            limiter=RateLimiter(counters=RedisCounters(client, namespace=namespace)),
        )
    sessions: Store = (
        MemoryStore()
        if settings.env == "test"
        else FileStore(settings.var_dir / "sessions", create_directories=True)
    )
    return SharedState(sessions=sessions, limiter=RateLimiter())
