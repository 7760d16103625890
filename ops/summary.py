"""What a person sees at the end of ``make demo``: rows per layer, the operator boards, the mart, the
champion model."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from ops.console.navigation import BOARDS as CONSOLE_BOARDS
from ops.settings import Settings
from storage.warehouse import connect

LAYER_SCHEMAS = ("dwd", "dws", "ads")
CHURN_MODEL = "mercator_churn"
# One line per operator screen: what needs acting on at the newest day each board has.
BOARD_QUERIES = {
    "shops below the SPS red line (P0)": (
        "select count(*) filter (where risk_tier = 'P0'), max(ds) from ads.ads_shop_sps_risk"
        " where ds = (select max(ds) from ads.ads_shop_sps_risk)"
    ),
    "ad campaign-hours to pause": (
        "select count(*) filter (where should_pause), max(ds) from ads.ads_ad_circuit_breaker"
        " where ds = (select max(ds) from ads.ads_ad_circuit_breaker)"
    ),
    "SKU alerts (push / high return / low margin)": (
        "select count(*) filter (where primary_alert <> 'none'), max(as_of_ds) from ads.ads_sku_alerts"
        " where as_of_ds = (select max(as_of_ds) from ads.ads_sku_alerts)"
    ),
    "customers past their churn warning": (
        "select count(*) filter (where is_churn_warning), max(as_of_ds) from ads.ads_customer_value"
    ),
    "source-entity-days not reconciling": (
        "select count(*) filter (where not is_ok), max(ds) from ads.ads_reconciliation"
    ),
}

# The operator console's board for each of them (a file of ops/console/boards/).
CONSOLE_BOARD_OF = {
    "shops below the SPS red line (P0)": "sps_risk.py",
    "ad campaign-hours to pause": "ads.py",
    "SKU alerts (push / high return / low margin)": "sku_alerts.py",
    "customers past their churn warning": "customers.py",
}


@dataclass(frozen=True)
class DemoSummary:
    row_counts: dict[str, int]
    boards: dict[str, tuple[int, object]]
    mart_rows: list[tuple]
    mart_columns: list[str]
    champion_version: str | None
    champion_metrics: dict[str, float]


def layer_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows of every table (not the staging views) in the DWD, DWS and ADS schemas."""
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
        (list(LAYER_SCHEMAS),),
    ).fetchall()
    counts: dict[str, int] = {}
    for schema, table in sorted(tables, key=lambda t: (LAYER_SCHEMAS.index(t[0]), t[1])):
        query = psycopg.sql.SQL("select count(*) from {}.{}").format(
            psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table)
        )
        counts[f"{schema}.{table}"] = conn.execute(query).fetchone()[0]
    return counts


def operator_boards(conn: psycopg.Connection) -> dict[str, tuple[int, object]]:
    """(count, as-of day) per board; a board whose mart is missing is left out rather than failing."""
    boards: dict[str, tuple[int, object]] = {}
    for label, query in BOARD_QUERIES.items():
        try:
            with conn.transaction():
                count, day = conn.execute(query).fetchone()
        except psycopg.errors.UndefinedTable:
            continue
        boards[label] = (count or 0, day)
    return boards


def console_pages(boards: dict[str, tuple[int, object]], settings: Settings) -> list[str]:
    """The console pages worth opening: one per board with something to act on, with its address."""
    base = f"http://{settings.bind_host}:{settings.console_port}"
    where = {file: (title, path) for file, title, path in CONSOLE_BOARDS}
    pages = []
    for label, (count, day) in boards.items():
        if count and label in CONSOLE_BOARD_OF:
            title, path = where[CONSOLE_BOARD_OF[label]]
            pages.append(f"{title + ':':<12} {base}/{path}  ({count:,} {label}, {day})")
    return pages


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
        boards = operator_boards(conn)
        cursor = conn.execute(
            "select marketplace, ds, gmv, orders, aov, gmv_7d_avg, gmv_wow_change_pct "
            "from ads.ads_marketplace_sales_trend order by ds desc, marketplace limit 6"
        )
        rows = cursor.fetchall()
        columns = [c.name for c in cursor.description]
    version, metrics = champion(settings)
    return DemoSummary(counts, boards, rows, columns, version, metrics)


def render(summary: DemoSummary, settings: Settings) -> str:
    lines = ["", "Mercator demo summary", "=====================", "", "Rows per layer:"]
    lines += [f"  {name:<40} {count:>10,}" for name, count in summary.row_counts.items()]
    lines += ["", "Operator boards (newest day of each):"]
    lines += [f"  {label:<46} {count:>6,}  ({day})" for label, (count, day) in summary.boards.items()]
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
        "  operator console:              make console (or make up); pages with rows to act on:",
        *(f"    {page}" for page in console_pages(summary.boards, settings)),
        f"  logs:                          {settings.logs_dir}",
        "",
    ]
    return "\n".join(lines)
