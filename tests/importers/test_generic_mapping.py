"""A user's own export: a tiny semicolon CSV with bad rows, driven only by a mapping file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connectors.importers import MappingError, import_export, load_mapping
from connectors.importers.files import ImportFileError
from connectors.orders import ORDER
from ops.settings import Settings
from tests.importers.conftest import landed, quarantined

MAPPING = """
[source]
name = "myshop"
marketplace_id = "MYSHOP-CN"
sales_channel = "myshop"
timezone = "Asia/Shanghai"
date_format = "%d/%m/%Y %H:%M"

[orders]
path = "exports/sales_*.csv"
key = ["order_no"]

[orders.csv]
delimiter = ";"
encoding = "latin-1"

[orders.fields]
order_id = "order_no"
purchase_date = "placed"
buyer_id = "buyer"
currency = "ccy"

[orders.status]
column = "state"
values = { paid = "Unshipped", shipped = "Shipped" }

[items.fields]
asin = "sku"
quantity = "qty"
unit_price = "price"

[items.extra]
Title = "note"
"""

# Line numbers are physical lines: the quoted note on line 10 spans two lines, so the next record is 12.
CSV = (
    "order_no;placed;buyer;sku;qty;price;ccy;state;note\n"  # 1
    "A1;01/03/2024 10:00;b1;SKU1;2;9.99;USD;paid;caf\xe9\n"  # 2 lands (Shanghai 10:00 = 02:00 UTC)
    "A1;01/03/2024 10:00;b1;SKU2;1;5,00;USD;paid;\n"  # 3 price with a decimal comma
    "A2;not a date;b2;SKU1;1;3.00;USD;paid;\n"  # 4 undated: filed under line 3's day
    "A3;02/03/2024 09:00;b3;SKU3;1\n"  # 5 too few columns
    "A4;02/03/2024 09:30;;SKU1;1;4.00;USD;paid;\n"  # 6 no buyer
    "A5;02/03/2024 07:00;b5;SKU1;1;4.00;usd;paid;\n"  # 7 lower-case currency (2024-03-01 23:00 UTC)
    "A6;02/03/2024 23:30;b6;SKU1;1;4.00;EUR;refunded;\n"  # 8 status not mapped
    "A7;03/03/2024 01:00;b7;SKU9;3;1.50;EUR;shipped;\n"  # 9 lands on 2024-03-02 (UTC)
    'A8;03/03/2024 01:00;b8;SKU9;1;1.50;EUR;shipped;"two\n'  # 10 lands, note spans a line
    'lines"\n'  # 11
    "A8;03/03/2024 01:00;b8;SKU8;0;1.50;EUR;shipped;\n"  # 12 zero quantity
)
FILE = "exports/sales_2024.csv"


@pytest.fixture
def export(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "exports").mkdir()
    (tmp_path / FILE).write_bytes(CSV.encode("latin-1"))
    mapping = tmp_path / "myshop.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return mapping, tmp_path


def test_bad_rows_are_quarantined_naming_file_line_and_column(lake_settings: Settings, export) -> None:
    mapping, data_dir = export
    manifests = import_export(lake_settings, mapping, data_dir=data_dir)
    assert [m.ds for m in manifests] == ["2024-03-01", "2024-03-02"]
    for manifest in manifests:
        assert manifest.records_received == manifest.records_landed + manifest.records_quarantined
    reasons = {
        ds: [q["reason"] for q in quarantined(lake_settings, "myshop", ds)]
        for ds in (date(2024, 3, 1), date(2024, 3, 2))
    }
    assert reasons == {
        date(2024, 3, 1): [
            f"{FILE} line 3: price is not a decimal number",
            f"{FILE} line 4: placed is not a date-time in format %d/%m/%Y %H:%M",
            f"{FILE} line 7: ccy is not a 3-letter upper-case currency code",
        ],
        date(2024, 3, 2): [
            f"{FILE} line 5: row has 5 columns, the header has 9",
            f"{FILE} line 6: buyer is empty",
            f"{FILE} line 8: state has a value not mapped in [orders.status]",
            f"{FILE} line 12: qty is not a positive integer",
        ],
    }
    first = landed(lake_settings, "myshop", date(2024, 3, 1))
    assert [r["AmazonOrderId"] for r in first] == ["A1"]
    assert first[0]["PurchaseDate"] == "2024-03-01T02:00:00Z"
    assert first[0]["OrderItems"] == [
        {
            "OrderItemId": "A1-1",
            "ASIN": "SKU1",
            "SellerSKU": "SKU1",
            "QuantityOrdered": 2,
            "ItemPrice": {"CurrencyCode": "USD", "Amount": "19.98"},
            "Title": "caf\xe9",
        }
    ]
    second = landed(lake_settings, "myshop", date(2024, 3, 2))
    assert [r["AmazonOrderId"] for r in second] == ["A7", "A8"]
    assert second[0]["OrderTotal"] == {"CurrencyCode": "EUR", "Amount": "4.50"}
    assert second[1]["OrderItems"][0]["Title"] == "two\nlines"
    assert all(ORDER.schema.validate(r) is None for r in first + second)


def test_rerun_replaces_the_day_with_identical_bytes(lake_settings: Settings, export) -> None:
    mapping, data_dir = export
    first = import_export(lake_settings, mapping, data_dir=data_dir)
    again = import_export(lake_settings, mapping, date(2024, 3, 2), date(2024, 3, 2), data_dir=data_dir)
    assert [m.checksum_sha256 for m in again] == [first[1].checksum_sha256]
    assert again[0].records_quarantined == first[1].records_quarantined == 4


def test_a_day_without_orders_in_range_gets_an_empty_partition(lake_settings: Settings, export) -> None:
    mapping, data_dir = export
    manifests = import_export(lake_settings, mapping, date(2024, 3, 2), date(2024, 3, 4), data_dir=data_dir)
    assert [(m.ds, m.records_received) for m in manifests] == [
        ("2024-03-02", 6),
        ("2024-03-03", 0),
        ("2024-03-04", 0),
    ]
    assert landed(lake_settings, "myshop", date(2024, 3, 3)) == []


def test_mapping_errors_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        MAPPING.replace('buyer_id = "buyer"', 'buyer_id = "buyer"\nbuyer = "x"'), encoding="utf-8"
    )
    with pytest.raises(MappingError, match=r"bad\.toml: \[orders\.fields\] unknown key\(s\) \['buyer'\]"):
        load_mapping(path)
    path.write_text(MAPPING.replace('"Unshipped"', '"Delivered"'), encoding="utf-8")
    with pytest.raises(MappingError, match=r"outside the SP-API vocabulary: \['Delivered'\]"):
        load_mapping(path)
    path.write_text(MAPPING.replace('buyer_id = "buyer"\n', ""), encoding="utf-8")
    with pytest.raises(MappingError, match="missing required key 'buyer_id'"):
        load_mapping(path)


def test_a_mapped_column_missing_from_the_file_stops_the_import(lake_settings: Settings, export) -> None:
    mapping, data_dir = export
    mapping.write_text(MAPPING.replace('asin = "sku"', 'asin = "product"'), encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"sales_2024\.csv has no column\(s\) \['product'\]"):
        import_export(lake_settings, mapping, data_dir=data_dir)


def test_the_readme_example_is_a_valid_mapping(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "connectors" / "importers" / "README.md").read_text()
    example = readme.split("A complete example", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.source == "myshop" and mapping.items.path is None
    assert mapping.status.map("shipped") == "Shipped" and mapping.status.map("weird") == "Pending"
    assert [lk.columns for lk in mapping.orders.lookups] == [("customer_unique_id",)]
