"""Every console page under Streamlit's AppTest, against the demo-window warehouse: it renders its rows,
its filters change them, and an empty warehouse gives an empty state that says why."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from ops.console.navigation import BOARDS
from ops.environment import settings_env
from ops.settings import Settings
from storage.warehouse import connect
from tests.conftest import OwnWarehouse
from tests.console.world import FIRST_DAY, LAST_DAY

PAGES = Path(__file__).resolve().parents[2] / "ops" / "console" / "boards"
PAGE_NAMES = [file.removesuffix(".py") for file, _, _ in BOARDS]
# the table each page's marketplace filter applies to: (index among the page's tables, column)
MARKET_COLUMN = {
    "sps_risk": (0, "marketplace_id"),
    "logistics": (0, "marketplace_id"),
    "ads": (0, "marketplace_id"),
    "reviews": (0, "marketplace_id"),
    "sku_alerts": (0, "marketplace_id"),
    "customers": (0, "marketplace"),
    "models": (2, "marketplace"),
}


def use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The console reads its settings from the environment, as in production."""
    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def on_world(world: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    use(monkeypatch, world)
    return world


@pytest.fixture(scope="module")
def empty(own_warehouse: OwnWarehouse) -> Settings:
    """A warehouse bootstrapped with its DWD tables but no dbt build yet (what a fresh install has)."""
    return own_warehouse("mercator_console_empty")


def page(name: str) -> AppTest:
    app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=90)
    return app.run()


def rendered(app: AppTest) -> AppTest:
    assert not app.exception, [e.message for e in app.exception]
    return app


def rows(app: AppTest, index: int = 0) -> pd.DataFrame:
    return rendered(app).dataframe[index].value


def set_value(app: AppTest, kind: str, label: str, value: object) -> AppTest:
    widget = next(w for w in getattr(app, kind) if w.label == label)
    widget.set_value(value)
    return app.run()


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_renders_its_rows(on_world: Settings, name: str) -> None:
    app = rendered(page(name))
    assert app.title[0].value
    assert not app.warning, [w.value for w in app.warning]
    assert len(rows(app)) > 0
    assert app.sidebar.selectbox[0].label == "Marketplace"
    assert app.sidebar.date_input, "every page has a date picker"


@pytest.mark.parametrize("name", sorted(MARKET_COLUMN))
def test_marketplace_filter_changes_the_rows(on_world: Settings, name: str) -> None:
    app = page(name)
    index, column = MARKET_COLUMN[name]
    everything = rows(app, index)
    market = app.sidebar.selectbox[0].options[1]
    app.sidebar.selectbox[0].set_value(market)
    picked = rows(app.run(), index)
    assert 0 < len(picked) < len(everything) or set(everything[column]) != {market}
    assert set(picked[column]) == {market}


def test_experiments_have_no_marketplace_and_filter_by_day(on_world: Settings) -> None:
    app = page("experiments")
    assert app.sidebar.selectbox[0].disabled
    assert set(rows(app)["experiment"]) == {"winback-2025-06", "winback-2025-07"}
    assert "winback-2025-07" in app.error[0].value  # its split fails the SRM check
    app = set_value(app, "date_input", "Analysed", (LAST_DAY, LAST_DAY))
    assert set(rows(app)["experiment"]) == {"winback-2025-07"}


def test_sps_day_picker_and_the_no_p0_state(on_world: Settings) -> None:
    app = page("sps_risk")
    assert app.sidebar.date_input[0].value == LAST_DAY
    assert (rows(app)["risk_tier"] == "P0").any()  # the demo window has a shop below 3.5
    calm = date(2025, 8, 10)
    app = set_value(app, "date_input", "Day", calm)
    assert not (rows(app)["risk_tier"] == "P0").any()
    assert app.success[0].value == f"No shop below 3.5 on {calm}."


def test_ads_only_the_hours_to_pause(on_world: Settings) -> None:
    app = page("ads")
    everything = rows(app)
    assert everything["should_pause"].any() and not everything["should_pause"].all()
    app.checkbox[0].check()
    paused = rows(app.run())
    assert paused["should_pause"].all() and len(paused) == everything["should_pause"].sum()
    app = set_value(app, "date_input", "Day", date(2025, 8, 18))
    assert app.success[0].value == "No campaign to pause on 2025-08-18."


def test_logistics_carriers_and_weeks(on_world: Settings) -> None:
    app = page("logistics")
    everything = rows(app)
    carrier = sorted(everything["carrier"].unique())[0]
    app = set_value(app, "multiselect", "Carriers", [carrier])
    assert set(rows(app)["carrier"]) == {carrier}
    congested = everything[everything["lane"] == "CN-USW"]
    assert congested["delay_rate"].max() > 0.5  # the port congestion is on the board


def test_sku_alert_types(on_world: Settings) -> None:
    app = page("sku_alerts")
    assert set(rows(app)["primary_alert"]) == {"push", "high_return", "low_margin"}
    app = set_value(app, "multiselect", "Alerts", ["high_return"])
    picked = rows(app)
    assert set(picked["primary_alert"]) == {"high_return"} and picked["is_high_return"].all()
    app = set_value(app, "multiselect", "Alerts", [])
    assert "No ASIN with an alert" in app.info[-1].value


