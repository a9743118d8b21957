"""Authorisation policy of the HTML pages (keyed by method and path)."""

from __future__ import annotations

from tests.nuanxin.authz.accounts import credentials
from tests.nuanxin.authz.model import EVERYONE, LOGGED_IN, Rule

POLICY: dict[str, Rule] = {
    "GET /": Rule(allowed=EVERYONE),
    "GET /login": Rule(allowed=EVERYONE),
    "POST /login": Rule(allowed=EVERYONE, body=credentials, form=True),
    "POST /login/logout": Rule(allowed=LOGGED_IN, form=True),
}
