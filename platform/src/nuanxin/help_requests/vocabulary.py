"""The words of the help requests area: where a request came from, and where it stands.

Tables, schemas, services and faces import these enums from here (never from ``tables.py``)
and compare members, not string literals.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ("HelpRequestStatus", "Source")


class Source(StrEnum):
    public = "public"  # a public report
    hotline = "hotline"  # a hotline call logged by staff
    import_ = "import"  # a row of a CSV import


class HelpRequestStatus(StrEnum):
    open = "open"
    converted = "converted"  # a household was registered from it
    closed = "closed"  # closed without a household, with a reason
