"""``mercator`` command line: the local stack, backfills, DAG runs and the demo."""

from __future__ import annotations

import argparse
import logging
import time
from datetime import date, timedelta

from ops.settings import InsecureSettingsError, Settings, get_settings

log = logging.getLogger("mercator")
REFRESH_HELP = "fetch days again even when they already landed in ODS (default: skip them)"
# Commands that start services or process data: they refuse a public PII key before doing anything.
PROCESSING = frozenset({"up", "backfill", "ingest", "import", "run-day", "demo"})


def _date(text: str) -> date:
    return date.fromisoformat(text)


def cmd_up(settings: Settings, args: argparse.Namespace) -> None:
    from ops.stack import up

    for row in up(settings, with_ui=args.ui):
        print(f"{row.name:<12} {'running' if row.running else 'stopped':<8} {row.where}")


def cmd_down(settings: Settings, args: argparse.Namespace) -> None:
    from ops.stack import down

    down(settings)
    print("stack stopped")


def cmd_status(settings: Settings, args: argparse.Namespace) -> None:
    from ops.stack import status

    for row in status(settings):
        print(f"{row.name:<12} {'running' if row.running else 'stopped':<8} {row.where}")


def cmd_credentials(settings: Settings, args: argparse.Namespace) -> None:
    from ops.stack import credentials

    for name, value in credentials(settings).items():
        print(f"{name:<24} {value}")


def with_refresh(settings: Settings, args: argparse.Namespace) -> Settings:
    """Settings for a command given ``--full-refresh``; they reach Airflow tasks through the environment."""
    if getattr(args, "full_refresh", False):
        return settings.model_copy(update={"ingest_full_refresh": True})
    return settings


def cmd_backfill(settings: Settings, args: argparse.Namespace) -> None:
    from ops.pipeline import backfill

    print(backfill(with_refresh(settings, args), args.start, args.end, args.source))


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> None:
    from connectors.ingest import ingest_interval
    from connectors.registry import SOURCES

    manifests = ingest_interval(
        with_refresh(settings, args), args.start, args.end, sources=args.source or SOURCES
    )
    for m in manifests:
        print(
            f"{m.source}/{m.entity} ds={m.ds}: received {m.records_received}, landed {m.records_landed}, "
            f"quarantined {m.records_quarantined}"
        )


def cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    from ops.pipeline import import_to_marts

    print(import_to_marts(settings, args.mapping, args.start, args.end))


def cmd_run_day(settings: Settings, args: argparse.Namespace) -> None:
    from ops.airflow_runs import run_day

    run_day(with_refresh(settings, args), args.ds)


def cmd_summary(settings: Settings, args: argparse.Namespace) -> None:
    from ops.summary import collect, render

    print(render(collect(settings), settings))


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    """Stack up, history backfilled, the daily DAG run for the demo window, then the summary."""
    from ops.airflow_runs import run_day
    from ops.pipeline import backfill, days_between
    from ops.stack import up
    from ops.summary import collect, render

    started = time.monotonic()
    first_day = date.fromisoformat(settings.demo_start)
    up(settings)
    history_start = first_day - timedelta(days=settings.demo_history_days)
    log.info("backfilling order history %s..%s", history_start, first_day - timedelta(days=1))
    # History is orders only (what the churn model and the customer marts look back on); every source
    # lands from the first DAG day on. A backfill without sources covers all of them.
    backfill(settings, history_start, first_day - timedelta(days=1), ["orders"])
    for ds in days_between(first_day, first_day + timedelta(days=settings.demo_days - 1)):
        log.info("running DAG mercator_daily for ds=%s", ds)
        run_day(settings, ds)
    print(render(collect(settings), settings))
    print(f"demo finished in {time.monotonic() - started:.0f}s")


def cmd_train(settings: Settings, args: argparse.Namespace) -> None:
    from ops.pipeline import train_model

    source = tuple(args.source.split(",")) if args.source else None
    as_of = args.as_of or date.today() - timedelta(days=1)
    print(train_model(settings, args.model, as_of, source))


def cmd_models(settings: Settings, args: argparse.Namespace) -> None:
    from training.mlflow_setup import mlflow_client
    from training.model_board import aliases_board, compare_runs

    client = mlflow_client(settings)
    if args.action == "compare":
        if not args.model:
            raise SystemExit("mercator models compare <model> --last N")
        table = compare_runs(client, args.model, args.last)
    else:
        table = aliases_board(client)
    print(
        table.to_string(index=False) if len(table) else "no models trained yet: run `mercator train <model>`"
    )


