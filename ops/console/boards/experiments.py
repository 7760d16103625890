"""Experiments: each CRM experiment's lift per metric with its interval, and the sample-ratio check."""

import altair as alt
import streamlit as st

from ops.console import data, queries, ui

s = ui.settings()
ui.header("Experiments", "Did the campaign work, and can the split be trusted (SRM)?")
with data.reader(s) as conn:
    days = ui.board_days(
        conn, "ads.ads_experiment_results", "analysed_at", "no experiment's outcome window has closed yet"
    )
    first, last = ui.range_filter("experiments", days, default_days=90, label="Analysed")
    ui.marketplace_filter("experiments", [], note="Experiment results carry no marketplace: all are shown.")
    rows = queries.experiment_results(conn, first, last)

ui.nonempty(rows, f"No experiment analysed {ui.where((first, last), None)}.")
rows = ui.narrowed(rows, "experiment", "Experiments", key="experiments_names")
flagged = sorted(rows.loc[rows["is_srm_flagged"], "experiment"].unique())
if flagged:
    st.error(f"Sample-ratio mismatch (p < 0.001), verdict blocked: {', '.join(flagged)}")
else:
    st.success("No sample-ratio mismatch in the selected experiments.")
ui.table(rows)
st.subheader("Relative lift with its interval")
lifts = rows.assign(arm=rows["experiment"] + " · " + rows["metric"] + " · " + rows["variant"])
base = alt.Chart(lifts).encode(y=alt.Y("arm:N", title=None), color="metric:N")
st.altair_chart(
    alt.layer(
        base.mark_rule().encode(x="rel_ci_low:Q", x2="rel_ci_high:Q"),
        base.mark_point(filled=True).encode(x=alt.X("rel_lift:Q", title="relative lift")),
        alt.Chart().mark_rule(color="grey").encode(x=alt.datum(0)),
    ),
    width="stretch",
)
