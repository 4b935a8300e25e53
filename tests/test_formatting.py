"""geo.formatting: one way to show numbers, shares, changes and missing figures; zero change reads 持平 with no arrow."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo import formatting as fmt
from geo.briefing import Kpi, cell_text

NAN = float("nan")


@pytest.mark.parametrize("call, expected", [
    (lambda: fmt.count(12345), "12,345"),
    (lambda: fmt.count(np.int64(3), "个"), "3 个"),
    (lambda: fmt.count(None), "—"),
    (lambda: fmt.count(NAN, "个"), "—"),
    (lambda: fmt.count(pd.NA), "—"),
    (lambda: fmt.percent(0.9634), "96.3%"),
    (lambda: fmt.percent(None), "—"),
    (lambda: fmt.decimal(1257.46, unit="万元"), "1,257.5 万元"),
    (lambda: fmt.decimal(np.float64("nan")), "—"),
    (lambda: fmt.fraction(69, 69, "个社区"), "69/69 个社区"),
    (lambda: fmt.fraction(3, None), "—"),
    (lambda: fmt.figure(511.6, "integer"), "512"),
    (lambda: cell_text("success_rate", None), "—"),
    (lambda: cell_text("households", 1234.0), "1,234"),
    (lambda: cell_text("name", "军门社区"), "军门社区"),
])
def test_figures_read_the_same_everywhere(call, expected):
    assert call() == expected


@pytest.mark.parametrize("diff, kind, suffix, text, direction", [
    (0, "count", "较上期", "与上期持平", 0),
    (0.0, "percent", "较上期", "与上期持平", 0),
    (0.04, "percent", "较上期", "与上期持平", 0),  # +0.04 points shows as +0.0: level
    (-0.03, "decimal", "较贪心法", "与贪心法持平", 0),
    (0, "count", "较上期末", "与上期末持平", 0),
    (3, "count", "较上期末", "+3 较上期末", 1),
    (-7, "count", "较上期", "-7 较上期", -1),
    (1.34, "percent", "较上期", "+1.3 个百分点", 1),
    (12.5, "decimal", "较贪心法", "+12.5 较贪心法", 1),
    (None, "count", "较上期", None, 0),
    (NAN, "percent", "较上期", None, 0),
])
def test_zero_change_reads_level_without_a_sign(diff, kind, suffix, text, direction):
    assert fmt.change(diff, kind, suffix) == text
    assert fmt.direction(diff, kind) == direction


def test_a_missing_figure_says_why_in_its_help():
    kpi = Kpi("success_rate", "调解成功率", None, 0.8, kind="percent", help="成功 ÷ 办结")
    assert kpi.text == "—" and kpi.change_text is None
    assert kpi.help_text == "成功 ÷ 办结；显示「—」：期内没有办结案件，无法计算"
    assert Kpi("households", "户数", 10.0, help="户").help_text == "户"
    with pytest.raises(ValueError, match="no_denominator"):
        fmt.missing_reason("nothing")
    with pytest.raises(ValueError, match="count, percent"):
        fmt.figure(1, "money")


def _cards_page():
    import streamlit as st

    from dashboard.kpi import kpi_cards, metric
    from geo.briefing import Kpi

    kpi_cards([Kpi("disputes", "受理纠纷", 12.0, 12.0, lower_is_better=True),
               Kpi("success_rate", "调解成功率", 0.8, 0.8004, kind="percent"),
               Kpi("overdue", "超期未结", 5.0, 3.0, lower_is_better=True, change_suffix="较上期末"),
               Kpi("households", "户数", 100.0)], per_row=4)
    metric(st, "总优先级得分", "1,234.5", 0.0, "decimal", "较贪心法")


def test_cards_draw_zero_change_grey_without_an_arrow():
    at = AppTest.from_function(_cards_page).run()
    assert not at.exception
    cards = {m.label: m.proto for m in at.metric}
    for label, delta in (("受理纠纷", "与上期持平"), ("调解成功率", "与上期持平"), ("总优先级得分", "与贪心法持平")):
        card = cards[label]
        assert card.delta == delta and "+" not in card.delta
        assert card.direction == card.MetricDirection.NONE, label  # no ↑/↓
        assert card.color == card.MetricColor.GRAY, label
    rise = cards["超期未结"]
    assert rise.delta == "+2 较上期末" and rise.direction == rise.MetricDirection.UP
    assert rise.color == rise.MetricColor.RED  # more overdue cases is worse
    assert cards["户数"].delta == "" and cards["户数"].body == "100"
