"""What a page form keeps between a refused post and the page that shows it again.

A handler that catches a refusal builds a :class:`FormState` with :func:`refused`: every value
as the user typed it, and each problem keyed by its field, in the page's language. The
``partials/forms.html.j2`` macros put the summary above the h1 (linked to the fields) and the
same words beside each field, with ``aria-invalid``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Request

from nuanxin.errors import DomainError
from nuanxin.i18n import N_
from nuanxin.web import form_error, gettext_for

__all__ = ("FormState", "blank", "refused")

_PATH = re.compile(r"at `\$\.(\w+)")

#: Sentences of the refusals that only forms meet (English source; params fill them in).
FORM_MESSAGES: Mapping[str, str] = {
    "region_missing": N_("Pick a region from the list"),
    "region_unknown": N_("No region is called %(name)s: type part of its name and pick it"),
    "region_ambiguous": N_("Several regions are called %(name)s: pick one of %(names)s"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FormState:
    """The values of a form and its problems (field -> sentence; ``""`` for the whole form)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def value(self, name: str, default: Any = "") -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def error(self, name: str) -> str | None:
        return self.errors.get(name)


def _values(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if isinstance(data, Mapping):
        return dict(data)
    return dict(msgspec.structs.asdict(data))


def blank(data: Any = None) -> FormState:
    """A form with its values (none by default) and no problem."""
    return FormState(values=_values(data))


def refused(
    request: Request[Any, Any, Any],
    exc: Exception,
    data: Any,
    *,
    invalid: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> FormState:
    """The form as typed, with the refusal placed at its field.

    ``invalid``: what to say (already translated) when a field's value is malformed (a
    validation error names the field, not why in words). ``aliases``: a field of the service's
    DTO -> the form's field that holds it (``region_code`` -> ``region``). Refusals of access
    are raised again (:func:`nuanxin.web.form_error`).
    """
    _ = gettext_for(request)
    message = form_error(request, exc)  # raises refusals of access
    name = ""
    if isinstance(exc, DomainError) and exc.field:
        name = exc.field
        sentence = FORM_MESSAGES.get(exc.message_id or "")
        if sentence is not None:
            message = str(_(sentence)) % dict(exc.params or {})
    elif isinstance(exc, msgspec.ValidationError):
        found = _PATH.search(str(exc))
        if found:
            name = found.group(1)
            message = (invalid or {}).get(name) or str(_("Check this answer"))
    name = (aliases or {}).get(name, name)
    return FormState(values=_values(data), errors={name: message})
