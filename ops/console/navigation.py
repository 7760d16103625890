"""The console's boards in menu order: (file under boards/, title, URL path; the first is the home page)."""

BOARDS = (
    ("sps_risk.py", "SPS risk", ""),
    ("logistics.py", "Logistics", "logistics"),
    ("ads.py", "Ads", "ads"),
    ("reviews.py", "Reviews", "reviews"),
    ("sku_alerts.py", "SKU alerts", "sku-alerts"),
    ("customers.py", "Customers", "customers"),
    ("models.py", "Models", "models"),
    ("experiments.py", "Experiments", "experiments"),
)
