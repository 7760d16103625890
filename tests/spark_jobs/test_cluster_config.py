"""The Spark master and the lake are chosen by configuration alone (DESIGN.md §3): no code path assumes
the embedded default. One real ``spark-submit`` proves it end to end; the s3a options are checked on the
settings → Spark conf mapping, so nothing is contacted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ops.settings import REPO_ROOT, Settings
from spark_jobs.session import SIMPLE_CREDENTIALS, ensure_java_home, loggable, spark_conf
from storage.lake import Lake, local_path

DAY = date(2025, 9, 10)
SECRET = "s3cr3t-sentinel-never-printed"
ACCESS = "AKIA-SENTINEL-ACCESS"
# Variables that would otherwise leak this machine's configuration into the child process.
OWN_VARIABLES = ("SPARK_MASTER", "LAKE_URI", "WAREHOUSE_URL", "S3_ENDPOINT", "SPARK_PACKAGES")


def _child_env(settings: Settings, home: Path, lake_uri: str) -> dict[str, str]:
    ensure_java_home()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MERCATOR_", "AWS_")) and k not in OWN_VARIABLES
    }
    return env | {
        "SPARK_MASTER": "local[1]",
        "LAKE_URI": lake_uri,
        "WAREHOUSE_URL": settings.warehouse_url,
        "MERCATOR_HOME": str(home),
        "S3_ENDPOINT": "http://127.0.0.1:9",  # configured, never contacted: the lake is local
        "AWS_ACCESS_KEY_ID": ACCESS,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


def test_spark_submit_honours_master_and_lake_from_the_environment(settings, ods, tmp_path):
    # ``ods`` writes into this test's own lake; the child process is pointed at it only through LAKE_URI.
    ods.write(DAY, [ods.order("CFG-1", purchased=f"{DAY}T08:00:00Z")])
    lake_uri = ods.settings.lake_uri
    home = tmp_path / "child-home"
    spark_submit = Path(sys.executable).parent / "spark-submit"

    done = subprocess.run(
        [str(spark_submit), "spark_jobs/order_items.py", "--ds", DAY.isoformat()],
        cwd=REPO_ROOT,
        env=_child_env(settings, home, lake_uri),
        capture_output=True,
        text=True,
        timeout=600,
    )

    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "on master local[1], lake " + lake_uri in output
    written = local_path(Lake(lake_uri).dwd_partition("order_item", DAY)) / "source=orders"
    files = list(written.glob("part-*.parquet"))
    assert len(files) == 1 and pq.read_table(files[0]).column("order_id").to_pylist() == ["CFG-1"]
    assert not (home / "lake").exists()  # the embedded default lake under MERCATOR_HOME was not used
    assert SECRET not in output and ACCESS not in output


def test_an_s3a_lake_gets_the_s3a_filesystem_from_settings(monkeypatch):
    for name in OWN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAKE_URI", "s3a://mercator-lake/prod")
    monkeypatch.setenv("SPARK_MASTER", "spark://spark-master:7077")
    monkeypatch.setenv("S3_ENDPOINT", "http://minio:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("SPARK_PACKAGES", "org.apache.hadoop:hadoop-aws:3.5.0")
    settings = Settings()

    conf = spark_conf(settings)

    assert settings.spark_master == "spark://spark-master:7077"
    assert Lake(settings.lake_uri).dwd_partition("order_item", DAY) == (
        "s3a://mercator-lake/prod/dwd/order_item/ds=2025-09-10"
    )
    assert conf["spark.jars.packages"] == "org.apache.hadoop:hadoop-aws:3.5.0"
    assert conf["spark.hadoop.fs.s3a.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://minio:9000"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.aws.credentials.provider"] == SIMPLE_CREDENTIALS
    assert (conf["spark.hadoop.fs.s3a.access.key"], conf["spark.hadoop.fs.s3a.secret.key"]) == (
        ACCESS,
        SECRET,
    )
    shown = f"{settings!r} {loggable(conf)}"
    assert SECRET not in shown and ACCESS not in shown


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),  # the embedded default: a local lake, no s3a options at all
        ({"LAKE_URI": "s3a://bucket/lake"}, {"spark.hadoop.fs.s3a.impl"}),  # AWS default credential chain
        (
            {"LAKE_URI": "s3a://bucket/lake", "S3_ENDPOINT": "https://s3.eu-west-1.amazonaws.com"},
            {"spark.hadoop.fs.s3a.endpoint", "spark.hadoop.fs.s3a.connection.ssl.enabled"},
        ),
    ],
)
def test_s3a_options_appear_only_when_configured(monkeypatch, env, expected):
    for name in (*OWN_VARIABLES, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MERCATOR_LAKE_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    conf = spark_conf(Settings())

    s3a = {key for key in conf if key.startswith("spark.hadoop.fs.s3a.")}
    if expected is None:
        assert s3a == set() and "spark.jars.packages" not in conf
    else:
        assert expected <= s3a and "spark.hadoop.fs.s3a.aws.credentials.provider" not in s3a
    if "S3_ENDPOINT" in env:
        assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "true"
