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

catalog as (

    select * from {{ ref('stg_catalog__catalog_items') }}

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

-- each sale day's units costed with the listing version in force at the end of that (UTC) day
costed_days as (

    select
        asin_days.asin,
        asin_days.marketplace_id,
        asin_days.units * catalog.unit_cost as cost,
        (catalog.unit_cost is not null and catalog.unit_cost_currency = asin_days.currency) as is_costed

    from asin_days

    cross join as_of

    left join catalog
        on catalog.asin = asin_days.asin
        and catalog.marketplace_id = asin_days.marketplace_id
        and catalog.valid_from < (asin_days.ds + 1)::timestamp at time zone 'UTC'
        and (catalog.valid_to is null or catalog.valid_to >= (asin_days.ds + 1)::timestamp at time zone 'UTC')

    where asin_days.ds > as_of.as_of_ds - {{ window_days }} and asin_days.ds <= as_of.as_of_ds
        and asin_days.units > 0

),

costs as (

    select
        asin,
        marketplace_id,
        -- unknown (null) unless every sale day of the window has a cost in the sales' currency
        case when bool_and(coalesce(is_costed, false)) then sum(cost) end as cogs

    from costed_days

    group by asin, marketplace_id

),

-- the listing as it stands at the end of the as-of day: samples and drop-ship are outside the margin rule
listing_now as (

    select
        catalog.asin,
        catalog.marketplace_id,
        catalog.fulfillment_channel,
        catalog.is_sample

    from catalog

    cross join as_of

    where catalog.valid_from < (as_of.as_of_ds + 1)::timestamp at time zone 'UTC'
        and (catalog.valid_to is null or catalog.valid_to >= (as_of.as_of_ds + 1)::timestamp at time zone 'UTC')

),

rated as (

    select
        windowed.*,
        after_sale_items + refunds as returned_items,
        -- refunds posted in the window over items sold in it (the yml says why not per sold item)
        (after_sale_items + refunds)::numeric / items as return_rate,
        costs.cogs,
        case when windowed.gmv > 0 then (windowed.gmv - costs.cogs) / windowed.gmv end as gross_margin_rate,
        listing_now.fulfillment_channel,
        listing_now.is_sample,
        coalesce(
            listing_now.is_sample = false and listing_now.fulfillment_channel in ('fba', 'fbm'), false
        ) as margin_rule_applies

    from windowed

    left join costs
        on costs.asin = windowed.asin and costs.marketplace_id = windowed.marketplace_id

    left join listing_now
        on listing_now.asin = windowed.asin and listing_now.marketplace_id = windowed.marketplace_id

),

flagged as (

    select
        rated.*,
        case
            when margin_rule_applies then gross_margin_rate < {{ var('sku_low_margin_max_rate') }}
        end as is_low_margin

    from rated

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
        fulfillment_channel,
        is_sample,
        cogs::numeric(14, 2) as cogs,
        round(gross_margin_rate, 4)::numeric(10, 4) as gross_margin_rate,
        (
            orders > {{ var('sku_push_min_orders') }}
            and return_rate < {{ var('sku_push_max_return_rate') }}
        ) as is_push,
        (
            items > {{ var('sku_high_return_min_items') }}
            and return_rate > {{ var('sku_high_return_min_rate') }}
        ) as is_high_return,
        is_low_margin,
        (case
            when items > {{ var('sku_high_return_min_items') }}
                and return_rate > {{ var('sku_high_return_min_rate') }} then 'high_return'
            when is_low_margin then 'low_margin'
            when orders > {{ var('sku_push_min_orders') }}
                and return_rate < {{ var('sku_push_max_return_rate') }} then 'push'
            else 'none'
        end)::text as primary_alert

    from flagged

)

select * from final
