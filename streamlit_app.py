"""鼓楼区社区治理态势图 — entry point: navigation only."""
import streamlit as st

from dashboard.pages import situation

st.set_page_config(page_title="鼓楼区社区治理态势图", page_icon="🗺️", layout="wide")
st.navigation([st.Page(situation.render, title="态势图", url_path="situation", default=True)]).run()
