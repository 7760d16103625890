"""The one place that reads the environment.

Every path, URL and secret the project uses comes from :class:`Settings`. The defaults describe the
embedded local stack (everything under ``.mercator/``); production replaces them through environment
variables alone (``WAREHOUSE_URL``, ``LAKE_URI``, ``SPARK_MASTER``, ``MLFLOW_TRACKING_URI``, …).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, PositiveFloat, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# The key the project shipped with before keys were generated: public, so it protects nothing.
PUBLIC_DEV_PII_KEY = "local-dev-pii-key"


class InsecureSettingsError(RuntimeError):
    """The configuration would run with a secret everyone knows; the message says what to set."""


def ensure_private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700), created when missing."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def read_or_create_secret(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """The secret kept in ``path`` (mode 0600 in a 0700 folder), made on first use.

    Created under a temporary name and hard-linked into place, so concurrent first uses (parallel
    Airflow tasks) agree on one value and nobody ever reads a half-written file.
    """
    with contextlib.suppress(FileNotFoundError):  # made on an earlier use
        return path.read_text().strip()
    ensure_private_dir(path.parent)
    draft = path.with_name(f".{path.name}.{os.getpid()}.draft")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make() + "\n")
    try:
        with contextlib.suppress(FileExistsError):  # another first use won: its value stands
            os.link(draft, path)
    finally:
        draft.unlink()
    return path.read_text().strip()


def _is_loopback(host: str | None) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Typed configuration; secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="MERCATOR_", extra="ignore", frozen=True, populate_by_name=True
    )

    home: Path = Field(default=REPO_ROOT / ".mercator", description="Embedded stack state (git-ignored).")
    secrets_dir: Path = Field(
        default_factory=lambda data: data["home"] / "secrets",
        description="Generated Postgres passwords, PII key and UI logins (0700; files 0600). Fixed when the "
        "settings are built, so a copy with another home still reaches the same embedded Postgres.",
    )
    bind_host: str = Field(
        default="127.0.0.1",
        description="Address every listener of the embedded stack binds (Postgres, sandbox, UIs, console).",
    )
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
    ingest_clock_skew_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How far past now an interval may end (clock skew) before ingest refuses it.",
    )
    ods_max_quarantine_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Largest share of a day's received records the ODS gate lets go to quarantine.",
    )
    ods_quarantine_min_received: int = Field(
        default=100,
        ge=0,
        description="Received records below which a day's quarantine share is not judged (one bad record "
        "of ten is noise); a day that landed none of what the API sent fails regardless.",
    )
    ads_drift_overrides: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("MERCATOR_ADS_DRIFT", "ads_drift_overrides"),
        description='ADS gate rules per mart or metric as JSON: {"ads.ads_channel_kpis.gmv": {"k": 2}}.',
    )
    http_max_attempts: int = 6
    http_max_total_seconds: float = 120.0
    pii_hash_key_override: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PII_HASH_KEY", "MERCATOR_PII_HASH_KEY", "pii_hash_key_override"),
        description="Key of the PII hash; unset on the embedded stack = a random key per secrets folder.",
    )
    churn_horizon_days: int = 30
    churn_min_feature_days: int = 30
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
    def pg_passfile(self) -> Path:
        """libpq password file of the embedded Postgres roles (``storage.secrets`` writes it)."""
        return self.secrets_dir / "pgpass"

    @property
    def pii_key_file(self) -> Path:
        return self.secrets_dir / "pii_hash_key"

    @property
    def airflow_passwords_file(self) -> Path:
        return self.secrets_dir / "airflow_passwords.json"

    @property
    def warehouse_url(self) -> str:
        """SQLAlchemy/psycopg URL of the warehouse (embedded Postgres unless WAREHOUSE_URL is set)."""
        return self.warehouse_url_override or self.embedded_url(self.pg_database)

    def embedded_url(self, database: str, role: str = "postgres") -> str:
        """URL of a database on the embedded Postgres; the password stays in the 0600 pgpass file."""
        return f"postgresql://{role}@127.0.0.1:{self.pg_port}/{database}?passfile={self.pg_passfile}"

    @property
    def embedded(self) -> bool:
        """Whether this is the embedded default: warehouse on loopback, lake on local disk, Spark local."""
        warehouse_host = urlsplit(self.warehouse_url_override or "").hostname
        return (
            _is_loopback(warehouse_host)
            and self.lake_uri.startswith("file:")
            and self.spark_master.startswith("local")
        )

    @property
    def pii_hash_key(self) -> SecretStr:
        """The PII hash key: PII_HASH_KEY, else (embedded only) the key generated for this secrets folder.

        Outside the embedded default a missing or public key is refused: keys generated per machine would
        hash the same buyer differently, and the public one lets anyone reverse every customer_key.
        """
        key = self.pii_hash_key_override
        if self.embedded:
            return key or SecretStr(read_or_create_secret(self.pii_key_file))
        if key is None or key.get_secret_value() == PUBLIC_DEV_PII_KEY:
            problem = "is not set" if key is None else f"is the public development key {PUBLIC_DEV_PII_KEY!r}"
            raise InsecureSettingsError(
                f"PII_HASH_KEY {problem}, and this is not the embedded default stack (WAREHOUSE_URL, "
                "LAKE_URI or SPARK_MASTER point elsewhere): set PII_HASH_KEY to a long random secret shared "
                "by every process of this deployment (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`); to change it later see README 'Rotating the PII key'"
            )
        return key

    def check_secure(self) -> None:
        """Refuse to start with a public or empty PII key (InsecureSettingsError names the setting)."""
        if not self.pii_hash_key.get_secret_value():
            raise InsecureSettingsError("PII_HASH_KEY is empty: set it to a long random secret")

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
        """Requests/s a source's client paces itself at: its own override, else the source's default
        (for the orders API, ``orders_requests_per_second``)."""
        fallback = self.orders_requests_per_second if source == "orders" else default
        return self.source_rate_overrides.get(source, fallback)

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
