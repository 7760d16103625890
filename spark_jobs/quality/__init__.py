"""Data-quality gates (Great Expectations) for the layers the Spark jobs produce."""

from spark_jobs.quality.engine import DataQualityError, ValidationSummary
from spark_jobs.quality.validate import validate_dwd_partitions

__all__ = ["DataQualityError", "ValidationSummary", "validate_dwd_partitions"]
