"""What each console page reads, as plain functions of a connection and the page's filters.

``marketplace=None`` means every marketplace. Each board reads one mart (or DWS summary) the analyst
role may read; the console's own tables (``console.*``) add the operators' marks.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg
from psycopg import sql

from ops.console.data import frame, values

MARKET = "(%(marketplace)s::text is null or {column} = %(marketplace)s)"


def _market(column: str) -> str:
    return MARKET.format(column=column)


def days(conn: psycopg.Connection, relation: str, column: str, having: str = "true") -> list[date]:
    """The distinct days of ``relation.column`` (a date, or a timestamp taken as its UTC day) of the rows
    matching ``having`` (a fixed SQL condition of the page, never user input)."""
    query = sql.SQL(
        "select distinct ({}::date) as day from {} where {} is not null and {} order by 1"
    ).format(
        sql.Identifier(column), sql.Identifier(*relation.split(".")), sql.Identifier(column), sql.SQL(having)
    )
    return values(conn, query.as_string(conn))


def marketplaces(conn: psycopg.Connection, relation: str, column: str) -> list[str]:
    query = sql.SQL("select distinct {} from {} where {} is not null order by 1").format(
        sql.Identifier(column), sql.Identifier(*relation.split(".")), sql.Identifier(column)
    )
    return values(conn, query.as_string(conn))


def _of_day(
    conn: psycopg.Connection,
    select: str,
    day: date,
    marketplace: str | None,
    order: str,
    where: str = "ds = %(day)s",
    **params: object,
) -> pd.DataFrame:
    """``select`` (columns of one relation with a ``marketplace_id``) for one day and marketplace."""
    return frame(
        conn,
        f"{select} where {where} and {_market('marketplace_id')} order by {order}",
        {"day": day, "marketplace": marketplace, **params},
    )


# ---- SPS risk ----------------------------------------------------------------------------------------
def shop_risk(conn: psycopg.Connection, day: date, marketplace: str | None) -> pd.DataFrame:
    """Each shop's SPS on ``day``, lowest first, with its tier, 7-day trend and driver points."""
    return _of_day(
        conn,
        "select shop_id, shop_name, marketplace_id, sps_score, risk_tier, sps_trend, sps_change_7d,"
        " p0_days_7d, top_driver, late_dispatch_points, cancellation_points, negative_review_points,"
        " late_dispatch_rate, cancellation_rate, negative_review_rate, linked_negative_reviews_7d,"
        " logistics_complaint_share_7d from ads.ads_shop_sps_risk",
        day,
        marketplace,
        order="sps_score, shop_id",
    )


def shop_trend(conn: psycopg.Connection, day: date, marketplace: str | None) -> pd.DataFrame:
    """SPS per shop over the 7 days ending ``day``."""
    return frame(
        conn,
        "select ds, shop_id, coalesce(shop_name, shop_id) as shop, sps_score from ads.ads_shop_sps_risk"
        f" where ds between %(day)s::date - 6 and %(day)s and {_market('marketplace_id')}"
        " order by ds, shop_id",
        {"day": day, "marketplace": marketplace},
    )


# ---- logistics ---------------------------------------------------------------------------------------
def lane_weeks(conn: psycopg.Connection, first: date, last: date, marketplace: str | None) -> pd.DataFrame:
    """Weekly delay per lane, ports and carrier, biggest week-over-week rise first."""
    return frame(
        conn,
        "select week_start, marketplace_id, lane, origin_port, destination_port, carrier, shipments,"
        " delivered_shipments, late_shipments, exception_shipments, delay_rate, mean_delay_days,"
        " exception_rate, delay_rate_wow_change, mean_delay_days_wow_change from ads.ads_logistics_delay"
        f" where week_start between %(first)s and %(last)s and {_market('marketplace_id')}"
        " order by delay_rate_wow_change desc nulls last, week_start desc, lane, carrier",
        {"first": first, "last": last, "marketplace": marketplace},
    )


