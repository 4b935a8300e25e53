"""鼓楼区社区治理态势图 — entry point: navigation only (a failing page shows a Chinese notice, see dashboard.faults).

``streamlit run streamlit_app.py`` finds ``app`` below and serves this same file through ``st.App``, which adds
the app's own tile route (``dashboard.tileserver``: the tiles of configured MBTiles files) to Streamlit's.
Every page run executes the file as ``__main__``.
"""
import streamlit as st

if __name__ == "__main__":  # a page run (a browser session, AppTest)
    from dashboard.faults import run_page
    from dashboard.nav import pages

    st.set_page_config(page_title="鼓楼区社区治理态势图", layout="wide")
    run_page(st.navigation(list(pages().values())))
else:  # imported by `streamlit run` as the server
    from dashboard.tileserver import tile_routes

    app = st.App(__file__, routes=tile_routes())
