"""Languages of the pages: zh-CN first, English one click away.

Message catalogues are gettext ``.po`` files under ``frontend/locales/<lang>/LC_MESSAGES/``
(source strings in English, so English needs no catalogue). They are compiled in memory when
first used (no binary ``.mo`` in the repository, nothing to build after a clone). Dates,
numbers and money are formatted by Babel for the language; times are shown in the platform's
time zone (``TIMEZONE``, Asia/Shanghai), 24-hour: zh "2026年11月30日 10:52", en
"30 Nov 2026, 10:52", and in tables "2026-11-30 10:52" (:meth:`Formatter.stamp`).
"""

from __future__ import annotations

import gettext
import io
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from nuanxin.settings import ROOT

__all__ = (
    "COOKIE",
    "DEFAULT",
    "DEFAULT_TIMEZONE",
    "LANGUAGES",
    "N_",
    "Formatter",
    "catalogue",
    "choose",
    "is_catalogued",
)

LOCALES_DIR: Final = ROOT / "frontend" / "locales"
COOKIE: Final = "nuanxin_lang"
DEFAULT: Final = "zh-CN"
DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
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


#: Babel patterns of a moment, by language: in sentences, and in tables.
MOMENT: Final = {"zh-CN": "yyyy年M月d日 HH:mm", "en": "d MMM yyyy, HH:mm"}
STAMP: Final = "yyyy-MM-dd HH:mm"
Moment = datetime  # the type, under a name that the method ``Formatter.datetime`` leaves free


@cache
def _sentences() -> frozenset[str]:
    found: set[str] = set()
    for language in LANGUAGES:
        translations = catalogue(language)
        for key, value in getattr(translations, "_catalog", {}).items():
            if isinstance(key, str) and key:
                found.add(key)
            if isinstance(value, str) and value:
                found.add(value)
    return frozenset(found)


def is_catalogued(text: str) -> bool:
    """Whether ``text`` is a sentence of the catalogues (a page's ``_()``, in either language)."""
    return text in _sentences()


class Formatter:
    """Babel formatting for one language (used by the templates as ``fmt``).

    Moments are shown in ``timezone`` (a naive datetime is taken as UTC, as stored).
    """

    def __init__(self, language: str, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.language = language
        self.locale = Locale.parse(LANGUAGES.get(language, "en"))
        self.zone = ZoneInfo(timezone)

    def _local(self, value: datetime) -> datetime:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return "—"
        day = self._local(value).date() if isinstance(value, datetime) else value
        return format_date(day, format="medium", locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        """A moment in a sentence: zh "2026年11月30日 10:52", en "30 Nov 2026, 10:52"."""
        if value is None:
            return "—"
        pattern = MOMENT.get(self.language, MOMENT["en"])
        return format_datetime(self._local(value), pattern, locale=self.locale)

    def stamp(self, value: Moment | None) -> str:
        """A moment in a table: "2026-11-30 10:52" in either language."""
        if value is None:
            return "—"
        return format_datetime(self._local(value), STAMP, locale=self.locale)

    def number(self, value: float | int) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, fraction: float, *, down: bool = False) -> str:
        """A fraction as a percent to a tenth: zh and en "7.3%"; ``down``: rounded down (a
        share proven to be at least so much is never said as more)."""
        if down:
            fraction = math.floor(fraction * 1000) / 1000
        return format_percent(fraction, format="#,##0.0%", locale=self.locale)

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
    N_("co_alarm"),
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
