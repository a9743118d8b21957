"""The domain's refusals: plain exceptions that services raise, knowing nothing of HTTP.

Each kind says what went wrong, not how a face answers it: :class:`Invalid` (a value is wrong,
with its ``field``), :class:`NotFound`, :class:`Forbidden`, :class:`Conflict`,
:class:`Locked`, :class:`TooLarge`, :class:`NotAuthenticated`, and :class:`Upstream` or
:class:`Unavailable` (a provider we depend on failed). Every error carries:

* ``detail``: an English sentence for logs and API clients;
* ``error``: a stable machine word (``validation_error``, ``not_found`` ...), which may be
  narrowed (``code_locked``);
* ``message_id`` and ``params``: what a face needs to say it in the reader's language;
* ``field``: the offending field, when there is one.

The app turns them into answers (:mod:`nuanxin.responses`): JSON for the API, a page or a form
message for the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = (
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "Locked",
    "NotAuthenticated",
    "NotFound",
    "TooLarge",
    "Unavailable",
    "Upstream",
)


class DomainError(Exception):
    """A rule of the domain said no."""

    default_error: ClassVar[str] = "conflict"

    def __init__(
        self,
        detail: str,
        *,
        error: str | None = None,
        field: str | None = None,
        message_id: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error = error or self.default_error
        self.field = field
        self.message_id = message_id or self.error
        self.params: Mapping[str, object] = dict(params or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r}, error={self.error!r}, field={self.field!r})"


class Invalid(DomainError):
    """A value the rules refuse; ``field`` names it."""

    default_error = "bad_request"


class NotAuthenticated(DomainError):
    """The caller must log in (or prove who they are) first."""

    default_error = "not_authenticated"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    default_error = "forbidden"


class NotFound(DomainError):
    """No such record, or none the caller may see."""

    default_error = "not_found"


class Conflict(DomainError):
    """The record's state does not allow it (already done, out of stock, a duplicate ...)."""

    default_error = "conflict"


class Locked(DomainError):
    """The record is locked until someone with the right to do so unlocks it."""

    default_error = "locked"


class TooLarge(DomainError):
    """An upload or request beyond the size the platform accepts."""

    default_error = "payload_too_large"


class Upstream(DomainError):
    """A provider the platform depends on (payments, geocoding) answered with a failure."""

    default_error = "upstream_error"


class Unavailable(DomainError):
    """A provider the platform depends on cannot be reached, or is not configured."""

    default_error = "unavailable"