def delay_rates(weeks: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Late / delivered parcels per group (a rate of sums, not a mean of rates)."""
    grouped = weeks.groupby(by, as_index=False)[["delivered_shipments", "late_shipments"]].sum()
    delivered = grouped["delivered_shipments"].where(grouped["delivered_shipments"] > 0)
    grouped["delay_rate"] = (grouped["late_shipments"] / delivered).round(4)
    return grouped


# ---- ads circuit breaker -------------------------------------------------------------------------------
def campaign_hours(conn: psycopg.Connection, day: date, marketplace: str | None) -> pd.DataFrame:
    """Every campaign-hour of ``day``: the ones to pause first, by spend at risk."""
    return _of_day(
        conn,
        "select hour_start_at, campaign_id, campaign_name, shop_id, marketplace_id, currency, spend,"
        " window_spend, window_gmv, roas, roas_ci_low, roas_ci_high, spend_velocity, should_pause,"
        " spend_at_risk from ads.ads_ad_circuit_breaker",
        day,
        marketplace,
        order="should_pause desc, spend_at_risk desc nulls last, hour_start_at, campaign_id",
    )


# ---- reviews: the appeal queue -----------------------------------------------------------------------
def appeal_queue(conn: psycopg.Connection, first: date, last: date, marketplace: str | None) -> pd.DataFrame:
    """Shop-days whose negative reviews blame logistics, with the shop's deliveries that day and the
    latest status an operator gave the appeal (``new`` when none)."""
    return frame(
        conn,
        "select d.shop_id || ':' || d.ds as appeal_id, coalesce(a.status, 'new') as status, d.ds,"
        " d.shop_id, d.shop_name, d.marketplace_id, d.negative_reviews, d.logistics_complaints,"
        " d.delivered_shipments, d.late_deliveries, d.sps_score, a.operator_name as status_by,"
        " a.recorded_at as status_at from dws.dws_shop_daily as d left join lateral ("
        "  select status, operator_name, recorded_at from console.appeal_status as s"
        "  where s.appeal_id = d.shop_id || ':' || d.ds order by recorded_at desc, status_id desc limit 1"
        " ) as a on true"
        f" where d.logistics_complaints > 0 and d.ds between %(first)s and %(last)s"
        f" and {_market('d.marketplace_id')} order by d.ds desc, d.logistics_complaints desc, d.shop_id",
        {"first": first, "last": last, "marketplace": marketplace},
    )


def appeal_payload(row: pd.Series) -> dict[str, object]:
    """The appeal to file for one shop-day: what the warehouse can show the marketplace today."""
    delivered = int(row["delivered_shipments"])
    return {
        "appeal_id": row["appeal_id"],
        "shop_id": row["shop_id"],
        "marketplace_id": row["marketplace_id"],
        "review_date": str(row["ds"]),
        "stated_reason": "negative reviews blame the delivery, not the product",
        "negative_reviews": int(row["negative_reviews"]),
        "logistics_complaints": int(row["logistics_complaints"]),
        "complaint_rule": "title or text matches dbt var logistics_complaint_pattern (en and zh keywords)",
        "parcels_delivered_that_day": delivered,
        "late_deliveries_that_day": int(row["late_deliveries"]),
        "late_delivery_rate_that_day": round(int(row["late_deliveries"]) / delivered, 4)
        if delivered
        else None,
    }


# ---- SKU alerts --------------------------------------------------------------------------------------
def sku_alerts(
    conn: psycopg.Connection, day: date, marketplace: str | None, alerts: list[str]
) -> pd.DataFrame:
    """ASINs whose primary alert is one of ``alerts`` as of ``day``, with the numbers the rules read."""
    return _of_day(
        conn,
        "select asin, marketplace_id, primary_alert, orders, items, units, gmv, currency, returned_items,"
        " return_rate, refunds, refunded_amount, negative_reviews, gross_margin_rate, fulfillment_channel,"
        " is_push, is_high_return, is_low_margin from ads.ads_sku_alerts",
        day,
        marketplace,
        order="primary_alert, gmv desc, asin",
        where="as_of_ds = %(day)s and primary_alert = any(%(alerts)s)",
        alerts=alerts,
    )


# ---- customers: the follow-up list -------------------------------------------------------------------
def follow_up_list(
    conn: psycopg.Connection,
    day: date,
    marketplace: str | None,
    *,
    tiers: list[str],
    segments: list[str],
    cooldown_days: int,
    churn_only: bool = False,
    limit: int = 500,
) -> pd.DataFrame:
    """Customers to contact on ``day`` by follow-up priority. One marked as contacted on day D stays on
    D's list (``contacted`` true) and leaves the lists of D+1 .. D+cooldown_days."""
    return frame(
        conn,
        "select v.customer_key, v.marketplace, v.value_tier, v.rfm_segment, v.follow_up_priority_score,"
        " v.is_churn_warning, v.days_since_last_order, v.churn_threshold_days, v.last_order_ds,"
        " v.orders, v.gmv, v.currency, coalesce(m.list_ds = %(day)s, false) as contacted,"
        " m.list_ds as last_contacted_on"
        " from ads.ads_customer_value as v left join lateral ("
        "  select max(list_ds) as list_ds from console.contact_marks as c"
        "  where c.customer_key = v.customer_key and c.marketplace = v.marketplace and c.list_ds <= %(day)s"
        " ) as m on true"
        " where v.follow_up_priority_score > 0 and v.value_tier = any(%(tiers)s)"
        " and v.rfm_segment = any(%(segments)s) and (not %(churn_only)s or v.is_churn_warning)"
        f" and {_market('v.marketplace')}"
        " and (m.list_ds is null or m.list_ds = %(day)s or m.list_ds < %(day)s::date - %(cooldown)s)"
        " order by v.follow_up_priority_score desc, v.customer_key limit %(limit)s",
        {
            "day": day,
            "marketplace": marketplace,
            "tiers": tiers,
            "segments": segments,
            "churn_only": churn_only,
            "cooldown": cooldown_days,
            "limit": limit,
        },
    )


def as_of_day(conn: psycopg.Connection) -> date | None:
    return conn.execute("select max(as_of_ds) from ads.ads_customer_value").fetchone()[0]


# ---- models ------------------------------------------------------------------------------------------
def daily_scores(conn: psycopg.Connection, first: date, last: date, marketplace: str | None) -> pd.DataFrame:
    """Per day, marketplace and model version: customers scored, mean churn probability, top decile."""
    return frame(
        conn,
        "select s.score_date, coalesce(v.marketplace, 'unknown') as marketplace, s.model_version,"
        " count(*) as customers, round(avg(s.churn_probability)::numeric, 4) as mean_churn_probability,"
        " count(*) filter (where s.risk_decile = 10) as top_decile_customers"
        " from ads.churn_scores as s left join ads.ads_customer_value as v using (customer_key)"
        f" where s.score_date between %(first)s and %(last)s and {_market('v.marketplace')}"
        " group by 1, 2, 3 order by 1, 2, 3",
        {"first": first, "last": last, "marketplace": marketplace},
    )


def monitor_layout(conn: psycopg.Connection) -> tuple[str | None, str | None]:
    """``ads.ads_model_monitor``'s day column and marketplace column (the table belongs to the model
    factory, so the console reads whatever columns it has)."""
    columns = dict(
        conn.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'ads' and table_name = 'ads_model_monitor' order by ordinal_position"
        ).fetchall()
    )
    day = next((c for c, kind in columns.items() if kind == "date"), None)
    market = next((c for c in ("marketplace_id", "marketplace") if c in columns), None)
    return day, market


