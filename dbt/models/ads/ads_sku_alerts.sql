{#
    Which SKUs need an operator today: push, high return, low margin? One row per ASIN and
    marketplace with live items in the alert window ending on the latest business date. Rules and
    what is approximated: ads_sku_alerts.yml.
#}
{%- set window_days = var('sku_alert_window_days') | int -%}

with

asin_days as (

    select * from {{ ref('dws_asin_daily') }}

),

as_of as (

    select max(ds) as as_of_ds from asin_days where items > 0

),

windowed as (

    select
        asin_days.asin,
        asin_days.marketplace_id,
        as_of.as_of_ds,
        max(asin_days.currency) as currency,
        sum(asin_days.orders) as orders,
        sum(asin_days.items) as items,
        sum(asin_days.units) as units,
        sum(asin_days.gmv) as gmv,
        sum(asin_days.after_sale_items) as after_sale_items,
        sum(asin_days.refunds) as refunds,
        sum(asin_days.refunded_amount) as refunded_amount,
        sum(asin_days.reviews) as reviews,
        sum(asin_days.negative_reviews) as negative_reviews

    from asin_days

    cross join as_of

    where asin_days.ds > as_of.as_of_ds - {{ window_days }} and asin_days.ds <= as_of.as_of_ds

    group by asin_days.asin, asin_days.marketplace_id, as_of.as_of_ds

    having sum(asin_days.items) > 0

),

rated as (

    select
        windowed.*,
        after_sale_items + refunds as returned_items,
        -- refunds posted in the window over items sold in it (the yml says why not per sold item)
        (after_sale_items + refunds)::numeric / items as return_rate,
        -- no unit costs in DWD yet: the margin is unknown, not zero
        null::numeric as gross_margin_rate

    from windowed

),

final as (

    select
        asin,
        marketplace_id,
        as_of_ds,
        currency,
        orders::bigint as orders,
        items::bigint as items,
        units::bigint as units,
        gmv::numeric(14, 2) as gmv,
        after_sale_items::bigint as after_sale_items,
        refunds::bigint as refunds,
        refunded_amount::numeric(14, 2) as refunded_amount,
        returned_items::bigint as returned_items,
        round(return_rate, 4)::numeric(6, 4) as return_rate,
        reviews::bigint as reviews,
        negative_reviews::bigint as negative_reviews,
        round(gross_margin_rate, 4)::numeric(6, 4) as gross_margin_rate,
        (
            orders > {{ var('sku_push_min_orders') }}
            and return_rate < {{ var('sku_push_max_return_rate') }}
        ) as is_push,
        (
            items > {{ var('sku_high_return_min_items') }}
            and return_rate > {{ var('sku_high_return_min_rate') }}
        ) as is_high_return,
        (gross_margin_rate < {{ var('sku_low_margin_max_rate') }}) as is_low_margin,
        (case
            when items > {{ var('sku_high_return_min_items') }}
                and return_rate > {{ var('sku_high_return_min_rate') }} then 'high_return'
            when gross_margin_rate < {{ var('sku_low_margin_max_rate') }} then 'low_margin'
            when orders > {{ var('sku_push_min_orders') }}
                and return_rate < {{ var('sku_push_max_return_rate') }} then 'push'
            else 'none'
        end)::text as primary_alert

    from rated

)

select * from final
