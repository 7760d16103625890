"""Ads: the circuit breaker's campaign-hours with ROAS and its 95% interval, spend velocity, what to pause."""

import altair as alt
import streamlit as st

from ops.console import data, queries, ui

s = ui.settings()
floor = float(ui.thresholds(s)["circuit_breaker_roas_floor"])
ui.header("Ads circuit breaker", f"Which campaigns to pause now (ROAS interval below {floor}, spend racing)?")
with data.reader(s) as conn:
    _, day, market = ui.day_board(
        conn, "ads", "ads.ads_ad_circuit_breaker", "ds", "no hourly ad data has been built"
    )
    hours = queries.campaign_hours(conn, day, market)

ui.nonempty(hours, f"No campaign spent {ui.where(day, market)}.")
paused = hours[hours["should_pause"]]
left, middle, right = st.columns(3)
left.metric("Campaign-hours to pause", len(paused))
middle.metric("Campaigns to pause", paused["campaign_id"].nunique())
right.metric("Spend at risk", f"{paused['spend_at_risk'].sum():,.2f}")
if paused.empty:
    st.success(f"No campaign to pause {ui.where(day, market)}.")
if st.checkbox("Only campaign-hours to pause", key="ads_only_pause"):
    hours = paused
ui.table(hours)

watch = paused["campaign_id"].unique()[:4] if not paused.empty else hours["campaign_id"].unique()[:2]
shown = hours[hours["campaign_id"].isin(watch)] if not hours.empty else hours
if not shown.empty:
    st.subheader("ROAS with its 95% interval, hour by hour")
    base = alt.Chart(shown).encode(x=alt.X("hour_start_at:T", title="hour (UTC)"), color="campaign_id:N")
    band = base.mark_area(opacity=0.2).encode(y="roas_ci_low:Q", y2="roas_ci_high:Q")
    line = base.mark_line(point=True).encode(y=alt.Y("roas:Q", title="ROAS (trailing window)"))
    rule = alt.Chart().mark_rule(color="red", strokeDash=[4, 2]).encode(y=alt.datum(floor))
    st.altair_chart(alt.layer(band, line, rule), width="stretch")
