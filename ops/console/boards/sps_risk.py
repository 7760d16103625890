"""SPS risk: each shop's score against the red line and the warning line, its 7-day trend, its drivers."""

import altair as alt
import streamlit as st

from ops.console import data, queries, ui

s = ui.settings()
rules = ui.thresholds(s)
red, warn = float(rules["sps_p0_below"]), float(rules["sps_warning_below"])
ui.header("SPS risk", f"Which shops lose promotion eligibility (P0 below {red}, warning below {warn})?")
with data.reader(s) as conn:
    _, day, market = ui.day_board(
        conn, "sps", "ads.ads_shop_sps_risk", "ds", "the shop-health source has not been built"
    )
    shops = queries.shop_risk(conn, day, market)
    trend = queries.shop_trend(conn, day, market)

ui.nonempty(shops, f"No shop-health snapshot {ui.where(day, market)}: no shop reported that day.")
p0, warning = (shops["risk_tier"] == "P0").sum(), (shops["risk_tier"] == "warning").sum()
left, middle, right = st.columns(3)
left.metric("Shops below the red line (P0)", int(p0))
middle.metric("Shops on warning", int(warning))
right.metric("Lowest SPS", f"{shops['sps_score'].min():.2f}")
if p0 == 0:
    st.success(f"No shop below {red} {ui.where(day, market)}.")
ui.table(shops)

lines = (
    alt.Chart(trend)
    .mark_line(point=True)
    .encode(
        x=alt.X("yearmonthdate(ds):O", title="day"),
        y=alt.Y("sps_score:Q", title="SPS", scale=alt.Scale(zero=False)),
        color=alt.Color("shop:N", title="shop"),
    )
)
red_line = alt.Chart().mark_rule(color="red", strokeDash=[4, 2]).encode(y=alt.datum(red))
warn_line = alt.Chart().mark_rule(color="orange", strokeDash=[4, 2]).encode(y=alt.datum(warn))
st.subheader("7-day trend")
st.altair_chart(alt.layer(lines, red_line, warn_line), width="stretch")

drivers = shops.melt(
    id_vars=["shop_id"],
    value_vars=["late_dispatch_points", "cancellation_points", "negative_review_points"],
    var_name="driver",
    value_name="points",
)
st.subheader("SPS points lost per driver")
st.altair_chart(
    alt.Chart(drivers).mark_bar().encode(x="points:Q", y=alt.Y("shop_id:N", sort="-x"), color="driver:N"),
    width="stretch",
)
