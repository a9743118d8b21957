"""The JSON API of the help_requests area."""

from __future__ import annotations

from litestar import Controller

__all__ = ("CONTROLLERS",)

CONTROLLERS: tuple[type[Controller], ...] = ()
