"""The domain's refusals said in the reader's language.

A service raises a :class:`~nuanxin.errors.DomainError` with a ``message_id`` (by default its
machine word, ``error``) and ``params``; :func:`describe` finds the sentence of that id in
:data:`MESSAGES` (English source, translated in ``frontend/locales/``) and fills in the
params. A page's own sentence (already said with ``_()``) is shown as it is. An id with no
sentence falls back to the sentence of its kind (:data:`GENERIC`), never
to the English ``detail``, which stays for logs and API clients. A field is named by its label
(:data:`FIELDS`), never by its key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

import msgspec

from nuanxin.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Locked,
    NotAuthenticated,
    NotFound,
    TooLarge,
    Unavailable,
    Upstream,
)
from nuanxin.i18n import N_, is_catalogued

__all__ = (
    "FIELDS",
    "GENERIC",
    "GENERIC_IDS",
    "MESSAGES",
    "describe",
    "describe_invalid_form",
    "field_label",
)

Gettext = Callable[[str], str]

#: A sentence for each message id (English source; ``%(name)s`` placeholders take params).
MESSAGES: Final[Mapping[str, str]] = {
    # deliveries
    "wrong_code": N_("The code is not right: %(left)d attempts left"),
    "delivery_locked": N_(
        "Too many wrong codes: this delivery is locked. Call the civil affairs staff of the "
        "household's county: they print a new slip, and the delivery opens again."
    ),
    "delivery_closed": N_("This delivery is already closed."),
    "already_delivered": N_("This delivery was already confirmed."),
    "code_format": N_("The code has 8 digits, as printed on the slip."),
    "no_slip_to_print": N_("Only a delivery still to make has a slip to print."),
    # notifications
    "visit_day_out_of_range": N_("The visit's day is today or within the next 60 days."),
    "visit_already_scheduled": N_("This visit was scheduled already: its household was told."),
    "invalid_language": N_("Choose Chinese (zh) or English (en)."),
    "invalid_email": N_("This is not an email address."),
    "nothing_to_change": N_("Say what to change: opted out, language or email."),
    "household_sms_only": N_("Households are told by SMS only: they have no email here."),
    "case_resolved": N_("This case is resolved already."),
    # heating safety
    "safety_not_asked": N_(
        "The safety check is only for a visit that brings coal or a stove: leave it out."
    ),
    "follow_up_done": N_("This follow-up is already done."),
    "not_a_county": N_("A cold spell is set for a county: pick a county from the list."),
    "idempotency_key_format": N_("The Idempotency-Key header must be a UUID."),
    "idempotency_key_required": N_(
        "A confirmation typed without a network is sent with an Idempotency-Key header."
    ),
    "idempotency_key_reused": N_(
        "This Idempotency-Key was already used for another confirmation: make a new one."
    ),
    "review_settled": N_("This confirmation typed offline was already settled."),
    "note_required": N_("Say what was checked."),
    # stock and offers
    "no_stock_in_reach": N_(
        "No open offer with enough units of this item reaches the household: choose another "
        "item or a smaller quantity."
    ),
    "insufficient_stock": N_(
        "Only %(available)d units are available, not %(quantity)d: ask for fewer."
    ),
    "no_such_code": N_("No delivery has this code: check it against the slip."),
    "insufficient_reserved": N_("Only %(reserved)d units are reserved, not %(quantity)d."),
    "stock_moved": N_("The stock moved while it was being counted: try again."),
    "below_reserved": N_(
        "The quantity cannot go below the %(taken)d units already reserved, delivered or withdrawn."
    ),
    "below_allocated": N_("The need cannot go below the units already allocated."),
    "offer_not_open": N_("This offer is no longer open: it cannot change."),
    "warehouse_in_use": N_("Units of this offer are reserved from its warehouse: it cannot move."),
    "quantity_at_least_one": N_("The quantity must be at least 1."),
    "unknown_item": N_("Choose an item from the list."),
    # units (nuanxin.units)
    "unknown_unit": N_("Choose a unit from the list."),
    "unit_not_for_item": N_(
        "This item cannot be given in that unit: coal in 25 kg bags, kilograms or tonnes; "
        "everything else by the piece."
    ),
    "bags_not_whole": N_(
        "Coal is counted in whole 25 kg bags: give a quantity that makes whole bags "
        "(1 t = 40 bags, 1.5 t = 60 bags, 100 kg = 4 bags)."
    ),
    "quantity_not_whole": N_("The quantity must be a whole number."),
    "quantity_out_of_range": N_(
        "The quantity must be from %(minimum)s to %(maximum)s (coal in 25 kg bags, everything "
        "else by the piece)."
    ),
    "window_ends_before_start": N_("The last day must be after the first day."),
    "window_ended": N_("The last day has passed already: choose a later day."),
    "end_date_in_past": N_("The end date must be in the future."),
    "need_release": N_("No more units can be returned than were allocated."),
    # households, jurisdiction
    "household_not_in_jurisdiction": N_("No such household in your jurisdiction."),
    "duplicate_household": N_(
        "A household with this ID number is already registered: %(reference)s."
    ),
    "duplicate_household_elsewhere": N_(
        "A household with this ID number is already registered in another jurisdiction: "
        "contact the civil affairs office of %(county)s."
    ),
    "duplicate_household_name": N_(
        "A household of this name at this address is already registered: %(reference)s."
    ),
    "duplicate_household_name_elsewhere": N_(
        "A household of this name at this address is already registered in another "
        "jurisdiction: contact the civil affairs office of %(county)s."
    ),
    "unknown_region": N_("No region has this code: pick the county or township from the list."),
    "region_missing": N_("Pick a region from the list."),
    "region_unknown": N_("No region is called %(name)s: pick one from the list."),
    "region_ambiguous": N_(
        "Several regions are called %(name)s (%(names)s): pick the one you mean from the list."
    ),
    "region_too_large": N_("Pick a county or a township, not a province or a city."),
    "region_not_in_jurisdiction": N_("This place is not in your jurisdiction."),
    "id_number_required": N_(
        "Enter the ID number; for a person without papers (先行救助), say why there is none."
    ),
    "id_missing": N_("No ID number is on record yet: add it to the household first."),
    "bad_id_number": N_("The ID number is not valid: 18 characters, the last a digit or X."),
    "need_already_met": N_("This need is already met."),
    "escalation_pending": N_(
        "A case-by-case request for this household and item is already waiting for a decision."
    ),
    "escalation_needs_more": N_(
        "The household's need is already %(current)d: a case-by-case request asks for more."
    ),
    "already_decided": N_("This was decided already."),
    # rounds
    "round_running": N_("A round is already running for this jurisdiction: wait for it to end."),
    "round_not_proposed": N_("This round has nothing left to approve."),
    "reason_required": N_("Give a reason."),
    "proposals_unticked": N_("Tick the proposals first."),
    "round_not_failed": N_("Only a failed round can be run again."),
    "proposals_not_in_round": N_("Some of these proposals are not in this round: reload the page."),
    "edit_above_proposal": N_(
        "An edit may lower a proposal's quantity, not raise it: at most %(limit)d."
    ),
    # help requests, imports
    "not_open": N_("This help request is no longer open."),
    "file_encoding": N_("The file is neither UTF-8 nor GB18030 text: save it as CSV or .xlsx."),
    "file_unreadable": N_("The .xlsx file cannot be read: save it again and upload it once more."),
    # charities, campaigns, donations
    "charity_not_verified": N_(
        "The charity is not verified yet: the civil affairs staff check it first."
    ),
    "charity_suspended": N_("The charity is suspended."),
    "campaign_closed": N_("This campaign takes no more donations."),
    "insufficient_funds": N_("The campaign does not have that much money left."),
    "money_spent": N_("That money was spent on goods already."),
    "not_refundable": N_("This donation cannot be refunded."),
    "refund_too_large": N_("That is more than can still be refunded."),
    "refund_failed": N_("The payment provider did not refund."),
    "not_goods": N_("Only gifts of goods are accepted or declined."),
    "payments_unavailable": N_("Online payments are not available on this platform."),
    "payments_unreachable": N_("The payment provider cannot be reached: try again shortly."),
    "payment_provider_error": N_("The payment provider refused the request: try again later."),
    "bad_signature": N_("The signature does not match this request."),
    # courier routes
    "too_many_stops": N_("A day's route takes at most %(limit)d visits."),
    "route_visit_not_open": N_("Visit %(id)d is not an open visit of your charity."),
    "route_day_past": N_("A route is planned for today or a later day."),
    "no_visits_to_route": N_("Your charity has no open visit to go to."),
    "route_not_found": N_("No such route of your charity."),
    "date_format": N_("Type the date as year-month-day, for example 2026-12-10."),
    "pick_warehouse": N_("Pick a warehouse."),
    # households' points
    "degrees_range": N_("Type a number of degrees between %(low)s and %(high)s."),
    "suggestion_not_found": N_("No such courier's point in your jurisdiction."),
}

#: The sentence of each kind of refusal, when its message id has none of its own.
GENERIC: Final[tuple[tuple[type[DomainError], str], ...]] = (
    (Invalid, N_("A value is not accepted: check the form.")),
    (NotAuthenticated, N_("Log in first.")),
    (Forbidden, N_("Your account may not do this.")),
    (NotFound, N_("No such record, or none you may see.")),
    (Locked, N_("This record is locked: the civil affairs staff can unlock it.")),
    (TooLarge, N_("The file or form is too large.")),
    (Upstream, N_("A service the platform depends on failed: try again later.")),
    (Unavailable, N_("A service the platform depends on is not available: try again later.")),
    (Conflict, N_("The record's present state does not allow this: reload the page.")),
)
#: Machine words said by the sentence of their kind (:data:`GENERIC`) rather than one of their
#: own: each kind's default word, and ``validation_error`` (a value that does not decode, which
#: :data:`GENERIC_FIELD` names by its field).
GENERIC_IDS: Final[frozenset[str]] = frozenset(
    {kind.default_error for kind, _ in GENERIC} | {"validation_error"}
)
GENERIC_FIELD: Final = N_("“%(field)s” is not accepted: check it.")

#: The label of each form field a refusal may name (the key is never shown).
FIELDS: Final[Mapping[str, str]] = {
    "code": N_("Confirmation code"),
    "quantity": N_("Quantity"),
    "unit": N_("Unit"),
    "item_code": N_("Item"),
    "item_codes": N_("Items"),
    "offer_id": N_("Offer"),
    "warehouse_id": N_("Warehouse"),
    "radius_km": N_("Radius (km)"),
    "available_from": N_("First day"),
    "available_until": N_("Last day"),
    "ends_on": N_("End date"),
    "household_id": N_("Household"),
    "head_name": N_("Head of household"),
    "id_number": N_("ID number"),
    "phone": N_("Phone"),
    "visit_on": N_("Visit day"),
    "language": N_("Language"),
    "email": N_("Email"),
    "opted_out": N_("No notifications"),
    "region_code": N_("Region"),
    "current_address": N_("Current address"),
    "birth_years": N_("Members' birth years"),
    "category": N_("Category"),
    "reason": N_("Reason"),
    "note": N_("Note"),
    "amount_fen": N_("Amount"),
    "cost_fen": N_("Cost"),
    "campaign_id": N_("Campaign"),
    "status": N_("Status"),
    "username": N_("Username"),
    "password": N_("Password"),
    "file": N_("CSV file"),
    "tracking_code": N_("Tracking code"),
    "safety": N_("Safety check"),
    "starts_on": N_("First day of the cold spell"),
    "visit_ids": N_("Visits"),
    "day": N_("Day"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
}


def field_label(field: str | None, gettext: Gettext) -> str | None:
    """The label of a field in the reader's language, or ``None`` for a key we do not know."""
    if not field:
        return None
    label = FIELDS.get(field.removeprefix("$.").split(".")[0].split("[")[0])
    return None if label is None else gettext(label)


