"""An Olist-shaped export (order file + item file + lookup): every row ends up landed or quarantined."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connectors.importers import MappingError, load_mapping
from connectors.importers.__main__ import main
from ops.settings import Settings
from tests.importers.conftest import landed, quarantined

MAPPING = """
[source]
name = "twofile"
marketplace_id = "TWO-XX"
sales_channel = "twofile"
date_format = "%Y-%m-%d %H:%M:%S"

[orders]
path = "orders.csv"
key = ["order_id"]

[orders.fields]
order_id = "order_id"
purchase_date = "bought"
last_update_date = { latest = ["bought", "delivered"] }
buyer_id = "person"
currency = { const = "BRL" }

[orders.status]
column = "status"
values = { delivered = "Shipped", canceled = "Canceled" }

[orders.extra]
ChannelOrderStatus = "status"

[[orders.lookups]]
path = "customers.csv"
key = "customer_id"
columns = ["person"]

[items]
path = "items.csv"
key = ["order_id"]

[items.fields]
line = "n"
asin = "product"
unit_price = "price"
"""

FILES = {
    "customers.csv": "customer_id,person\nc1,p1\nc2,p2\nc3,p3\n",
    "orders.csv": (
        "order_id,customer_id,status,bought,delivered\n"
        "o1,c1,delivered,2024-05-01 10:00:00,2024-05-04 09:00:00\n"  # 2
        "o2,c2,delivered,yesterday,\n"  # 3 bad date: its item is quarantined too
        "o3,c9,canceled,2024-05-01 11:00:00,\n"  # 4 customer not in the lookup
        "o1,c1,delivered,2024-05-01 10:00:00,\n"  # 5 repeats o1
        "o4,c3,canceled,2024-05-01 12:00:00,\n"  # 6 no items
    ),
    "items.csv": (
        "order_id,n,product,price\n"
        "o1,1,pA,10.50\n"  # 2
        "o1,2,pB,0.25\n"  # 3
        "o2,1,pA,3.00\n"  # 4 order rejected at orders.csv line 3
        "o9,1,pA,3.00\n"  # 5 no such order
    ),
}


@pytest.fixture
def export(tmp_path: Path) -> tuple[Path, Path]:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    mapping = tmp_path / "twofile.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return mapping, tmp_path


def test_every_row_is_landed_or_quarantined_with_its_reason(lake_settings: Settings, export, capsys) -> None:
    mapping, data_dir = export
    assert main([str(mapping), "--data-dir", str(data_dir)], settings=lake_settings) == 0
    assert "imported 1 days: 1 orders landed, 6 records quarantined" in capsys.readouterr().out
    day = date(2024, 5, 1)
    [order] = landed(lake_settings, "twofile", day)
    assert order["AmazonOrderId"] == "o1"
    assert order["BuyerInfo"] == {"BuyerId": "p1"}
    assert order["LastUpdateDate"] == "2024-05-04T09:00:00Z"
    assert order["OrderTotal"] == {"CurrencyCode": "BRL", "Amount": "10.75"}
    assert [i["OrderItemId"] for i in order["OrderItems"]] == ["o1-1", "o1-2"]
    assert sorted(q["reason"] for q in quarantined(lake_settings, "twofile", day)) == sorted(
        [
            "orders.csv line 3: bought is not a date-time in format %Y-%m-%d %H:%M:%S",
            "orders.csv line 4: customer_id is not found in customers.csv",
            "orders.csv line 5: order_id repeats the key of line 2",
            "orders.csv line 6: OrderItems is not a non-empty list of objects",
            "items.csv line 4: order_id belongs to an order rejected at orders.csv line 3",
            "items.csv line 5: order_id has no order row in orders.csv",
        ]
    )


def test_extras_may_not_overwrite_sp_api_fields(export) -> None:
    mapping, _ = export
    mapping.write_text(MAPPING.replace('ChannelOrderStatus = "status"', 'OrderStatus = "status"'))
    with pytest.raises(MappingError, match=r"extra field\(s\) \['OrderStatus'\] would overwrite"):
        load_mapping(mapping)
