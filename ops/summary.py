"""What a person sees at the end of ``make demo``: rows per layer, the mart, the champion model."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from ops.settings import Settings
from storage.warehouse import connect

LAYER_TABLES = (
    ("dwd", "order_item"),
    ("dws", "dws_marketplace_daily"),
    ("ads", "ads_marketplace_sales_trend"),
    ("ads", "churn_scores"),
)
CHURN_MODEL = "mercator_churn"


@dataclass(frozen=True)
class DemoSummary:
    row_counts: dict[str, int]
    mart_rows: list[tuple]
    mart_columns: list[str]
    champion_version: str | None
    champion_metrics: dict[str, float]


def layer_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for schema, table in LAYER_TABLES:
        exists = conn.execute("select to_regclass(%s)", (f"{schema}.{table}",)).fetchone()[0]
        if exists is None:
            counts[f"{schema}.{table}"] = 0
            continue
        query = psycopg.sql.SQL("select count(*) from {}.{}").format(
            psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table)
        )
        counts[f"{schema}.{table}"] = conn.execute(query).fetchone()[0]
    return counts


def champion(settings: Settings) -> tuple[str | None, dict[str, float]]:
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(CHURN_MODEL, "champion")
    except MlflowException:
        return None, {}
    metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
    return version.version, metrics


def collect(settings: Settings) -> DemoSummary:
    with connect(settings) as conn:
        counts = layer_row_counts(conn)
        cursor = conn.execute(
            "select marketplace, ds, gmv, orders, aov, gmv_7d_avg, gmv_wow_change_pct "
            "from ads.ads_marketplace_sales_trend order by ds desc, marketplace limit 6"
        )
        rows = cursor.fetchall()
        columns = [c.name for c in cursor.description]
    version, metrics = champion(settings)
    return DemoSummary(counts, rows, columns, version, metrics)


def render(summary: DemoSummary, settings: Settings) -> str:
    lines = ["", "Mercator demo summary", "=====================", "", "Rows per layer:"]
    lines += [f"  {name:<36} {count:>10,}" for name, count in summary.row_counts.items()]
    lines += ["", "ads.ads_marketplace_sales_trend (latest rows):", "  " + " | ".join(summary.mart_columns)]
    lines += ["  " + " | ".join(str(value) for value in row) for row in summary.mart_rows]
    lines += ["", f"Churn model: {CHURN_MODEL} champion version {summary.champion_version or 'none'}"]
    metrics = summary.champion_metrics
    for name in ("roc_auc", "pr_auc", "ece", "lift_top_decile"):
        if name in metrics:
            baseline = metrics.get(f"baseline_{name}", float("nan"))
            lines.append(f"  {name:<16} model {metrics[name]:.4f}   recency baseline {baseline:.4f}")
    docs_index = settings.home / "dbt" / "target" / "static_index.html"
    analyst_url = settings.embedded_url(settings.pg_database).replace("postgres@", "analyst@", 1)
    lines += [
        "",
        "Where to look next:",
        f"  BI / psql (read-only analyst): psql {analyst_url}",
        "  MLflow UI and Airflow UI:      make up, then "
        f"http://127.0.0.1:{settings.mlflow_ui_port} and http://127.0.0.1:{settings.airflow_ui_port}",
        f"  dbt docs:                      make docs, then open {docs_index}",
        f"  logs:                          {settings.logs_dir}",
        "",
    ]
    return "\n".join(lines)
