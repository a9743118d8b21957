"""Matching rounds and the proposals the engine made in them."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.constraints import Check
from piccolo.table import Table

from nuanxin.accounts.tables import User
from nuanxin.households.tables import Household, Need
from nuanxin.offers.tables import Offer
from nuanxin.regions.tables import Region
from nuanxin.rounds.vocabulary import ProposalStatus, RoundStatus


class MatchingRound(Table, tablename="matching_round"):
    """One run of the engine over a jurisdiction's snapshot."""

    id = Serial(primary_key=True)

    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    kinds = JSON(default=[])  # item codes; empty means all
    status = Varchar(length=10, choices=RoundStatus, default=RoundStatus.pending, index=True)
    progress = Integer(default=0)  # percent
    phase = Varchar(length=40, default="")
    stats = JSON(default={})
    error = Varchar(length=500, default="")
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)

    progress_is_a_percent = Check("progress >= 0 AND progress <= 100")


class Proposal(Table, tablename="proposal"):
    """The engine's suggestion: so many units of an offer to a household's need."""

    id = Serial(primary_key=True)

    round = ForeignKey(MatchingRound, index=True, null=False, on_delete=OnDelete.restrict)
    offer = ForeignKey(Offer, null=False, on_delete=OnDelete.restrict)
    household = ForeignKey(Household, null=False, on_delete=OnDelete.restrict)
    need = ForeignKey(Need, null=False, on_delete=OnDelete.restrict)
    quantity = Integer()
    distance_km = DoublePrecision()
    reason = Varchar(length=500)
    location_source = Varchar(length=10, default="")  # the household's point the km are to
    status = Varchar(length=10, choices=ProposalStatus, default=ProposalStatus.proposed, index=True)
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Varchar(length=300, default="")

    quantity_positive = Check("quantity > 0")
