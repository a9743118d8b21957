"""What a person reads in place of a code: items, household categories, statuses.

Each vocabulary of the areas has its own words, because one code means different things in
different places: a ``pending`` delivery is awaiting delivery, a ``pending`` escalation awaits a
decision, a ``pending`` round is queued. The words are English source strings, translated in
the catalogues (``frontend/locales/``); the templates use them as Jinja filters:
``{{ d.item_code | item_label }}``, ``{{ h.category | category_label }}``,
``{{ e.status | status_label("escalation") }}``.

An item code is its kind (:data:`KINDS`: ``coal``, ``coat_adult`` ...) and, for clothes, a size
(``coat_adult_l``: an adult cotton coat, size L); units come from :data:`UNITS`. A code with no
word is shown as "—", never raw.

A quantity is shown with its unit by :func:`quantity_text` (filter ``quantity``:
``{{ i.quantity | quantity(i.item_code) }}``): coal, counted in 25 kg bags
(:data:`COUNTED_IN`), reads "3 袋（75 公斤）" / "3 bags (75 kg)", and from a tonne up
"1.5 吨（60 袋）" / "1.5 t (60 bags)"; other kinds "2 件" / "2 pieces".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Final

from babel.numbers import format_decimal

from nuanxin.i18n import LANGUAGES, N_
from nuanxin.units import Unit, from_count

__all__ = (
    "CATEGORIES",
    "KINDS",
    "STATUSES",
    "category_label",
    "count_unit",
    "item_label",
    "item_unit",
    "quantity_text",
    "status_label",
    "tag_label",
    "weight_text",
)

Gettext = Callable[[str], str]

CATEGORIES: Final[Mapping[str, str]] = {
    "dibao": N_("Minimum living allowance (dibao)"),
    "extremely_poor": N_("Extreme hardship support (tekun)"),
    "near_dibao": N_("Near the minimum living allowance"),
    "temporary": N_("Temporary assistance"),
}

KINDS: Final[Mapping[str, str]] = {
    "coal": N_("Heating coal"),
    "coat_adult": N_("Adult cotton coat"),
    "coat_child": N_("Child cotton coat"),
    "quilt": N_("Cotton quilt"),
    "electric_blanket": N_("Electric blanket"),
    "stove": N_("Heating stove"),
    "co_alarm": N_("Carbon monoxide alarm"),
    "money": N_("Money"),
}

#: The unit of each kind (one unit of the need, of the offer, of the delivery).
UNITS: Final[Mapping[str, str]] = {
    "coal": N_("25 kg bag"),
    "coat_adult": N_("piece"),
    "coat_child": N_("piece"),
    "quilt": N_("bed quilt"),
    "electric_blanket": N_("blanket"),
    "stove": N_("unit"),
    "co_alarm": N_("alarm"),
}
SIZED: Final = N_("%(kind)s, size %(size)s")

#: The counting unit of each kind not counted in pieces (as the catalogue says, ``item.unit``).
COUNTED_IN: Final[Mapping[str, Unit]] = {"coal": Unit.bag_25kg}

#: A quantity of each kind with its unit: (one, more than one); Chinese has one form.
AMOUNTS: Final[Mapping[str, tuple[str, str]]] = {
    "coal": (N_("%(n)s bag (%(kg)s kg)"), N_("%(n)s bags (%(kg)s kg)")),
    "coat_adult": (N_("%(n)s piece"), N_("%(n)s pieces")),
    "coat_child": (N_("%(n)s piece"), N_("%(n)s pieces")),
    "quilt": (N_("%(n)s quilt"), N_("%(n)s quilts")),
    "electric_blanket": (N_("%(n)s blanket"), N_("%(n)s blankets")),
    "stove": (N_("%(n)s stove"), N_("%(n)s stoves")),
    "co_alarm": (N_("%(n)s alarm"), N_("%(n)s alarms")),
}
#: Coal from a tonne up.
TONNES: Final = N_("%(t)s t (%(n)s bags)")
#: The words of the bag, where the number stands apart from it (a slip's table).
BAG: Final = (N_("bag"), N_("bags"))
#: A weight alone: up to a tonne in kilograms, from a tonne up in tonnes.
KILOGRAMS: Final = N_("%(kg)s kg")
TONNES_ALONE: Final = N_("%(t)s t")

TAGS: Final[Mapping[str, str]] = {
    "electricity": N_("Has electricity"),
    "coal_stove": N_("Coal stove"),
    "central_heating": N_("Central heating"),
    "gas_heating": N_("Gas heating"),
    "kang": N_("Heated brick bed (kang)"),
    "no_heating": N_("No heating"),
    "co_alarm": N_("Has a carbon monoxide alarm"),
}

#: The words of each status vocabulary, by the vocabulary's name.
STATUSES: Final[Mapping[str, Mapping[str, str]]] = {
    "location": {  # where a household's point came from (households/vocabulary.py)
        "pin": N_("pin placed by staff"),
        "courier": N_("courier's position"),
        "township": N_("township centre"),
        "county": N_("county centre"),
    },
    "suggestion": {
        "pending": N_("awaiting a decision"),
        "accepted": N_("accepted"),
        "rejected": N_("rejected"),
    },
    "delivery": {
        "pending": N_("awaiting delivery"),
        "delivered": N_("delivered"),
        "failed": N_("not delivered"),
        "locked": N_("locked (too many wrong codes)"),
    },
    "allocation": {
        "reserved": N_("reserved"),
        "delivered": N_("delivered"),
        "failed": N_("not delivered"),
        "cancelled": N_("cancelled"),
    },
    "escalation": {
        "pending": N_("awaiting decision"),
        "approved": N_("approved"),
        "rejected": N_("rejected"),
    },
    "round": {
        "pending": N_("queued"),
        "running": N_("running"),
        "proposed": N_("awaiting approval"),
        "closed": N_("closed"),
        "failed": N_("failed"),
    },
    "phase": {
        "queued": N_("queued"),
        "snapshot": N_("reading the data"),
        "candidates": N_("finding candidates"),
        "feasible": N_("first solution"),
        "exact": N_("exact solution"),
        "done": N_("done"),
    },
    "proposal": {
        "proposed": N_("to review"),
        "approved": N_("approved"),
        "rejected": N_("rejected"),
        "stale": N_("out of date"),
    },
    "offer": {
        "open": N_("open"),
        "withdrawn": N_("withdrawn"),
        "closed": N_("closed"),
    },
    "stock": {
        "available": N_("available"),
        "reserved": N_("reserved"),
        "delivered": N_("delivered"),
        "withdrawn": N_("withdrawn"),
    },
    "help_request": {
        "open": N_("to triage"),
        "converted": N_("registered"),
        "closed": N_("closed"),
    },
    "source": {
        "public": N_("public report"),
        "hotline": N_("hotline"),
        "import": N_("import"),
    },
    "case": {
        "open": N_("open"),
        "resolved": N_("resolved"),
    },
    "donation": {
        "created": N_("awaiting payment"),
        "paid": N_("paid"),
        "failed": N_("payment failed"),
        "refunded": N_("refunded"),
        "partially_refunded": N_("partly refunded"),
        "accepted": N_("accepted"),
        "declined": N_("declined"),
    },
    "donation_kind": {
        "money": N_("money"),
        "goods": N_("goods"),
    },
    "organization": {
        "pending": N_("awaiting verification"),
        "verified": N_("verified"),
        "suspended": N_("suspended"),
    },
    "verification": {
        "unverified": N_("not verified"),
        "verified": N_("verified"),
        "rejected": N_("rejected"),
        "current": N_("verification current"),
        "expired": N_("verification expired"),
    },
    "campaign": {
        "open": N_("open"),
        "closed": N_("closed"),
    },
}

UNKNOWN: Final = "—"


def _code(value: object) -> str:
    if value is None:
        return ""
    return str(value.value) if isinstance(value, Enum) else str(value)


def _kind_and_size(code: str) -> tuple[str, str | None] | None:
    if code in KINDS:
        return code, None
    kind, _, size = code.rpartition("_")
    if kind in KINDS and size:
        return kind, size.upper()
    return None


def item_label(code: object, language: str, gettext: Gettext) -> str:
    """An item (``coat_adult_l``) or an item kind (``coat_adult``) in the reader's words."""
    key = _code(code)
    found = _kind_and_size(key)
    if found is None:
        return UNKNOWN if key else ""
    kind, size = found
    name = gettext(KINDS[kind])
    return name if size is None else gettext(SIZED) % {"kind": name, "size": size}


