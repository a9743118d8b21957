"""Every refusal the platform raises can be said in both languages.

The source is read, not run: every construction of a domain error (``Invalid(...)``,
``Conflict(...)`` ...) anywhere under ``platform/src/nuanxin`` is found, and its message id
(``message_id=``, else the ``error=`` word it defaults to; a string or a choice between
strings) must have a sentence in
``MESSAGES`` translated in the zh-CN catalogue and present in the English one, or be a word
its kind's generic sentence says (``GENERIC_IDS``). An id built at run time must be listed
below with every value it can take, so that a new one cannot slip past.
"""

from __future__ import annotations

import ast
import inspect
import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from nuanxin import errors
from nuanxin.i18n import LOCALES_DIR
from nuanxin.messages import GENERIC_IDS, MESSAGES

SOURCE = Path(errors.__file__).resolve().parent
KINDS = frozenset(
    name
    for name, value in vars(errors).items()
    if inspect.isclass(value) and issubclass(value, errors.DomainError)
)
#: Ids computed at run time, by the file that computes them, with every value they can take.
COMPUTED: dict[str, frozenset[str]] = {
    "households/duplicates.py": frozenset(
        {
            "duplicate_household",
            "duplicate_household_name",
            "duplicate_household_elsewhere",
            "duplicate_household_name_elsewhere",
        }
    ),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _constants(node: ast.expr) -> list[str] | None:
    """The ids an expression can give: a string, or a choice between strings; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _constants(node.body), _constants(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _kind(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


@cache
def raised_ids() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Message ids by id (constant ones) and by file (computed ones), with where they are."""
    constant: dict[str, list[str]] = {}
    computed: dict[str, list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        where = path.relative_to(SOURCE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or _kind(node) not in KINDS:
                continue
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            value = keywords.get("message_id") or keywords.get("error")
            if value is None:
                continue  # said by its kind's generic sentence
            site = f"{where}:{node.lineno}"
            names = _constants(value)
            if names is None:
                computed.setdefault(where, []).append(site)
            for name in names or ():
                constant.setdefault(name, []).append(site)
    return constant, computed


@cache
def catalogue(language: str) -> dict[str, str]:
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        entries = read_po(source, locale=language)
    return {
        str(message.id): str(message.string or "")
        for message in entries
        if message.id and isinstance(message.id, str) and not message.fuzzy
    }


def test_the_source_raises_message_ids_and_the_scan_finds_them() -> None:
    constant, _ = raised_ids()
    # a canary: ids known to be raised, of different kinds and spellings (a choice included)
    assert {"wrong_code", "insufficient_stock", "unknown_item", "below_reserved"} <= set(constant)
    assert {"bags_not_whole", "quantity_not_whole"} <= set(constant)


def test_every_message_id_raised_has_a_sentence_or_is_said_by_its_kind() -> None:
    constant, _ = raised_ids()
    missing = {
        name: sites
        for name, sites in constant.items()
        if name not in MESSAGES and name not in GENERIC_IDS
    }
    assert missing == {}


def test_every_computed_message_id_is_listed_with_its_values_and_they_have_sentences() -> None:
    _, computed = raised_ids()
    assert set(computed) <= set(COMPUTED), computed
    for values in COMPUTED.values():
        assert values <= set(MESSAGES)


def test_every_sentence_is_in_both_catalogues_and_translated_into_chinese() -> None:
    chinese, english = catalogue("zh_CN"), catalogue("en")
    untranslated = [
        name
        for name, sentence in MESSAGES.items()
        if not re.search(r"[\u4e00-\u9fff]", chinese.get(sentence, ""))
    ]
    assert untranslated == []
    assert [name for name, sentence in MESSAGES.items() if sentence not in english] == []


def test_a_translation_keeps_the_sentences_placeholders() -> None:
    chinese, english = catalogue("zh_CN"), catalogue("en")
    for sentence in MESSAGES.values():
        wanted = set(PLACEHOLDER.findall(sentence))
        for translated in (chinese[sentence], english[sentence] or sentence):
            assert set(PLACEHOLDER.findall(translated)) == wanted, (sentence, translated)
