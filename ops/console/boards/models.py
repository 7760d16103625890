"""Models: champion against challenger per model, the daily scores, and monitoring once it exists."""

import altair as alt
import streamlit as st

from ops.console import data, queries, registry, ui

s = ui.settings()
ui.header("Models", "Is the model in production better than its challenger, and is it still good?")

st.subheader("Champion and challenger (MLflow)")
why = registry.unreachable(s.console_mlflow_uri)
if why:
    st.warning(why)
else:
    versions, metrics = registry.aliased_versions(s.console_mlflow_uri)
    if versions.empty:
        st.info("No registered model has a champion or challenger alias yet: train one (make demo).")
    else:
        ui.table(versions)
        ui.table(metrics)

with data.reader(s) as conn:
    days = ui.board_days(conn, "ads.churn_scores", "score_date", "no model has scored customers yet")
    first, last = ui.range_filter("models", days, default_days=30)
    market = ui.marketplace_filter(
        "models", queries.marketplaces(conn, "ads.ads_customer_value", "marketplace")
    )
    scores = queries.daily_scores(conn, first, last, market)
    has_monitor = data.exists(conn, "ads.ads_model_monitor")
    monitor = queries.monitor_rows(conn, first, last, market) if has_monitor else None

st.subheader("Daily churn scores")
if scores.empty:
    st.info(f"No customer scored {ui.where((first, last), market)}.")
else:
    ui.table(scores)
    st.altair_chart(
        alt.Chart(scores)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(score_date):O", title="day"),
            y="mean_churn_probability:Q",
            color="marketplace:N",
        ),
        width="stretch",
    )

st.subheader("Realised performance and drift (ads_model_monitor)")
if monitor is None:
    st.info(
        "`ads.ads_model_monitor` does not exist yet: the model factory (issue 15) writes each model's "
        "score drift (PSI) and realised metric per day; until then only the scores above are known."
    )
elif monitor.empty:
    st.info(f"`ads.ads_model_monitor` has no rows {ui.where((first, last), market)}.")
else:
    ui.table(monitor)
