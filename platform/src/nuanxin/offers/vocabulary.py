"""The offers area's words: an offer's status.

Tables, schemas, services and faces import these from here, never from tables.py.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ("OfferStatus",)


class OfferStatus(StrEnum):
    open = "open"
    withdrawn = "withdrawn"
    closed = "closed"
