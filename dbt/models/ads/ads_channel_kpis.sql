{#
    How is each sales channel doing in each marketplace? Daily GMV, orders, AOV, cancel and return
    rates from the order items and their refunds, on-time delivery and the marketplace's ad ROAS. Incremental by ds,
    rebuilding the window plus var lane_lookback_days before it: a day's on-time rate changes as its
    parcels land, weeks later (and its return rate as refunds post, up to 40 days after purchase).
    So a daily run costs the same whatever the length of history.
#}
{%- set lookback = var('lane_lookback_days') | int -%}
{{
    config(
        materialized='incremental',
        unique_key=['sales_channel', 'marketplace', 'ds'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['sales_channel', 'marketplace', 'ds'], 'unique': true}, {'columns': ['ds']}],
        meta={'rebuild_days_before': lookback},
        pre_hook="{{ delete_window() }}",
    )
}}

with

order_items as (

    select * from {{ ref('stg_orders__order_items') }}
    where {{ in_window('ds', days_before=lookback) }}

),

shipments as (

    select * from {{ ref('stg_logistics__shipments') }}
    where
        order_id is not null
        and is_delivered
        -- labelled on or after the purchase day
        and {{ in_window('ds', days_before=lookback) }}

),

-- per refunded item; an item's refunds post on or after its purchase day, so none before the
-- rebuilt purchase days can match (no upper bound: a rebuild counts every refund loaded so far)
item_refunds as (

    select
        order_item_id,
        sum(refunded_amount) as refunded_amount

    from {{ ref('stg_finances__refunds') }}
    where {{ in_window('ds', days_before=lookback, open_ended=true) }}

    group by order_item_id

),

campaign_days as (

    select * from {{ ref('dws_ad_campaign_daily') }}
    where {{ in_window('ds', days_before=lookback) }}

),

orders as (

    select
        sales_channel,
        marketplace,
        marketplace_id,
        ds,
        currency,
        order_id,
        bool_and(is_cancelled) as is_cancelled,
        sum(item_amount) filter (where not is_cancelled) as order_amount,
        count(*) filter (where not is_cancelled) as live_items,
        count(*) filter (where is_after_sale) as after_sale_items,
        count(*) filter (where not is_cancelled and item_refunds.order_item_id is not null) as refunded_items,
        count(*) filter (
            where not is_cancelled and (item_refunds.order_item_id is not null or is_after_sale)
        ) as returned_items,
        sum(item_refunds.refunded_amount) filter (where not is_cancelled) as refunded_amount

    from order_items

    left join item_refunds
        on order_items.order_item_id = item_refunds.order_item_id

    group by sales_channel, marketplace, marketplace_id, ds, currency, order_id

),

order_deliveries as (

    select
        order_id,
        count(*) as delivered_shipments,
        count(*) filter (where not is_late) as on_time_shipments

    from shipments

    group by order_id

),

daily as (

    select
        orders.sales_channel,
        orders.marketplace,
        orders.marketplace_id,
        orders.ds,
        orders.currency,
        coalesce(sum(orders.order_amount) filter (where not orders.is_cancelled), 0) as gmv,
        count(*) filter (where not orders.is_cancelled) as orders,
        count(*) filter (where orders.is_cancelled) as cancelled_orders,
        sum(orders.live_items) as live_items,
        sum(orders.after_sale_items) as after_sale_items,
        sum(orders.refunded_items) as refunded_items,
        sum(orders.returned_items) as returned_items,
        coalesce(sum(orders.refunded_amount), 0) as refunded_amount,
        coalesce(sum(order_deliveries.delivered_shipments), 0) as delivered_shipments,
        coalesce(sum(order_deliveries.on_time_shipments), 0) as on_time_shipments

    from orders

    left join order_deliveries
        on orders.order_id = order_deliveries.order_id

    group by orders.sales_channel, orders.marketplace, orders.marketplace_id, orders.ds, orders.currency

),

ads as (

    select
        marketplace_id,
        ds,
        sum(spend) as ad_spend,
        sum(gmv) as ad_gmv

    from campaign_days

    group by marketplace_id, ds

),

final as (

    select
        daily.sales_channel,
        daily.marketplace,
        daily.ds,
        daily.marketplace_id,
        daily.currency,
        daily.gmv::numeric(14, 2) as gmv,
        daily.orders::bigint as orders,
        round(daily.gmv / nullif(daily.orders, 0), 2)::numeric(14, 2) as aov,
        daily.cancelled_orders::bigint as cancelled_orders,
        round(daily.cancelled_orders::numeric / nullif(daily.orders + daily.cancelled_orders, 0), 4)::numeric(6, 4)
            as cancel_rate,
        daily.after_sale_items::bigint as after_sale_items,
        daily.refunded_items::bigint as refunded_items,
        daily.returned_items::bigint as returned_items,
        daily.refunded_amount::numeric(14, 2) as refunded_amount,
        round(daily.returned_items::numeric / nullif(daily.live_items, 0), 4)::numeric(6, 4) as return_rate,
        daily.delivered_shipments::bigint as delivered_shipments,
        round(daily.on_time_shipments::numeric / nullif(daily.delivered_shipments, 0), 4)::numeric(6, 4)
            as on_time_delivery_rate,
        ads.ad_spend::numeric(14, 2) as marketplace_ad_spend,
        round(ads.ad_gmv / nullif(ads.ad_spend, 0), 4)::numeric(12, 4) as marketplace_ad_roas

    from daily

    left join ads
        on
            daily.marketplace_id = ads.marketplace_id
            and daily.ds = ads.ds

)

select * from final
