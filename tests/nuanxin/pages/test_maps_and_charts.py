"""The map and chart partials: a chart earns its space, a map has a heading, a legend and a base."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jinja2

from nuanxin.i18n import Formatter, catalogue
from nuanxin.settings import ROOT


def render(name: str, language: str = "zh-CN", **context: Any) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "frontend" / "templates"), autoescape=True
    )
    return environment.get_template(name).render(
        _=catalogue(language).gettext, fmt=Formatter(language), lang=language, **context
    )


def chart(kind: str, labels: list[str], *data: list[int]) -> dict[str, Any]:
    return {
        "type": kind,
        "labels": labels,
        "datasets": [{"label": f"kind {i}", "data": row} for i, row in enumerate(data)],
    }


def test_an_empty_chart_says_no_data_and_draws_no_axes() -> None:
    for empty in (chart("bar", []), chart("bar", ["a", "b", "c"], [0, 0, 0]), chart("line", ["x"])):
        html = render("partials/chart.html.j2", chart=empty, chart_label="图")
        assert "暂无数据" in html
        assert "<canvas" not in html and "data-chart=" not in html


def test_a_chart_of_fewer_than_three_values_gives_way_to_its_figures() -> None:
    html = render(
        "partials/chart.html.j2", chart=chart("bar", ["呼兰区"], [4], [0]), chart_label="图"
    )
    assert "<canvas" not in html
    assert "data-chart-figures" in html and "<strong>4</strong>" in html and "kind 0" in html
    assert "kind 1" not in html  # a zero is no figure


def test_a_line_over_time_needs_four_dates() -> None:
    three = chart("line", ["2026-11-16", "2026-11-23", "2026-11-30"], [1, 2, 3])
    four = chart("line", ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"], [1, 2, 3, 4])
    assert "<canvas" not in render("partials/chart.html.j2", chart=three, chart_label="图")
    assert "<canvas" in render("partials/chart.html.j2", chart=four, chart_label="图")


def test_a_chart_titles_its_axis_with_the_unit() -> None:
    html = render(
        "partials/chart.html.j2",
        chart=chart("bar", ["a", "b", "c"], [1, 2, 3]),
        chart_label="图",
        chart_x="乡镇（街道）",
    )
    assert 'data-y-title="数量（按各物资的单位计）"' in html
    assert 'data-x-title="乡镇（街道）"' in html
    assert 'role="img" aria-label="图"' in html  # the canvas, which holds no control


def test_a_map_has_a_heading_a_legend_and_the_jurisdictions_base() -> None:
    staff = SimpleNamespace(jurisdiction_code="230111")
    points = [
        {"lat": 45.9, "lon": 126.6, "kind": "warehouse", "label": "仓库", "radius_km": 30},
        {"lat": 45.8, "lon": 126.5, "kind": "household", "label": "HH000001"},
    ]
    html = render("partials/map.html.j2", points=points, map_label="地图", user=staff, tile_url="")
    assert '<h2 id="' in html and ">地图</h2>" in html
    for word in ("图例", "仓库", "家庭", "配送半径", "县域范围（示意）"):
        assert word in html, word
    assert 'data-outlines="/api/regions/outlines?region=230111"' in html
    assert 'role="img"' not in html
    assert "CC BY 4.0" in html


def test_a_map_for_the_public_or_a_charity_asks_for_the_areas_under_its_points() -> None:
    html = render(
        "partials/map.html.j2",
        language="en",
        points=[],
        map_label="Map",
        user=None,
        tile_url="https://tiles.example.org/{z}/{x}/{y}.png",
        map_level=3,
    )
    assert 'data-outlines="/api/regions/outlines"' in html
    assert "<h3" in html
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html
