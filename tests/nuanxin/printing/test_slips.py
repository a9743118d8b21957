"""Slips on paper: the slip macro shows every field and nothing private; QR codes hold the code."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import jinja2
import pytest
import segno

from nuanxin.i18n import Formatter, catalogue
from nuanxin.printing import (
    QR_MODULE_MM,
    QR_QUIET_MODULES,
    Slip,
    SlipItem,
    group_code,
    qr_matrix,
    qr_svg,
    slip_numbers,
)
from nuanxin.settings import ROOT

CODE = "40718263"


def sample(reference: str = "HH000005", *, reprint: bool = False, visit_no: int = 2) -> Slip:
    return Slip(
        reference=reference,
        head_name="王小明",
        village="康金街道 永安村 三组",
        address="哈尔滨市呼兰区康金街道永安村 12 号",
        charity="哈尔滨暖冬慈善会",
        visit_no=visit_no,
        date=date(2026, 11, 30),
        items=(
            SlipItem(name="取暖煤", quantity=3, unit="袋", note="75 公斤"),
            SlipItem(name="棉被", quantity=1, unit="床"),
        ),
        code=CODE,
        reprint=reprint,
    )


def render(slips: list[Slip], *, paper: str = "a4", language: str = "zh-CN") -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "frontend" / "templates"), autoescape=True
    )
    template = environment.from_string(
        '{% from "partials/slip.html.j2" import batch with context %}'
        '{{ batch(slips, qrs, paper=paper, batch_ref="B-20261130-01",'
        ' printed_at="2026-11-30 10:52", hotline="0451-12345") }}'
    )
    return template.render(
        slips=slips,
        qrs=[qr_svg(s.code) for s in slips],
        paper=paper,
        _=catalogue(language).gettext,
        fmt=Formatter(language),
        lang=language,
    )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&nbsp;", " ")


def test_a_slip_shows_every_field_in_chinese() -> None:
    html = render([sample()])
    text = text_of(html)
    for shown in (
        "暖心 · 冬季取暖救助物资对接平台",  # platform
        "签收单",
        "2026年11月30日",  # date
        "康金街道 永安村 三组",  # village group
        "第 2 次",  # visit no.
        "HH000005",  # reference
        "王**",  # masked name
        "哈尔滨市呼兰区康金街道永安村 12 号",
        "哈尔滨暖冬慈善会",
        "取暖煤",
        "3 袋（75 公斤）",  # items with units
        "1 床",
        "4071 8263",  # the code in groups of four
        "签收日期",
        "受助家庭签名",
        "配送员签名",
        "求助热线：0451-12345",
        "批次 B-20261130-01 · 打印于 2026-11-30 10:52 · 第 1/1 页",
    ):
        assert shown in text, shown
    safety = re.search(r'data-field="safety">([^<]+)<', html)
    assert safety is not None
    assert all(word in safety.group(1) for word in ("烟囱", "风斗", "一氧化碳报警器"))
    assert html.count("<svg") == 1 and 'class="qr"' in html
    assert "补打" not in text


def test_a_slip_never_shows_the_full_name_an_id_a_category_or_a_phone() -> None:
    text = text_of(render([sample()]))
    assert "王小明" not in text
    assert not {f.name for f in dataclasses.fields(Slip)} & {
        "id_number",
        "id_last4",
        "category",
        "phone",
    }
    assert not re.search(r"1[3-9]\d{9}", text)  # no mobile number
    assert "低保" not in text and "特困" not in text


def test_a_reprint_says_so_on_the_slip_and_in_its_footer() -> None:
    html = render([sample(reprint=True)])
    assert 'data-testid="reprint"' in html
    footer = re.search(r'data-field="footer">(.*?)</footer>', html, re.S)
    assert footer is not None and "补打" in footer.group(1)


def test_a_slip_in_english_has_no_chinese_of_its_own() -> None:
    text = text_of(render([sample()], language="en"))
    data = {"康金街道 永安村 三组", "哈尔滨市呼兰区康金街道永安村 12 号", "哈尔滨暖冬慈善会"}
    data |= {"王**", "取暖煤", "袋", "75 公斤", "棉被", "床"}
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, "")
    assert not re.search(r"[\u4e00-\u9fff]", text), text
    assert "Visit 2" in text or "visit 2" in text
    assert "carbon monoxide alarm" in text and "chimney" in text


@pytest.mark.parametrize(
    ("paper", "sheets", "footers"),
    [
        ("a4", 2, ["第 1/2 页", "第 1/2 页", "第 2/2 页"]),
        ("roll", 3, ["第 1/3 页", "第 2/3 页", "第 3/3 页"]),
    ],
)
def test_a_batch_puts_two_slips_to_an_a4_sheet_or_one_to_a_roll(
    paper: str, sheets: int, footers: list[str]
) -> None:
    html = render([sample("HH000001"), sample("HH000002"), sample("HH000003")], paper=paper)
    assert html.count('<section class="sheet"') == sheets
    assert html.count("<article") == 3
    found = re.findall(r'data-field="footer">(.*?)</footer>', html, re.S)
    assert [next(p for p in footers if p in f) for f in found] == footers
    assert f'data-paper="{paper}"' in html


def test_the_print_stylesheet_sizes_pages_and_never_splits_a_slip() -> None:
    css = (ROOT / "frontend" / "static" / "print.css").read_text(encoding="utf-8")
    assert "size: A4" in css and "size: 80mm" in css
    assert "break-inside: avoid" in css
    assert "table-header-group" in css
    assert "72mm" in css


def _matrix_of_svg(svg: str) -> list[list[bool]]:
    """The dark modules drawn by segno's SVG path (rows of horizontal runs), quiet zone off."""
    width = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert width is not None
    size = int(width.group(1))
    drawn = [[False] * size for _ in range(size)]
    (path,) = re.findall(r'<path stroke="#000" d="([^"]+)"', svg)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(v) for v in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            run = values[0] if command == "h" else values[0] - x
            for column in range(int(x), int(x + run)):
                drawn[int(y)][column] = True
            x += run
    q = QR_QUIET_MODULES
    return [row[q : size - q] for row in drawn[q : size - q]]


def test_the_qr_svg_is_drawn_from_exactly_the_codes_digits() -> None:
    svg = qr_svg(CODE)
    drawn = _matrix_of_svg(svg)
    expected = [[bool(m) for m in row] for row in segno.make_qr(CODE, error="m").matrix]
    assert drawn == expected
    assert tuple(tuple(row) for row in drawn) == qr_matrix(CODE)
    assert drawn != [list(row) for row in qr_matrix("40718264")]
    assert drawn != [list(row) for row in qr_matrix(group_code(CODE))]  # digits, not groups
    assert segno.make_qr(CODE, error="m").mode == "numeric"


def test_the_qr_code_prints_at_least_20_mm_wide() -> None:
    svg = qr_svg(CODE)
    modules = len(qr_matrix(CODE))
    assert modules * QR_MODULE_MM >= 20
    assert f'width="{modules + 2 * QR_QUIET_MODULES}mm"' in svg
    with pytest.raises(ValueError):
        qr_svg("")


def test_codes_read_in_groups_of_four_and_slips_count_their_pages() -> None:
    assert group_code("40718263") == "4071 8263"
    assert group_code("4071 8263") == "4071 8263"
    assert group_code("123456") == "1234 56"
    assert slip_numbers(3, per_page=2) == [(1, 2), (1, 2), (2, 2)]
    assert slip_numbers(0, per_page=2) == []
    with pytest.raises(ValueError):
        slip_numbers(1, per_page=0)
