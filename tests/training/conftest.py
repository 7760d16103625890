"""Training test fixtures: an isolated warehouse + MLflow database and the synthetic order history.

Training tests get their own databases on the session's embedded Postgres, so other test modules that
load ``dwd.order_item`` or register models cannot change what these tests see (and vice versa).
"""

from __future__ import annotations

import pytest

from ops.settings import REPO_ROOT, Settings
from storage.bootstrap import ensure_databases, ensure_warehouse
from storage.warehouse import connect
from tests.training.synthetic import AS_OF, START, History, copy_rows, synthetic_history


@pytest.fixture(scope="session")
def training_settings(settings: Settings) -> Settings:
    """The session's embedded stack with a warehouse and an MLflow database of our own."""
    isolated = settings.model_copy(
        update={
            "pg_database": "mercator_training",
            "mlflow_tracking_uri_override": settings.embedded_url("mlflow_training").replace(
                "postgresql://", "postgresql+psycopg://", 1
            ),
        }
    )
    ensure_databases(isolated, ("mercator_training", "mlflow_training"))
    ensure_warehouse(isolated.warehouse_url)
    return isolated


@pytest.fixture(scope="session")
def churn_history(training_settings: Settings) -> History:
    """``dwd.order_item`` (created from its DDL) filled with the synthetic history."""
    frame = synthetic_history()
    with connect(training_settings) as conn:
        conn.execute((REPO_ROOT / "storage" / "sql" / "dwd_order_item.sql").read_text())
        conn.execute("truncate dwd.order_item")
        copy_rows(conn, frame)
    return History(start=START, as_of=AS_OF, rows=len(frame), customers=frame["customer_key"].nunique())
