"""鼓楼区社区治理态势图 — entry point: navigation only."""
import streamlit as st

from dashboard.nav import pages

st.set_page_config(page_title="鼓楼区社区治理态势图", layout="wide")
st.navigation(list(pages().values())).run()
