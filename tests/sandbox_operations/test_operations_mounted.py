"""The stack's sandbox app serves the operations endpoints next to orders and products."""

from __future__ import annotations

from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig


def test_create_app_mounts_every_source_family():
    paths = {route.path for route in create_app(SandboxConfig(seed=3)).routes}
    expected = {
        "/orders/v0/orders",
        "/finances/v0/financialEvents",
        "/_truth/refunds",
        "/reports/v1/fba-customer-returns",
        "/catalog/2022-04-01/items",
        "/asin-metrics/v1/daily",
        "/reviews/v1/reviews",
        "/logistics/v1/shipments",
        "/logistics/v1/tracking-events",
        "/shop-health/v1/daily",
        "/ads/v1/campaigns/hourly",
        "/crm/v1/exposures",
    }
    assert expected <= paths, sorted(expected - paths)
