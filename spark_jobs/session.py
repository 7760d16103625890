"""One Spark session per application, configured from settings alone (master, lake filesystem, Java).

Everything that differs between a laptop and a cluster comes from :class:`ops.settings.Settings`:
``SPARK_MASTER`` picks the cluster, ``LAKE_URI`` the lake (``file://`` or ``s3a://``), ``S3_ENDPOINT`` and
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` the object store, ``SPARK_PACKAGES`` the jars to fetch
(``hadoop-aws`` for s3a). :func:`spark_conf` is the whole mapping, so it can be checked without a JVM.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from pyspark.sql import SparkSession

from ops.settings import Settings
from spark_jobs.leftovers import remove_leftovers, scratch_dir

log = logging.getLogger(__name__)

JAVA_CANDIDATES = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64")
S3A_FILESYSTEM = "org.apache.hadoop.fs.s3a.S3AFileSystem"
SIMPLE_CREDENTIALS = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
# Keys whose values are secrets: never logged (Spark's own spark.redaction.regex also hides them).
SECRET_KEYS = frozenset({"spark.hadoop.fs.s3a.access.key", "spark.hadoop.fs.s3a.secret.key"})


def ensure_java_home() -> None:
    """Spark 4 needs Java 17+; pin JAVA_HOME to Debian's OpenJDK 17 unless the environment sets one."""
    if os.environ.get("JAVA_HOME"):
        return
    for candidate in JAVA_CANDIDATES:
        if Path(candidate, "bin", "java").exists():
            os.environ["JAVA_HOME"] = candidate
            return


def uses_s3a(settings: Settings) -> bool:
    """The s3a filesystem is configured for an s3a lake, or whenever an S3 setting is given."""
    return urlsplit(settings.lake_uri).scheme == "s3a" or any(
        value is not None for value in (settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key)
    )


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Hadoop s3a options from settings (MinIO or S3); no credentials given = the AWS default chain."""
    conf = {
        "spark.hadoop.fs.s3a.impl": S3A_FILESYSTEM,
        "spark.hadoop.fs.s3a.path.style.access": str(settings.s3_path_style_access).lower(),
    }
    if settings.s3_endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = settings.s3_endpoint
        secure = urlsplit(settings.s3_endpoint).scheme != "http"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(secure).lower()
    if settings.s3_access_key and settings.s3_secret_key:
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = SIMPLE_CREDENTIALS
        conf["spark.hadoop.fs.s3a.access.key"] = settings.s3_access_key.get_secret_value()
        conf["spark.hadoop.fs.s3a.secret.key"] = settings.s3_secret_key.get_secret_value()
    return conf


def spark_conf(settings: Settings) -> dict[str, str]:
    """Every option the session is built with; small shuffle width because local runs are on 2 cores."""
    scratch = settings.home / "spark"
    conf = {
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.local.dir": str(scratch_dir(settings)),  # per process: see spark_jobs/leftovers.py
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={scratch}",
        "spark.ui.enabled": "false",
        "spark.sql.adaptive.enabled": "true",
        "spark.driver.memory": "2g",
    }
    if settings.spark_packages:
        conf["spark.jars.packages"] = settings.spark_packages
    if uses_s3a(settings):
        conf.update(s3a_conf(settings))
    return conf


def loggable(conf: dict[str, str]) -> dict[str, str]:
    """``conf`` with secret values replaced, for logs and error messages."""
    return {key: ("*****" if key in SECRET_KEYS else value) for key, value in conf.items()}


def _lake_for_log(uri: str) -> str:
    """The lake URI without any user info (``s3a://key:secret@bucket`` must not reach a log)."""
    parts = urlsplit(uri)
    return parts._replace(netloc=parts.hostname or "").geturl() if parts.netloc else uri


def build_spark_session(settings: Settings, app_name: str = "mercator") -> SparkSession:
    """A session for the configured master and lake (getOrCreate: one application per process)."""
    ensure_java_home()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    scratch_dir(settings).mkdir(parents=True, exist_ok=True)
    remove_leftovers(settings)
    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    conf = spark_conf(settings)
    for key, value in conf.items():
        builder = builder.config(key, value)
    log.debug("spark conf %s", loggable(conf))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    log.info(
        "spark session %r on master %s, lake %s, s3a %s",
        app_name,
        spark.sparkContext.master,
        _lake_for_log(settings.lake_uri),
        "configured" if uses_s3a(settings) else "off",
    )
    return spark


def require_utc(spark: SparkSession) -> None:
    """DWD dates and timestamps are defined in UTC: a job on a session in another zone would shift them."""
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise RuntimeError(f"session time zone is {tz!r}; DWD dates and timestamps are defined in UTC")
