"""Reviews: the appeal queue of negative reviews that blame the delivery, and their status."""

import streamlit as st

from ops.console import data, queries, ui, writes
from storage.console_schema import APPEAL_STATUSES

s = ui.settings()
ui.header("Review appeals", "Which negative reviews blame the carrier, so the shop can appeal them?")
st.info(
    "Built over what exists today: shop-days of `dws.dws_shop_daily` whose negative reviews match the "
    "logistics keyword rule, beside that day's late deliveries. Missing until the review-cause model "
    "(issue 17) lands `ads_review_appeals`: one row per review with its order, shipment and the "
    "carrier's exception events (those live in `dwd`, which the console's analyst role cannot read)."
)
with data.reader(s) as conn:
    days = ui.board_days(
        conn,
        "dws.dws_shop_daily",
        "ds",
        "no negative review has reached a shop through its order's shipment",
        having="logistics_complaints > 0",
    )
    first, last = ui.range_filter("reviews", days, default_days=7)
    market = ui.marketplace_filter(
        "reviews", queries.marketplaces(conn, "dws.dws_shop_daily", "marketplace_id")
    )
    queue = queries.appeal_queue(conn, first, last, market)
who = ui.operator_name()

statuses = st.multiselect(
    "Status", ["new", *APPEAL_STATUSES], default=["new", "submitted"], key="reviews_status"
)
queue = queue[queue["status"].isin(statuses)]
ui.nonempty(
    queue, f"No negative review blaming logistics {ui.where((first, last), market)} with status {statuses}."
)
st.metric("Appeals in the queue", len(queue))
ui.table(queue)

appeal_id = st.selectbox("Appeal", queue["appeal_id"], key="reviews_appeal")
row = queue.set_index("appeal_id").loc[appeal_id].copy()
row["appeal_id"] = appeal_id
payload = queries.appeal_payload(row)
st.json(payload)
for column, status in zip(st.columns(len(APPEAL_STATUSES)), APPEAL_STATUSES, strict=True):
    if column.button(f"Mark {status}", key=f"reviews_mark_{status}", disabled=not who):
        writes.set_appeal_status(s, appeal_id, status, payload, who)
        st.toast(f"{appeal_id}: {status}")
        st.rerun()
