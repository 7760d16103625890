"""Existence checks and deletes on lake paths through Spark's own Hadoop filesystem.

Going through the session's Hadoop configuration means file://, s3a:// and hdfs:// all behave the same
as the reads and writes the job does, with the same credentials.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession


def _fs_and_path(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """(Hadoop FileSystem, Path) as py4j proxies."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def path_exists(spark: SparkSession, uri: str) -> bool:
    fs, path = _fs_and_path(spark, uri)
    return bool(fs.exists(path))


def delete_path(spark: SparkSession, uri: str) -> bool:
    """Recursively delete ``uri``; returns whether anything was there."""
    fs, path = _fs_and_path(spark, uri)
    return bool(fs.delete(path, True)) if fs.exists(path) else False


def list_entries(spark: SparkSession, uri: str) -> list[tuple[str, bool]]:
    """(name, is_directory) of each entry directly under ``uri``; empty when it does not exist."""
    fs, path = _fs_and_path(spark, uri)
    if not fs.exists(path):
        return []
    return sorted((status.getPath().getName(), bool(status.isDirectory())) for status in fs.listStatus(path))
