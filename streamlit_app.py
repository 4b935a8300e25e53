"""鼓楼区社区治理态势图 — entry point: navigation only (a failing page shows a Chinese notice, see dashboard.faults)."""
import streamlit as st

from dashboard.faults import run_page
from dashboard.nav import pages

st.set_page_config(page_title="鼓楼区社区治理态势图", layout="wide")
run_page(st.navigation(list(pages().values())))
