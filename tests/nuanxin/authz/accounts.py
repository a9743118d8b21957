"""Authorisation policy of the accounts area's endpoints."""

from __future__ import annotations

from typing import Any

from tests.nuanxin.authz.model import EVERYONE, LOGGED_IN, Rule
from tests.nuanxin.conftest import PASSWORD


def credentials(_: Any) -> dict[str, str]:
    return {"username": "w_admin", "password": PASSWORD}


POLICY: dict[str, Rule] = {
    "LogIn": Rule(allowed=EVERYONE, body=credentials),
    "CreateToken": Rule(allowed=EVERYONE, body=credentials),
    "LogOut": Rule(allowed=LOGGED_IN),
    "GetMe": Rule(allowed=LOGGED_IN),
}