def _fill(sentence: str, params: Mapping[str, object]) -> str | None:
    try:
        return sentence % dict(params) if "%(" in sentence else sentence
    except (KeyError, TypeError, ValueError):
        return None


def describe(exc: DomainError, gettext: Gettext) -> str:
    """The refusal as one sentence in the reader's language (``gettext`` of the request)."""
    sentence = MESSAGES.get(exc.message_id) or MESSAGES.get(exc.error)
    if sentence is not None:
        filled = _fill(gettext(sentence), exc.params)
        if filled is not None:
            return filled
    if exc.message_id == exc.error and is_catalogued(exc.detail):
        return gettext(exc.detail)  # a page's own sentence, said with ``_()`` already
    label = field_label(exc.field, gettext)
    if label is not None and isinstance(exc, Invalid | Conflict):
        return gettext(GENERIC_FIELD) % {"field": label}
    for kind, generic in GENERIC:
        if isinstance(exc, kind):
            return gettext(generic)
    return gettext(GENERIC[-1][1])


def describe_invalid_form(exc: msgspec.ValidationError | Exception, gettext: Gettext) -> str:
    """A form that does not decode (a number that is not one, a value out of range)."""
    match = re.search(r"at `\$\.([^`\[]+)", str(exc))
    label = field_label(match.group(1) if match else None, gettext)
    if label is not None:
        return gettext(GENERIC_FIELD) % {"field": label}
    return gettext(GENERIC[0][1])