def monitor_rows(conn: psycopg.Connection, first: date, last: date, marketplace: str | None) -> pd.DataFrame:
    """``ads.ads_model_monitor`` between two days (all rows when it has no date column)."""
    day, market = monitor_layout(conn)
    where = sql.SQL("true")
    if day is not None:
        where = sql.SQL("{} between %(first)s and %(last)s").format(sql.Identifier(day))
    if market is not None:
        where += sql.SQL(" and (%(marketplace)s::text is null or {} = %(marketplace)s)").format(
            sql.Identifier(market)
        )
    query = sql.SQL("select * from ads.ads_model_monitor where {}").format(where)
    return frame(conn, query.as_string(conn), {"first": first, "last": last, "marketplace": marketplace})


# ---- experiments -------------------------------------------------------------------------------------
def experiment_results(conn: psycopg.Connection, first: date, last: date) -> pd.DataFrame:
    return frame(
        conn,
        "select experiment, metric, variant, control, n_control, n_variant, control_value, variant_value,"
        " abs_lift, abs_ci_low, abs_ci_high, rel_lift, rel_ci_low, rel_ci_high, p_value, p_adjusted,"
        " correction, is_significant, decision, srm_p_value, is_srm_flagged, analysed_at"
        " from ads.ads_experiment_results where (analysed_at at time zone 'UTC')::date between %(first)s"
        " and %(last)s order by experiment, metric, variant",
        {"first": first, "last": last},
    )
