"""鼓楼区社区治理态势图 — entry point: navigation only."""
import streamlit as st

from dashboard.pages import coverage, disputes, renovation, situation

st.set_page_config(page_title="鼓楼区社区治理态势图", layout="wide")
st.navigation([
    st.Page(situation.render, title="态势图", url_path="situation", default=True),
    st.Page(renovation.render, title="老旧小区改造", url_path="renovation"),
    st.Page(coverage.render, title="网格与服务覆盖", url_path="coverage"),
    st.Page(disputes.render, title="矛盾纠纷", url_path="disputes"),
]).run()
