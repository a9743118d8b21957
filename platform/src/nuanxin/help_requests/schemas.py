"""DTOs of the help requests area (msgspec Structs, never tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from nuanxin.help_requests.vocabulary import HelpRequestStatus, Source
from nuanxin.households.schemas import HouseholdFields, HouseholdOut, IdNumber, Phone, RegionCode

__all__ = (
    "CloseRequest",
    "Conversion",
    "HelpRequestConversion",
    "HelpRequestCreate",
    "HelpRequestOut",
    "HelpRequestReceived",
    "ImportReport",
    "RowError",
)

Description = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
ShortText = Annotated[str, msgspec.Meta(max_length=100)]
Address = Annotated[str, msgspec.Meta(max_length=300)]


class HelpRequestCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A report of a person in difficulty: where the person is NOW, and what is wrong.

    Give ``region_code`` (a county or township picked from a list) or an ``address`` that
    names the county (e.g. 黑龙江省哈尔滨市呼兰区康金街道…); an address the gazetteer cannot
    place in one county is refused (400, ``field: address``) with the candidates.
    """

    region_code: RegionCode | None = None
    address: Address = ""
    description: Description
    person_name: ShortText = ""
    person_phone: Phone = ""
    reporter_contact: ShortText = ""  # the reporter's name and phone, if they wish


class HelpRequestReceived(msgspec.Struct, kw_only=True):
    """What the public reporter learns: that the report reached a county's queue."""

    id: int
    status: HelpRequestStatus
    region_name: str


class HelpRequestOut(msgspec.Struct, kw_only=True):
    id: int
    source: Source
    status: HelpRequestStatus
    region_code: str
    region_name: str
    person_name: str
    address: str
    phone: str  # in full to staff of the jurisdiction, masked otherwise
    description: str
    reporter_contact: str
    id_number: str | None  # imported candidates only, masked: the last 4 characters
    category: str
    household_size: int
    close_reason: str
    household_id: int | None
    logged_by: int | None
    created_at: datetime
    closed_at: datetime | None


class HelpRequestConversion(HouseholdFields, kw_only=True, forbid_unknown_fields=True):
    """The household to register from a request. ``id_number`` may be left out when the
    request came from an import that carried one (its keyed hash is used)."""

    id_number: IdNumber | None = None


class Conversion(msgspec.Struct, kw_only=True):
    help_request: HelpRequestOut
    household: HouseholdOut


class CloseRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class RowError(msgspec.Struct, kw_only=True):
    """One problem in one row of an import (the header is row 1)."""

    row: int
    field: str
    message: str


class ImportReport(msgspec.Struct, kw_only=True):
    rows: int  # data rows read
    imported: int
    request_ids: list[int]
    errors: list[RowError]
