"""Customers: the follow-up list, the contacted mark that starts a cooldown, CSV and Excel downloads."""

from datetime import timedelta

import streamlit as st

from ops.console import data, exports, queries, ui, writes

s = ui.settings()
cooldown = s.console_contact_cooldown_days
ui.header("Customer follow-up", "Whom to contact today, by follow-up priority (worth times urgency)?")
st.caption(
    f"A customer marked as contacted stays on that day's list and leaves the next {cooldown} days' lists. "
    "The marts carry no sales channel per customer: the marketplace filter stands in for it."
)
with data.reader(s) as conn:
    ui.board_days(conn, "ads.ads_customer_value", "as_of_ds", "no order has been built into the marts")
    as_of = queries.as_of_day(conn)
    day = st.sidebar.date_input(
        "List day", value=as_of, min_value=as_of, max_value=as_of + timedelta(days=60), key="customers_day"
    )
    market = ui.marketplace_filter(
        "customers", queries.marketplaces(conn, "ads.ads_customer_value", "marketplace")
    )
    tiers_all = queries.marketplaces(conn, "ads.ads_customer_value", "value_tier")
    segments_all = queries.marketplaces(conn, "ads.ads_customer_value", "rfm_segment")
    left, right = st.columns(2)
    tiers = left.multiselect("Value tier", tiers_all, default=tiers_all, key="customers_tiers")
    segments = right.multiselect("RFM segment", segments_all, default=segments_all, key="customers_segments")
    churn_only = st.checkbox("Only customers past their churn warning", key="customers_churn_only")
    rows = queries.follow_up_list(
        conn, day, market, tiers=tiers, segments=segments, cooldown_days=cooldown, churn_only=churn_only
    )
who = ui.operator_name()

ui.nonempty(rows, f"Nobody to follow up {ui.where(day, market)} with these filters (mart as of {as_of}).")
st.metric("Customers on the list", len(rows))
ui.table(rows)
name = f"follow_up_{day}_{market or 'all'}"
left, right = st.columns(2)
left.download_button("Download CSV", exports.csv_bytes(rows), f"{name}.csv", "text/csv", key="customers_csv")
right.download_button(
    "Download Excel",
    exports.excel_bytes(rows, "follow-up"),
    f"{name}.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="customers_xlsx",
)

open_rows = rows[~rows["contacted"]]
labels = {
    f"{r.customer_key} · {r.marketplace}": (r.customer_key, r.marketplace) for r in open_rows.itertuples()
}
with st.form("customers_contact", clear_on_submit=True):
    st.subheader("Mark as contacted")
    picked = st.multiselect("Customers contacted", list(labels), key="customers_contacted")
    note = st.text_input("Note (optional)", key="customers_note")
    saved = st.form_submit_button("Save contacted marks", disabled=not who)
if saved and picked:
    count = writes.mark_contacted(s, [labels[p] for p in picked], day, who, note)
    st.toast(f"{count} customers marked as contacted on {day}")
    st.rerun()
