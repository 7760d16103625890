"""Logistics: delay rate per lane and week, carriers, and the week-over-week change."""

import altair as alt
import streamlit as st

from ops.console import data, queries, ui

s = ui.settings()
ui.header("Logistics", "Which lanes, ports and carriers deliver late, and which got worse this week?")
with data.reader(s) as conn:
    weeks = ui.board_days(conn, "ads.ads_logistics_delay", "week_start", "no shipment has been delivered yet")
    first, last = ui.range_filter("logistics", weeks, default_days=56, label="Weeks starting")
    market = ui.marketplace_filter(
        "logistics", queries.marketplaces(conn, "ads.ads_logistics_delay", "marketplace_id")
    )
    rows = queries.lane_weeks(conn, first, last, market)

ui.nonempty(rows, f"No delivered parcels in weeks starting {ui.where((first, last), market)}.")
rows = ui.narrowed(rows, "carrier", "Carriers", key="logistics_carriers")

by_lane = queries.delay_rates(rows, ["lane", "week_start"])
st.subheader("Delay rate, lane by week")
st.altair_chart(
    alt.Chart(by_lane)
    .mark_rect()
    .encode(
        x=alt.X("yearmonthdate(week_start):O", title="week starting"),
        y=alt.Y("lane:N"),
        color=alt.Color("delay_rate:Q", scale=alt.Scale(scheme="orangered", domain=[0, 1])),
        tooltip=["lane", "week_start", "delivered_shipments", "late_shipments", "delay_rate"],
    ),
    width="stretch",
)
st.subheader("Carriers")
st.altair_chart(
    alt.Chart(queries.delay_rates(rows, ["carrier"]))
    .mark_bar()
    .encode(x=alt.X("delay_rate:Q", scale=alt.Scale(domain=[0, 1])), y=alt.Y("carrier:N", sort="-x")),
    width="stretch",
)
st.subheader("Lane, ports and carrier per week (biggest rise first)")
ui.table(rows)