def item_unit(code: object, gettext: Gettext) -> str:
    """The unit of an item (袋, 件 / bag, piece), or "" for an unknown one."""
    found = _kind_and_size(_code(code))
    return "" if found is None or found[0] not in UNITS else gettext(UNITS[found[0]])


def _number(value: int | Decimal, language: str) -> str:
    return str(format_decimal(value, locale=LANGUAGES.get(language, "en")))


def _count(count: object) -> int | None:
    try:
        return int(str(count))
    except ValueError:
        return None


def _counted_in(code: object) -> tuple[str, Unit] | None:
    found = _kind_and_size(_code(code))
    if found is None or found[0] not in AMOUNTS:
        return None
    return found[0], COUNTED_IN.get(found[0], Unit.piece)


def weight_text(count: object, code: object, language: str, gettext: Gettext) -> str:
    """What ``count`` of an item counted by weight weighs: "75 公斤", "1.5 吨"; else ""."""
    found, n = _counted_in(code), _count(count)
    if found is None or n is None or found[1] is not Unit.bag_25kg:
        return ""
    kg = from_count(n, found[1], Unit.kg)
    if kg >= 1000:
        weight = gettext(TONNES_ALONE) % {"t": _number(from_count(n, found[1], Unit.t), language)}
    else:
        weight = gettext(KILOGRAMS) % {"kg": _number(kg, language)}
    return weight.replace(" ", "\u00a0")


