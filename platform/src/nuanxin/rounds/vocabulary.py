"""The rounds area's words: a matching round's and a proposal's status.

Tables, schemas, services and faces import these from here, never from tables.py.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = (
    "ProposalStatus",
    "RoundStatus",
)


class RoundStatus(StrEnum):
    pending = "pending"
    running = "running"
    proposed = "proposed"
    closed = "closed"
    failed = "failed"


class ProposalStatus(StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    stale = "stale"  # its stock or need was gone at approval
