"""Great Expectations checkpoints on the layers outside Spark: ODS landings and ADS marts.

The DWD gate lives with the Spark jobs (:mod:`spark_jobs.quality`); all gates share its engine, its
error (:class:`spark_jobs.quality.DataQualityError`) and its data docs (``$MERCATOR_HOME/gx_docs``).
"""
