"""China's administrative divisions in memory, from ``fixtures/regions/divisions.csv``.

The fixture (see ``fixtures/README.md``) holds every province, prefecture, county and township
with its official code, parent and a WGS-84 point. :func:`load_gazetteer` reads it once into a
frozen :class:`Gazetteer` with the indexes the geocoder and the loader need:

* ``by_code`` and ``children``, and the path from the province down (:meth:`Gazetteer.path`);
* ``aliases``: every name a person writes for a division -> the codes it may mean. Besides the
  full name (哈尔滨市, 呼兰区, 内蒙古自治区) the short forms are there (哈尔滨, 呼兰, 内蒙古,
  内蒙, 延边州, 延边), minus one-character stems (涉县 is never "涉"). Townships are known by
  their full name only (康金街道): their short forms are village names all over the country.

Townships share their county's point (the source has none of their own).
"""

from __future__ import annotations

import csv
import functools
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

from nuanxin.settings import ROOT

__all__ = (
    "DEFAULT_PATH",
    "LEVELS",
    "Division",
    "Gazetteer",
    "Level",
    "load_gazetteer",
    "short_names",
)

DEFAULT_PATH = ROOT / "fixtures" / "regions" / "divisions.csv"

Level = Literal["province", "city", "county", "township"]
LEVELS: tuple[Level, ...] = ("province", "city", "county", "township")

# The 55 recognised minority nationalities, as they appear in autonomous units' names.
_NATIONALITIES = (  # noqa: SIM905 (a list of 55 words reads better as one string)
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 "
    "哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 "
    "达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 "
    "乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 "
    "门巴 珞巴 基诺"
).split()
_BY_LENGTH = sorted(_NATIONALITIES, key=len, reverse=True)

_SUFFIXES: dict[Level, tuple[str, ...]] = {
    "province": ("特别行政区", "自治区", "省", "市"),
    "city": ("自治州", "地区", "盟", "市"),
    "county": ("自治县", "自治旗", "新区", "林区", "特区", "县", "区", "市", "旗"),
    "township": (),
}
_EXTRA_ALIASES = {"内蒙古自治区": ("内蒙",)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Division:
    """One administrative division; ``lat``/``lon`` are WGS-84 degrees."""

    code: str
    name: str
    level: Level
    parent: str | None
    lat: float
    lon: float
    full_name: str
    coord_source: str


def _strip_nationalities(stem: str) -> str:
    """ "积石山保安族东乡族撒拉族" -> "积石山"; "鄂温克族" -> "鄂温克"; "内蒙古" stays.

    A stem keeps at least two characters: 内蒙古 is a place, not 内 + 蒙古.
    """
    while True:
        for people in _BY_LENGTH:
            for tail in (people + "族", people if len(people) > 1 else None):
                if tail and stem.endswith(tail) and len(stem) - len(tail) >= 2:
                    stem = stem[: -len(tail)]
                    break
            else:
                continue
            break
        else:
            return stem.removesuffix("族")


def short_names(name: str, level: Level) -> tuple[str, ...]:
    """The forms besides the full name that people write for a division."""
    if level == "township":
        return ()
    forms: list[str] = list(_EXTRA_ALIASES.get(name, ()))
    for suffix in _SUFFIXES[level]:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            autonomous = suffix.startswith("自治")
            if autonomous:
                stem = _strip_nationalities(stem)
            if len(stem) >= 2:
                forms.append(stem)
                if suffix == "自治州":
                    forms.append(stem + "州")  # 延边州, 临夏州
                elif suffix == "自治县":
                    forms.append(stem + "县")
                elif level == "province" and suffix == "自治区":
                    forms.extend((stem + "省", stem + "自治区"))  # 广西省: a common slip
            break
    return tuple(dict.fromkeys(form for form in forms if form != name))


@dataclass(frozen=True, slots=True, kw_only=True)
class Gazetteer:
    """Frozen indexes over the divisions; build it with :func:`load_gazetteer`."""

    divisions: tuple[Division, ...]
    by_code: Mapping[str, Division]
    children: Mapping[str, tuple[str, ...]]
    aliases: Mapping[str, tuple[str, ...]]
    full_names: frozenset[str] = field(default_factory=frozenset)
    longest_alias: int = 0

    def __len__(self) -> int:
        return len(self.divisions)

    def __iter__(self) -> Iterator[Division]:
        return iter(self.divisions)

    def get(self, code: str) -> Division | None:
        return self.by_code.get(code)

    def path(self, code: str) -> tuple[Division, ...]:
        """The division and its ancestors, province first."""
        chain: list[Division] = []
        current: str | None = code
        while current is not None:
            division = self.by_code[current]
            chain.append(division)
            current = division.parent
        return tuple(reversed(chain))

    def is_within(self, code: str, ancestor: str) -> bool:
        """Whether ``code`` is ``ancestor`` or lies under it."""
        current: str | None = code
        while current is not None:
            if current == ancestor:
                return True
            current = self.by_code[current].parent
        return False

    def descendants(self, code: str) -> Iterator[Division]:
        """Every division under ``code`` (not itself), breadth first."""
        queue = deque(self.children.get(code, ()))
        while queue:
            current = queue.popleft()
            yield self.by_code[current]
            queue.extend(self.children.get(current, ()))

    def county_of(self, code: str) -> Division | None:
        """The county-level unit holding ``code`` (itself if it is one), if any."""
        for division in reversed(self.path(code)):
            if division.level == "county":
                return division
        return None


@functools.cache
def _load_default() -> Gazetteer:
    return _load(DEFAULT_PATH)


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """Read the fixture (cached for the default path)."""
    return _load_default() if path is None else _load(path)


def _load(path: Path) -> Gazetteer:
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    by_code: dict[str, Division] = {}
    children: dict[str, list[str]] = {}
    for record in records:  # the file lists parents before children
        parent = record["parent"] or None
        above = by_code[parent] if parent is not None else None
        if record["lat"]:
            lat, lon = float(record["lat"]), float(record["lon"])
        elif above is not None:
            lat, lon = above.lat, above.lon
        else:
            raise ValueError(f"{path}: division {record['code']} has no point and no parent")
        prefix = above.full_name if above is not None else ""
        division = Division(
            code=record["code"],
            name=record["name"],
            level=cast(Level, record["level"]),
            parent=parent,
            lat=lat,
            lon=lon,
            full_name=prefix + record["name"],
            coord_source=record["coord_source"],
        )
        by_code[division.code] = division
        if parent is not None:
            children.setdefault(parent, []).append(division.code)
    aliases: dict[str, list[str]] = {}
    for division in by_code.values():
        for form in (division.name, *short_names(division.name, division.level)):
            aliases.setdefault(form, []).append(division.code)
    return Gazetteer(
        divisions=tuple(by_code.values()),
        by_code=MappingProxyType(by_code),
        children=MappingProxyType({code: tuple(kids) for code, kids in children.items()}),
        aliases=MappingProxyType({form: tuple(codes) for form, codes in aliases.items()}),
        full_names=frozenset(division.name for division in by_code.values()),
        longest_alias=max(len(form) for form in aliases),
    )
