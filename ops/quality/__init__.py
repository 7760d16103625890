"""Great Expectations gates on every layer, in one package.

``ods`` checks landed partitions against their manifests and the connectors' record schemas, ``dwd`` the
Spark jobs' Parquet (suites: ``order_suites`` for the order entities, ``entity_suites`` derived from the
flat entities' specs plus the ``rules`` table), ``ads`` the marts against their last passing day; ``gates``
is what the DAG tasks and the CLI call. All share ``engine`` (suites as data, the runner, the error) and
``docs`` (the data docs under ``$MERCATOR_HOME/gx_docs``).
"""
