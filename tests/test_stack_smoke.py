"""The embedded stack comes up with the schemas and roles the design names."""

import psycopg

from storage.bootstrap import SCHEMAS


def test_embedded_postgres_has_schemas_and_roles(settings):
    with psycopg.connect(settings.warehouse_url) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
        roles = {r[0] for r in conn.execute("select rolname from pg_roles")}
    assert set(SCHEMAS) <= schemas
    assert {"analyst", "mercator_owner"} <= roles


def test_spark_session_is_local(spark):
    assert spark.sparkContext.master.startswith("local")
    assert spark.range(10).count() == 10
