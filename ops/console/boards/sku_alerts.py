"""SKU alerts: ASINs to push, with high returns or with a low margin, and the numbers each rule read."""

import streamlit as st

from ops.console import data, queries, ui

s = ui.settings()
v = ui.thresholds(s)
ALERTS = ["push", "high_return", "low_margin"]
ui.header("SKU alerts", f"What to push, fix or reprice, over the last {v['sku_alert_window_days']} days?")
st.caption(
    f"push: orders > {v['sku_push_min_orders']} and return rate < {v['sku_push_max_return_rate']}; "
    f"high return: items > {v['sku_high_return_min_items']}"
    f" and return rate > {v['sku_high_return_min_rate']}; "
    f"low margin: gross margin < {v['sku_low_margin_max_rate']} (needs unit costs)."
)
with data.reader(s) as conn:
    days, day, market = ui.day_board(
        conn, "sku", "ads.ads_sku_alerts", "as_of_ds", "no order has been built into the marts", label="As of"
    )
    alerts = st.multiselect("Alerts", ALERTS, default=ALERTS, key="sku_alerts")
    rows = queries.sku_alerts(conn, day, market, alerts)

ui.nonempty(
    rows, f"No ASIN with an alert in {alerts} {ui.where(day, market)} (the mart is as of {days[-1]})."
)
counts = rows["primary_alert"].value_counts()
for column, alert in zip(st.columns(len(ALERTS)), ALERTS, strict=True):
    column.metric(alert.replace("_", " "), int(counts.get(alert, 0)))
ui.table(rows)