def cmd_docs(settings: Settings, args: argparse.Namespace) -> None:
    from ops.dbt_runner import run_dbt

    run_dbt(settings, ["docs", "generate", "--static"])
    print(f"dbt docs (self-contained): {settings.home / 'dbt' / 'target' / 'static_index.html'}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mercator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the embedded stack")
    up.add_argument("--ui", action="store_true", help="also start the MLflow and Airflow UIs")
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop the embedded stack").set_defaults(func=cmd_down)
    sub.add_parser("status", help="show what runs").set_defaults(func=cmd_status)
    sub.add_parser(
        "credentials", help="print the analyst's BI connection string and the Airflow UI login"
    ).set_defaults(func=cmd_credentials)
    backfill = sub.add_parser("backfill", help="ingest and build many days in one go (no Airflow)")
    backfill.add_argument("--start", type=_date, required=True)
    backfill.add_argument("--end", type=_date, required=True)
    backfill.add_argument("--source", action="append", help="a source to backfill (repeatable; default: all)")
    backfill.add_argument("--full-refresh", action="store_true", help=REFRESH_HELP)
    backfill.set_defaults(func=cmd_backfill)
    ingest = sub.add_parser("ingest", help="land sources into ODS for an interval (no Spark, no Airflow)")
    ingest.add_argument("--start", type=_date, required=True)
    ingest.add_argument("--end", type=_date, required=True)
    ingest.add_argument("--source", action="append", help="a source to land (repeatable; default: all)")
    ingest.add_argument("--full-refresh", action="store_true", help=REFRESH_HELP)
    ingest.set_defaults(func=cmd_ingest)
    imports = sub.add_parser(
        "import", help="a file export (olist, uci_online_retail, a mapping) into the marts"
    )
    imports.add_argument("mapping", help="olist, uci_online_retail, or a mapping .toml")
    imports.add_argument("--start", type=_date, required=True)
    imports.add_argument("--end", type=_date, required=True)
    imports.set_defaults(func=cmd_import)
    run_day = sub.add_parser("run-day", help="run the daily DAG for one business day via airflow dags test")
    run_day.add_argument("--ds", type=_date, required=True)
    run_day.add_argument("--full-refresh", action="store_true", help=REFRESH_HELP)
    run_day.set_defaults(func=cmd_run_day)
    sub.add_parser("demo", help="the whole demo: stack, history, DAG runs, summary").set_defaults(
        func=cmd_demo
    )
    sub.add_parser("summary", help="rows per layer, mart rows, champion model").set_defaults(func=cmd_summary)
    sub.add_parser("docs", help="generate dbt docs").set_defaults(func=cmd_docs)
    train = sub.add_parser(
        "train", help="train a model (churn, ranker); promotion decides champion/challenger"
    )
    train.add_argument("model", choices=["churn", "ranker"])
    train.add_argument("--as-of", type=_date, help="last day of data the run may see (default: yesterday)")
    train.add_argument("--source", help="comma-separated marketplace ids to train on (default: all)")
    train.set_defaults(func=cmd_train)
    models = sub.add_parser("models", help="champion and challenger per model; `compare <model>` lists runs")
    models.add_argument("action", nargs="?", choices=["compare"])
    models.add_argument("model", nargs="?", choices=["churn", "ranker"])
    models.add_argument("--last", type=int, default=10, help="runs to compare (default 10)")
    models.set_defaults(func=cmd_models)
    return parser


# Commands that fetch from the APIs up to a last day (``--ds`` or ``--end``).
FETCHING = frozenset({"backfill", "ingest", "run-day"})
# Commands that read or write the warehouse: with the stack down they say so in one line.
NEEDS_WAREHOUSE = frozenset({"backfill", "ingest", "import", "run-day", "summary", "docs"})


def require_warehouse(settings: Settings, command: str) -> None:
    """Exit with one line naming the command and the (redacted) warehouse when it cannot be reached."""
    import psycopg

    from storage.warehouse import libpq_url, redact

    try:
        psycopg.connect(libpq_url(settings.warehouse_url), connect_timeout=5).close()
    except psycopg.OperationalError:
        raise SystemExit(
            f"mercator {command}: the warehouse at {redact(settings.warehouse_url)} is not reachable; "
            "start the stack with `make up` (or `mercator up`), or set WAREHOUSE_URL"
        ) from None


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        if args.command in PROCESSING:
            settings.check_secure()
        if args.command in FETCHING:  # a day not over yet is refused before anything starts
            from ops.pipeline import refuse_future_days

            refuse_future_days(settings, args.ds if args.command == "run-day" else args.end)
        if args.command in NEEDS_WAREHOUSE:
            require_warehouse(settings, args.command)
        args.func(settings, args)
    except InsecureSettingsError as refused:
        parser.exit(2, f"mercator: refusing to start: {refused}\n")


if __name__ == "__main__":
    main()
