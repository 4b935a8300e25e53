"""Tables never read 「None」, 「nan」 or 「empty」 (dashboard.tables)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard.tables import MISSING, dash_missing


def test_missing_cells_read_a_dash_and_complete_columns_stay_numbers():
    frame = pd.DataFrame({"名称": ["甲", "乙"], "调解成功率": [0.5, np.nan], "办结日期": [date(2026, 1, 2), None],
                          "案件数": [3, 0]})
    shown = dash_missing(frame, {"调解成功率": "{:.0%}"})
    assert shown["调解成功率"].tolist() == ["50%", MISSING]
    assert shown["办结日期"].tolist() == ["2026-01-02", MISSING]
    assert shown["案件数"].dtype.kind == "i" and shown["名称"].tolist() == ["甲", "乙"]
    assert frame["调解成功率"].isna().sum() == 1  # the input is not changed


def _empty_app():
    import pandas as pd

    from dashboard.tables import show_table

    show_table(pd.DataFrame({"案件": []}), "所选范围内没有超期案件")
    show_table(pd.DataFrame({"案件": ["甲"], "办结日期": [None]}), "无")


def test_an_empty_table_is_a_sentence_and_a_full_one_a_table_without_none():
    at = AppTest.from_function(_empty_app).run()
    assert [c.value for c in at.caption] == ["所选范围内没有超期案件"]
    assert len(at.dataframe) == 1 and at.dataframe[0].proto.placeholder == MISSING  # the browser draws None as 「—」
    assert at.dataframe[0].value["办结日期"].isna().all()  # and the column keeps its type (dates, numbers sort)
