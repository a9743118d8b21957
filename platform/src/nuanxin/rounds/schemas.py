"""DTOs of the rounds area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

__all__ = (
    "ApprovalOut",
    "ApprovalPreview",
    "ApproveIn",
    "KindUnits",
    "ProposalEdit",
    "ProposalOut",
    "RejectIn",
    "ReviewFilters",
    "ReviewHousehold",
    "ReviewPage",
    "RoundIn",
    "RoundOut",
    "RoundSummary",
    "StaleProposal",
)

ItemCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]
ProposalIds = Annotated[list[int], msgspec.Meta(max_length=10_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class RoundIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Start a round over the jurisdiction; ``item_codes`` limits it to some items.

    ``time_limit_s`` bounds the engine's solve: by then the parts not solved exactly keep a
    feasible answer, and the round's ``stats`` say so (``optimal`` false) with the proven
    ``gap`` and ``relative_gap`` to the best possible. Without it the answer is exact (a
    province of a million households takes minutes).
    """

    item_codes: Annotated[list[ItemCode], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    time_limit_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] | None = None


class RoundOut(msgspec.Struct, kw_only=True):
    id: int
    region_code: str
    region_name: str
    item_codes: list[str]
    status: str
    progress: int
    phase: str
    error: str
    stats: dict[str, Any]
    created_by: int
    created_at: datetime
    finished_at: datetime | None
    proposals: int


class ProposalOut(msgspec.Struct, kw_only=True):
    id: int
    round_id: int
    household_id: int
    household_reference: str
    household_category: str
    region_code: str
    lat: float
    lon: float
    offer_id: int
    organization_id: int
    charity: str  # the supplying charity's name
    item_code: str
    quantity: int
    distance_km: float
    radius_km: float  # the offer's delivery radius
    priority: float  # the weight of a unit of the household's need
    reason: str  # the engine's sentence, Chinese / English (pages say it from the fields above)
    status: str
    decision_reason: str
    # which point of the household the distance is to: pin, courier, township or county
    location_source: str = ""


class ProposalEdit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    proposal_id: int
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class ApproveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Approve every open proposal (``all``), some (``proposal_ids``), or edited ones."""

    all: bool = False
    proposal_ids: ProposalIds = msgspec.field(default_factory=list)
    edits: Annotated[list[ProposalEdit], msgspec.Meta(max_length=10_000)] = msgspec.field(
        default_factory=list
    )


class RejectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    proposal_ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=10_000)]
    reason: Reason


class StaleProposal(msgspec.Struct, kw_only=True):
    proposal_id: int
    reason: str


class ApprovalOut(msgspec.Struct, kw_only=True):
    approved: list[int]
    already_approved: list[int]
    stale: list[StaleProposal]
    delivery_ids: list[int]


class KindUnits(msgspec.Struct, kw_only=True):
    """Units of one item in a round: proposed, approved, still open, and left unmet."""

    item_code: str
    proposed: int
    approved: int
    open: int
    unmet: int


class RoundSummary(msgspec.Struct, kw_only=True):
    households: int  # households with a proposal
    open_households: int  # households with an open proposal
    proposals: int
    by_status: dict[str, int]
    units: list[KindUnits]
    unmet_units: int  # units of need no offer could serve (the engine's figure)
    snapshot_households: int  # households with an unmet need when the round ran


class ReviewFilters(msgspec.Struct, kw_only=True, frozen=True):
    township: str | None = None  # a region code
    item_code: str | None = None
    organization_id: int | None = None
    status: str | None = None


class ReviewHousehold(msgspec.Struct, kw_only=True):
    household_id: int
    reference: str
    category: str
    region_code: str
    county: str
    township: str
    proposals: list[ProposalOut]


class ReviewPage(msgspec.Struct, kw_only=True):
    households: list[ReviewHousehold]
    total_households: int
    total_proposals: int
    page: int
    pages: int
    per_page: int
    townships: list[tuple[str, str]]  # (region code, name) of the round's households
    charities: list[tuple[int, str]]  # (organization id, name) of the round's offers
    item_codes: list[str]


class ApprovalPreview(msgspec.Struct, kw_only=True):
    """What "approve all" would approve: open proposals, their households and units."""

    proposals: int
    households: int
    units: list[KindUnits]
