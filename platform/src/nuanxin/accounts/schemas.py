"""DTOs of the accounts area (msgspec Structs, never tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from nuanxin.accounts.tables import Role

__all__ = ("Credentials", "Me", "TokenCreated")

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class Credentials(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Username
    password: Password


class Me(msgspec.Struct, kw_only=True):
    id: int
    username: str
    role: Role
    jurisdiction_id: int | None
    organization_id: int | None


class TokenCreated(msgspec.Struct, kw_only=True):
    token: str
    token_type: str
    expires_at: datetime
