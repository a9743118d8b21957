"""Every GET page, in both languages, as each role: no Chinese on an English page and no English
on a Chinese page.

The pages are found in the app's route table (as the authorisation matrix does), so a new page
is crawled without being listed here. What a page shows from the database (names, addresses,
places, charities' and campaigns' titles, usernames) is the data's own language, not the page's,
and is set aside first; item names, statuses, categories and reasons are not (they must follow
the reader). A page a role may not open is crawled too: its error page must be in the reader's
language as well. What is left may hold only the proper names and codes of :data:`ALLOWED`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from piccolo.columns import Text, Varchar
from piccolo.conf.apps import Finder

from tests.nuanxin.authz.model import ADMIN, ANON, CHARITY, COURIER, STAFF, Caller
from tests.nuanxin.authz.world import World

ROLES: tuple[Caller, ...] = (ANON, STAFF, CHARITY, COURIER, ADMIN)
NOT_PAGES = ("/api/", "/schema", "/static", "/admin", "/health")

#: What each path parameter of a page is, in the world.
PARAMETERS = {
    "household_id": "household_id",
    "request_id": "help_request_id",
    "round_id": "round_id",
    "delivery_id": "delivery_id",
    "visit_id": "visit_id",
    "offer_id": "offer_x_id",
    "campaign_id": "campaign_x_id",
    "code": "tracking_code_x",
    "allocation_id": "allocation_id",
    "escalation_id": "escalation_id",
    "donation_id": "goods_donation_x_id",
    "organization_id": "charity_x_id",
    "case_id": "case_id",
    "warehouse_id": "warehouse_x_id",
    "route_id": "route_x_id",
    "suggestion_id": "suggestion_id",
    "review_id": "review_id",
}

#: Pages in two languages by design, with the reason.
BILINGUAL = {
    # the donation receipt is one document for Chinese and foreign donors alike
    "/donations/{code:str}/receipt",
}

#: Proper names, codes and units that either language writes in Latin letters.
ALLOWED_LATIN = {
    "Nuanxin",
    "Stripe",
    "Stripe.js",
    "CSV",
    "ID",
    "QR",
    "CNY",
    "km",
    "kg",
    "Excel",
    "English",
    # the region coordinates' attribution in the footer: its author, project and licence
    "adcode",
    "Ruohang",
    "Feng",
    "Vonng",
    "CC",
    "BY",
    "WGS",
    # clothing sizes
    "XL",
    "XXL",
}
#: Chinese an English page may carry: the name of the platform and of the other language.
ALLOWED_HAN = ("暖心", "中文")

#: Columns whose text is not data of its own language: the page must say it in the reader's.
NOT_DATA = {("item", "*"), ("proposal", "reason"), ("matching_round", "error")}
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z.'’-]*[A-Za-z]|[A-Za-z]")
CODE = re.compile(r"^[a-z0-9_]+$")  # a status or kind code is never data to set aside...
FREE_TEXT = {("account", "username"), ("need", "rule")}  # ...but these are free text
MASKED = re.compile(r"[^\s*]\*{2,}")  # a masked name or number (王**): data, masked
SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-missing", "data-confirm")


class Visible(HTMLParser):
    """The text a person sees or hears: text nodes, the title, labels read aloud."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and (name in SHOWN_ATTRIBUTES or name.startswith("data-msg")):
                self.parts.append(value)
            if name == "value" and value and ("type", "submit") in attrs:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


async def data_strings() -> list[str]:
    """Every text the database holds as data (longest first), to be set aside."""
    found: set[str] = set()
    for table in Finder().get_table_classes():
        name = table._meta.tablename
        if (name, "*") in NOT_DATA:
            continue
        columns = [
            column
            for column in table._meta.columns
            if isinstance(column, Varchar | Text)
            and not column._meta.choices
            and (name, column._meta.name) not in NOT_DATA
        ]
        if not columns:
            continue
        for row in await table.select(*columns).run():
            for column in columns:
                value = row.get(column._meta.name)
                text = value.strip() if isinstance(value, str) else ""
                if text and ((name, column._meta.name) in FREE_TEXT or not CODE.match(text)):
                    found.add(text)
    return sorted(found, key=len, reverse=True)


def foreign_words(text: str, lang: str, data: list[str]) -> list[str]:
    for value in data:
        text = text.replace(value, " ")
    text = MASKED.sub(" ", text)
    if lang == "en":
        for name in ALLOWED_HAN:
            text = text.replace(name, " ")
        return sorted({line.strip() for line in text.splitlines() if HAN.search(line)})
    wrong = set()
    for line in text.splitlines():
        for word in LATIN_WORD.findall(line):
            if word in ALLOWED_LATIN or (len(word) == 1 and word.isupper()):
                continue
            wrong.add(f"{word} in «{line.strip()[:60]}»")
    return sorted(wrong)


def pages(app: Litestar) -> list[str]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(NOT_PAGES):
            continue
        if any("GET" in handler.http_methods for handler in route.route_handlers):
            found.append(route.path)
    return sorted(found)


def fill(path: str, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in PARAMETERS, f"{path}: say in PARAMETERS what {name} is in the world"
        return str(getattr(world, PARAMETERS[name]))

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_every_page_is_wholly_in_the_readers_language(
    app: Litestar, client: httpx.AsyncClient, world: World, lang: str
) -> None:
    data = await data_strings()
    found: dict[str, list[str]] = {}
    crawled = 0
    for path in pages(app):
        if path in BILINGUAL:
            continue
        for caller in ROLES:
            answer = await client.get(
                fill(path, world),
                params={"lang": lang},
                headers={"accept": "text/html", **world.headers(caller)},
            )
            assert answer.status_code < 500, (path, caller, answer.text[:300])
            if not answer.headers.get("content-type", "").startswith("text/html"):
                continue
            if "<html" in answer.text:  # a whole page (else an htmx fragment)
                assert f'<html lang="{lang}">' in answer.text, (path, caller)
            crawled += 1
            words = foreign_words(visible_text(answer.text), lang, data)
            if words:
                found[f"{path} as {caller.value} ({answer.status_code})"] = words
    assert crawled >= 40, crawled
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())
