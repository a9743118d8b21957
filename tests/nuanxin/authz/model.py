"""The authorisation policy's vocabulary: who calls, and what each endpoint allows.

Each area keeps its policy in ``tests/nuanxin/authz/<area>.py`` as ``POLICY: dict[str, Rule]``
keyed by operation id. ``test_authorisation_matrix.py`` walks the app's route table, calls
every endpoint as every caller below, and fails on an answer the rule does not allow, or on an
endpoint with no rule at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Caller(StrEnum):
    """The callers of the matrix. The world gives each one an account (but ANON)."""

    ANON = "anonymous"
    ADMIN = "admin"
    STAFF = "staff"  # jurisdiction: county A, where the world's records are
    NEIGHBOUR = "neighbour"  # staff of county B, next door: must not reach county A's records
    PROVINCE = "province"  # staff of the province holding both counties
    CHARITY = "charity"  # member of charity X, which owns the world's offer and warehouse
    OTHER_CHARITY = "other_charity"  # member of charity Y
    COURIER = "courier"  # courier of charity X


ANON, ADMIN, STAFF, NEIGHBOUR, PROVINCE, CHARITY, OTHER_CHARITY, COURIER = tuple(Caller)
EVERYONE = frozenset(Caller)
LOGGED_IN = EVERYONE - {ANON}
STAFF_OF_A = frozenset({ADMIN, STAFF, PROVINCE})  # who may act on county A's records


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """What an endpoint allows.

    ``allowed``: callers that must get through (any answer but 401/403/404 from the rules;
    validation errors count as getting through). Every other caller must be refused with
    401 (anonymous), 403, or 404 (a record outside one's reach).
    ``path``: path parameter -> attribute of the world holding its value.
    ``body``: a valid JSON body, built from the world (so that refusals come from the rules,
    not from validation). ``query``: query parameters.
    """

    allowed: frozenset[Caller]
    path: Mapping[str, str] = field(default_factory=dict)
    body: Callable[[Any], Any] | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    form: bool = False
