"""One Spark session per application, configured from settings (master, shuffle width, Java)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from ops.settings import Settings

JAVA_CANDIDATES = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64")


def ensure_java_home() -> None:
    """Spark 4 needs Java 17+; pin JAVA_HOME to Debian's OpenJDK 17 unless the environment sets one."""
    if os.environ.get("JAVA_HOME"):
        return
    for candidate in JAVA_CANDIDATES:
        if Path(candidate, "bin", "java").exists():
            os.environ["JAVA_HOME"] = candidate
            return


def build_spark_session(settings: Settings, app_name: str = "mercator") -> SparkSession:
    """A session for the configured master; small shuffle width because local runs are on 2 cores."""
    ensure_java_home()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    scratch = settings.home / "spark"
    scratch.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.appName(app_name)
        .master(settings.spark_master)
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.local.dir", str(scratch))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.memory", "2g")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
