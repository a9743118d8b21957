"""Languages of the pages: zh-CN first, English one click away.

Message catalogues are gettext ``.po`` files under ``frontend/locales/<lang>/LC_MESSAGES/``
(source strings in English, so English needs no catalogue). They are compiled in memory when
first used (no binary ``.mo`` in the repository, nothing to build after a clone). Dates,
numbers and money are formatted by Babel for the language.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Final

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

from nuanxin.settings import ROOT

__all__ = (
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "Formatter",
    "catalogue",
    "choose",
)

LOCALES_DIR: Final = ROOT / "frontend" / "locales"
COOKIE: Final = "nuanxin_lang"
DEFAULT: Final = "zh-CN"
# the language tag of the page -> Babel / gettext locale
LANGUAGES: Final = {"zh-CN": "zh_CN", "en": "en"}
ALIASES: Final = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN", "en": "en", "en-us": "en"}


def choose(query: str | None, cookie: str | None) -> str:
    """The page language: ``?lang=`` first, then the cookie, then zh-CN."""
    for value in (query, cookie):
        if value and value.strip().lower() in ALIASES:
            return ALIASES[value.strip().lower()]
    return DEFAULT


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The translations of a language, compiled from its ``.po`` file once per process."""
    locale = LANGUAGES.get(language, "en")
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(source, locale=locale))
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


class Formatter:
    """Babel formatting for one language (used by the templates as ``fmt``)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(LANGUAGES.get(language, "en"))

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return "—"
        return format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="short", locale=self.locale)

    def number(self, value: float | int) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, fen: int, currency: str = "CNY") -> str:
        return format_currency(Decimal(fen) / 100, currency.upper(), locale=self.locale)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a word for the catalogues; templates translate it when shown (``_(value)``)."""
    return message


# Values the pages show and translate at run time (enums of the areas), so that extraction
# puts them in the catalogues.
WORDS: Final = (
    # household categories
    N_("dibao"),
    N_("extremely_poor"),
    N_("near_dibao"),
    N_("temporary"),
    # verification filters
    N_("verification_current"),
    N_("verification_expired"),
    N_("verification_unverified"),
    # item kinds, and money
    N_("coal"),
    N_("coat_adult"),
    N_("coat_child"),
    N_("quilt"),
    N_("electric_blanket"),
    N_("stove"),
    N_("money"),
    # stock columns
    N_("available"),
    N_("reserved"),
    N_("delivered"),
    N_("withdrawn"),
    # statuses of offers, proposals, deliveries, escalations, help requests
    N_("open"),
    N_("closed"),
    N_("proposed"),
    N_("approved"),
    N_("rejected"),
    N_("stale"),
    N_("pending"),
    N_("failed"),
    N_("locked"),
    N_("converted"),
    # help request sources
    N_("public"),
    N_("hotline"),
    N_("import"),
    # round statuses and phases
    N_("running"),
    N_("awaiting approval"),
    N_("queued"),
    N_("snapshot"),
    N_("candidates"),
    N_("feasible"),
    N_("exact"),
    N_("done"),
    # household tags
    N_("electricity"),
    N_("coal_stove"),
    N_("central_heating"),
    N_("gas_heating"),
    N_("kang"),
    N_("no_heating"),
    # nav labels
    N_("Where aid went"),
    N_("Track a gift"),
    N_("Give"),
    N_("Progress"),
    N_("Households"),
    N_("Help requests"),
    N_("Matching"),
    N_("Deliveries"),
    N_("Emergencies"),
    N_("Case by case"),
    N_("Stock"),
    N_("Post an offer"),
    N_("Courier"),
    N_("Admin"),
)
