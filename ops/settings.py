"""The one place that reads the environment.

Every path, URL and secret the project uses comes from :class:`Settings`. The defaults describe the
embedded local stack (everything under ``.mercator/``); production replaces them through environment
variables alone (``WAREHOUSE_URL``, ``LAKE_URI``, ``SPARK_MASTER``, ``MLFLOW_TRACKING_URI``, …).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Typed configuration; secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="MERCATOR_", extra="ignore", frozen=True, populate_by_name=True
    )

    home: Path = Field(default=REPO_ROOT / ".mercator", description="Embedded stack state (git-ignored).")
    pg_port: int = Field(default=55432, description="Loopback TCP port of the embedded Postgres.")
    pg_database: str = "mercator"
    warehouse_url_override: str | None = Field(
        default=None, validation_alias=AliasChoices("WAREHOUSE_URL", "MERCATOR_WAREHOUSE_URL")
    )
    lake_uri_override: str | None = Field(
        default=None, validation_alias=AliasChoices("LAKE_URI", "MERCATOR_LAKE_URI")
    )
    spark_master: str = Field(
        default="local[2]", validation_alias=AliasChoices("SPARK_MASTER", "MERCATOR_SPARK_MASTER")
    )
    spark_shuffle_partitions: int = 2
    spark_packages: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SPARK_PACKAGES", "MERCATOR_SPARK_PACKAGES"),
        description="Maven coordinates for spark.jars.packages, e.g. org.apache.hadoop:hadoop-aws:3.5.0.",
    )
    s3_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("S3_ENDPOINT", "MERCATOR_S3_ENDPOINT"),
        description="S3-compatible endpoint of an s3a:// lake (MinIO: http://minio:9000); unset = AWS.",
    )
    s3_access_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("AWS_ACCESS_KEY_ID", "MERCATOR_S3_ACCESS_KEY")
    )
    s3_secret_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("AWS_SECRET_ACCESS_KEY", "MERCATOR_S3_SECRET_KEY")
    )
    s3_path_style_access: bool = Field(
        default=True, description="Path-style bucket addressing (MinIO needs it; AWS accepts it)."
    )
    reporting_currency: str = Field(
        default="USD", pattern=r"^[A-Z]{3}$", description="Currency DWD amounts are also reported in."
    )
    fx_max_rate_age_days: int = Field(
        default=35, ge=0, description="Oldest rate (days before the purchase date) a conversion may use."
    )
    mlflow_tracking_uri_override: str | None = Field(
        default=None, validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "MERCATOR_MLFLOW_TRACKING_URI")
    )
    mlflow_ui_port: int = 5055
    airflow_ui_port: int = 8085
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8765
    sandbox_seed: int = 42
    sandbox_profile: str = "small"
    orders_api_url_override: str | None = Field(
        default=None, validation_alias=AliasChoices("ORDERS_API_URL", "MERCATOR_ORDERS_API_URL")
    )
    orders_api_token: SecretStr = Field(
        default=SecretStr("sandbox-token"),
        validation_alias=AliasChoices("ORDERS_API_TOKEN", "MERCATOR_ORDERS_API_TOKEN"),
    )
    source_url_overrides: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("MERCATOR_SOURCE_URL", "source_url_overrides"),
        description='Per-source API base URLs as JSON, e.g. {"logistics": "https://api.17track.example"}.',
    )
    source_token_overrides: dict[str, SecretStr] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("MERCATOR_SOURCE_TOKEN", "source_token_overrides"),
        description="Per-source API credentials as JSON (secrets).",
    )
    source_rate_overrides: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("MERCATOR_SOURCE_RATE", "source_rate_overrides"),
        description='Per-source client rate budget (requests/s per endpoint) as JSON, e.g. {"ads": 5}.',
    )
    orders_requests_per_second: float = 50.0
    ingest_full_refresh: bool = Field(
        default=False, description="Fetch days again even when their ODS partition already landed."
    )
    ingest_lookback_hours: float = Field(
        default=0.0,
        ge=0,
        description="Hours before a day that updated-at sources ask for again (records published late).",
    )
    ingest_max_slice_hours: float = Field(
        default=24.0, gt=0, description="Longest time window one windowed API request may cover."
    )
    http_max_attempts: int = 6
    http_max_total_seconds: float = 120.0
    pii_hash_key: SecretStr = Field(
        default=SecretStr("local-dev-pii-key"),
        validation_alias=AliasChoices("PII_HASH_KEY", "MERCATOR_PII_HASH_KEY"),
    )
    churn_horizon_days: int = 30
    churn_min_feature_days: int = 30
    console_host: str = Field(default="127.0.0.1", description="Interface the operator console binds to.")
    console_port: int = Field(default=8501, description="Port of the operator console (Streamlit).")
    console_reader_password: SecretStr | None = Field(
        default=None, description="Password of the analyst login the console reads the marts with."
    )
    console_operator_password: SecretStr | None = Field(
        default=None, description="Password of mercator_console, the only login the console writes with."
    )
    console_contact_cooldown_days: int = Field(
        default=14, ge=1, description="Days a contacted customer stays off the follow-up list."
    )
    console_mlflow_uri_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MERCATOR_CONSOLE_MLFLOW_URI", "console_mlflow_uri_override"),
        description="MLflow the console's Models page reads (default: the MLflow UI server of the stack).",
    )
    demo_start: str = "2025-08-19"
    demo_days: int = 3
    demo_history_days: int = 90
    dwd_lookback_days: int = 7

    # ---- derived locations -------------------------------------------------------------------
    @property
    def pg_data_dir(self) -> Path:
        return self.home / "pg" / "data"

    @property
    def pg_socket_dir(self) -> Path:
        return self.home / "pg" / "run"

    @property
    def warehouse_url(self) -> str:
        """SQLAlchemy/psycopg URL of the warehouse (embedded Postgres unless WAREHOUSE_URL is set)."""
        return self.warehouse_url_override or self.embedded_url(self.pg_database)

    def embedded_url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{database}"

    @property
    def lake_uri(self) -> str:
        return self.lake_uri_override or (self.home / "lake").as_uri()

    @property
    def mlflow_tracking_uri(self) -> str:
        if self.mlflow_tracking_uri_override:
            return self.mlflow_tracking_uri_override
        return self.embedded_url("mlflow").replace("postgresql://", "postgresql+psycopg://", 1)

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.home / "mlflow-artifacts"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def airflow_db_url(self) -> str:
        return self.embedded_url("airflow").replace("postgresql://", "postgresql+psycopg://", 1)

    @property
    def console_mlflow_uri(self) -> str:
        return self.console_mlflow_uri_override or f"http://127.0.0.1:{self.mlflow_ui_port}"

    @property
    def orders_api_url(self) -> str:
        return self.orders_api_url_override or f"http://{self.sandbox_host}:{self.sandbox_port}"

    def source_url(self, source: str) -> str:
        """Base URL of a source's API: its own override, else the marketplace API (the sandbox locally)."""
        return self.source_url_overrides.get(source, self.orders_api_url)

    def source_rate(self, source: str, default: float) -> float:
        """Requests/s a source's client paces itself at: its own override, else the source's default."""
        return self.source_rate_overrides.get(source, default)

    def source_token(self, source: str) -> SecretStr:
        """Credential of a source's API: its own override, else the marketplace API token."""
        return self.source_token_overrides.get(source, self.orders_api_token)

    @property
    def dbt_project_dir(self) -> Path:
        return REPO_ROOT / "dbt"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings(...)`` instead of mutating this one."""
    return Settings()
