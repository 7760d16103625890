"""A mapping that puts a text column in a numeric field fails naming the column, file and line.

It used to end in ``SchemaDriftError: key field 'AmazonOrderId' is missing from every record``: every row
was rejected, and the rejected rows (which carry no order key) looked like an API that renamed its key.
"""

from __future__ import annotations

import pytest

from connectors.importers import import_export
from connectors.importers.importer import ExportRejectedError
from ops.settings import Settings
from storage.lake import Lake, local_path
from tests.importers.test_generic_mapping import FILE, MAPPING, export  # noqa: F401 - the fixture


def test_a_text_column_in_a_numeric_field_names_column_file_and_line(
    lake_settings: Settings,
    export,  # noqa: F811 - the fixture imported above
) -> None:
    mapping, data_dir = export
    good = mapping.read_text()
    assert 'unit_price = "price"' in good == MAPPING
    mapping.write_text(good.replace('unit_price = "price"', 'unit_price = "sku"'))

    with pytest.raises(ExportRejectedError) as error:
        import_export(lake_settings, mapping, data_dir=data_dir)
    message = str(error.value)
    assert message.startswith("myshop: all 10 rows were rejected, so nothing was published; first: ")
    assert f"first: {FILE} line 2: sku is not a decimal number." in message
    assert "'sku is not a decimal number' x" in message and "AmazonOrderId" not in message
    assert not (local_path(Lake(lake_settings.lake_uri).root_uri) / "ods").exists()

    mapping.write_text(good)  # the mapping fixed: the rerun lands the days
    manifests = import_export(lake_settings, mapping, data_dir=data_dir)
    assert [m.ds for m in manifests] == ["2024-03-01", "2024-03-02"]
    assert sum(m.records_landed for m in manifests) == 3