def count_unit(count: object, code: object, gettext: Gettext) -> str:
    """The word of the unit ``count`` of the item is counted in: 袋 / bags, 件 / piece."""
    found = _counted_in(code)
    if found is not None and found[1] is Unit.bag_25kg:
        return gettext(BAG[0] if _count(count) == 1 else BAG[1])
    if found is not None and found[0] in AMOUNTS:  # "2 quilts", not "2 bed quilt"; "2 床"
        one, more = AMOUNTS[found[0]]
        return (gettext(one if _count(count) == 1 else more) % {"n": ""}).strip()
    return item_unit(code, gettext)


def quantity_text(count: object, code: object, language: str, gettext: Gettext) -> str:
    """``count`` of the item (or kind) ``code``, counted in its counting unit, with its unit
    in the reader's words: "3 袋（75 公斤）", "1.5 吨（60 袋）", "2 件" (never split); "0"."""
    n = _count(count)
    if n is None:
        return UNKNOWN if count is None else str(count)
    found = _counted_in(code)
    if found is None or n == 0:
        return _number(n, language)  # nothing needs no unit
    kind, counting = found
    one, more = AMOUNTS[kind]
    figures = {"n": _number(n, language)}
    if counting is Unit.bag_25kg:
        kg = from_count(n, counting, Unit.kg)
        if kg >= 1000:
            figures["t"] = _number(from_count(n, counting, Unit.t), language)
            return (gettext(TONNES) % figures).replace(" ", "\u00a0")
        figures["kg"] = _number(kg, language)
    return (gettext(one if n == 1 else more) % figures).replace(" ", "\u00a0")


def category_label(code: object, gettext: Gettext) -> str:
    key = _code(code)
    return gettext(CATEGORIES[key]) if key in CATEGORIES else (UNKNOWN if key else "")


def tag_label(code: object, gettext: Gettext) -> str:
    key = _code(code)
    return gettext(TAGS[key]) if key in TAGS else (UNKNOWN if key else "")


def status_label(code: object, vocabulary: str, gettext: Gettext) -> str:
    """A status in the words of its own vocabulary (``delivery``, ``escalation`` ...)."""
    key = _code(code)
    words = STATUSES[vocabulary]
    return gettext(words[key]) if key in words else (UNKNOWN if key else "")
