"""Authorisation policy of the system endpoints."""

from __future__ import annotations

from tests.nuanxin.authz.model import EVERYONE, Rule

POLICY: dict[str, Rule] = {
    "GetHealth": Rule(allowed=EVERYONE),
}