def test_customer_filters(on_world: Settings) -> None:
    app = page("customers")
    assert set(rows(app)["value_tier"]) == {"high", "medium", "low"}
    app = set_value(app, "multiselect", "Value tier", ["high"])
    assert set(rows(app)["value_tier"]) == {"high"}
    app = set_value(app, "multiselect", "RFM segment", ["At Risk"])
    assert set(rows(app)["rfm_segment"]) == {"At Risk"}
    app.checkbox[0].check()  # 28 days of history: nobody is silent past a 60-day churn threshold yet
    app = rendered(app.run())
    assert not app.dataframe and "Nobody to follow up on 2025-08-21" in app.info[-1].value


def test_contacted_mark_starts_the_cooldown(on_world: Settings) -> None:
    app = page("customers")
    first = rows(app).iloc[0]
    label = f"{first['customer_key']} · {first['marketplace']}"
    app.multiselect(key="customers_contacted").set_value([label])
    app.text_input(key="customers_note").set_value("called, will reorder")
    app.button[0].click()  # the form's submit button
    app = rendered(app.run())
    listed = rows(app).set_index("customer_key")
    assert bool(listed.loc[first["customer_key"], "contacted"])  # still on today's list, marked
    with connect(on_world) as conn:
        mark = conn.execute(
            "select list_ds, operator_name, note, recorded_by, recorded_at > now() - interval '5 minutes'"
            " from console.contact_marks where customer_key = %s",
            (first["customer_key"],),
        ).fetchone()
    assert mark[0] == LAST_DAY and mark[2] == "called, will reorder" and mark[3] == "mercator_console"
    assert mark[1] and mark[4]
    tomorrow = set_value(app, "date_input", "List day", LAST_DAY + timedelta(days=1))
    assert first["customer_key"] not in set(rows(tomorrow)["customer_key"])
    back = set_value(tomorrow, "date_input", "List day", LAST_DAY + timedelta(days=15))
    assert first["customer_key"] in set(rows(back)["customer_key"])  # the 14-day cooldown is over


def test_appeal_status_buttons(on_world: Settings) -> None:
    app = page("reviews")
    queue = rows(app)
    appeal = app.selectbox(key="reviews_appeal").value
    assert appeal == queue.iloc[0]["appeal_id"] and set(queue["status"]) <= {"new", "submitted"}
    assert app.json[0].value and '"late_deliveries_that_day"' in app.json[0].value
    app.button(key="reviews_mark_submitted").click()
    app = rendered(app.run())
    assert rows(app).set_index("appeal_id").loc[appeal, "status"] == "submitted"
    app.button(key="reviews_mark_won").click()
    app = rendered(app.run())
    assert appeal not in set(rows(app)["appeal_id"])  # won appeals leave the default view
    with connect(on_world) as conn:
        history = conn.execute(
            "select status, recorded_by, payload->>'shop_id' from console.appeal_status"
            " where appeal_id = %s order by status_id",
            (appeal,),
        ).fetchall()
    assert [h[0] for h in history] == ["submitted", "won"]
    assert {h[1] for h in history} == {"mercator_console"} and history[0][2] == appeal.split(":")[0]


def test_models_page_shows_champion_and_challenger(on_world: Settings) -> None:
    app = page("models")
    versions, metrics = rows(app, 0), rows(app, 1)
    assert dict(zip(versions["alias"], versions["version"], strict=True)) == {
        "champion": "2",
        "challenger": "1",
    }
    auc = metrics.set_index("metric").loc["roc_auc"]
    assert (auc["champion"], auc["challenger"]) == (0.78, 0.71)
    assert "ads_model_monitor` does not exist yet" in app.info[-1].value


def test_model_monitor_is_rendered_once_it_exists(on_world: Settings) -> None:
    with connect(on_world) as conn:
        conn.execute(
            "create table ads.ads_model_monitor (model_name text, ds date, marketplace text, psi float8,"
            " realised_roc_auc float8)"
        )
        conn.execute(
            "insert into ads.ads_model_monitor values ('mercator_churn', %s, 'US', 0.04, 0.74),"
            " ('mercator_churn', %s, 'UK', 0.31, 0.69)",
            (LAST_DAY, LAST_DAY),
        )
        conn.execute("grant select on ads.ads_model_monitor to analyst")
    try:
        app = page("models")
        assert len(rows(app, 3)) == 2
        app.sidebar.selectbox[0].set_value("UK")
        monitor = rows(app.run(), 3)
        assert list(monitor["psi"]) == [0.31]
    finally:
        with connect(on_world) as conn:
            conn.execute("drop table ads.ads_model_monitor")


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_empty_warehouse_says_why(empty: Settings, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    use(monkeypatch, empty)
    app = rendered(page(name))
    messages = [w.value for w in app.warning]
    assert any("does not exist yet" in m for m in messages), messages
    assert not app.dataframe
    if name == "models":
        assert any("does not answer" in m for m in messages)  # no MLflow server in this world


def test_reader_is_the_analyst_role(on_world: Settings) -> None:
    """The pages read through ``data.reader``: a read-only analyst session."""
    from ops.console.data import reader

    with reader(on_world) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "analyst"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("insert into console.contact_marks (customer_key) values ('x')")
    assert FIRST_DAY <= LAST_DAY
