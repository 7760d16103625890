"""The operator console: ``streamlit run ops/console/app.py`` (``make console`` does it)."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "pages"
# (file, title, url path): one board per operator question
BOARDS = (
    ("sps_risk.py", "SPS risk", "sps-risk"),
    ("logistics.py", "Logistics", "logistics"),
    ("ads.py", "Ads", "ads"),
    ("reviews.py", "Reviews", "reviews"),
    ("sku_alerts.py", "SKU alerts", "sku-alerts"),
    ("customers.py", "Customers", "customers"),
    ("models.py", "Models", "models"),
    ("experiments.py", "Experiments", "experiments"),
)

st.set_page_config(page_title="Mercator console", layout="wide")
st.navigation(
    [
        st.Page(PAGES / file, title=title, url_path=path, default=n == 0)
        for n, (file, title, path) in enumerate(BOARDS)
    ]
).run()
