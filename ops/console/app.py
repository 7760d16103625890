"""The operator console: ``streamlit run ops/console/app.py`` (``make console`` does it)."""

from pathlib import Path

import streamlit as st

from ops.console.navigation import BOARDS

BOARDS_DIR = Path(__file__).parent / "boards"

st.set_page_config(page_title="Mercator console", layout="wide")
st.navigation(
    [
        st.Page(BOARDS_DIR / file, title=title, url_path=path or None, default=not path)
        for file, title, path in BOARDS
    ]
).run()
