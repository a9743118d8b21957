"""Help requests (主动发现): public reports, hotline calls and imported candidates."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from nuanxin.accounts.tables import User
from nuanxin.help_requests.vocabulary import HelpRequestStatus, Source
from nuanxin.households.tables import Household
from nuanxin.regions.tables import Region


class HelpRequest(Table, tablename="help_request"):
    """A report of a person in difficulty, triaged where the person is now."""

    id = Serial(primary_key=True)

    source = Varchar(length=8, choices=Source, index=True)
    region = ForeignKey(Region, index=True, null=False, on_delete=OnDelete.restrict)
    person_name = Varchar(length=100, default="")
    address = Varchar(length=300, default="")
    phone = Varchar(length=20, default="")
    description = Text(default="")
    reporter_contact = Varchar(length=100, default="")
    status = Varchar(
        length=10, choices=HelpRequestStatus, default=HelpRequestStatus.open.value, index=True
    )
    close_reason = Varchar(length=300, default="")
    household = ForeignKey(Household, null=True, default=None, on_delete=OnDelete.restrict)
    logged_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    # From imports: the candidate's ID number as a keyed hash and its last 4 characters only,
    # the category and the household size the source gave (empty / 0 when unknown).
    id_hash = Varchar(length=64, default="")
    id_last4 = Varchar(length=4, default="")
    category = Varchar(length=16, default="")
    household_size = Integer(default=0)
