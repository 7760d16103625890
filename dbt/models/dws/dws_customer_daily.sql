{#
    Purchases per customer, marketplace and business date. Incremental by ds with the same window
    mechanism as dws_marketplace_daily: the pre-hook deletes [ds_start, ds_end] and delete+insert
    writes it back, so a rerun replaces exactly those days.
    `is_first_purchase` looks at the customer's whole history in staging (not only the window), so a
    day is flagged correctly whichever window builds it.
#}
{{
    config(
        unique_key=['customer_key', 'marketplace', 'ds'],
        indexes=[
            {'columns': ['customer_key', 'marketplace', 'ds'], 'unique': true},
            {'columns': ['ds']},
        ],
    )
}}

with

order_items as (

    select * from {{ ref('stg_orders__order_items') }}
    where {{ in_window('ds') }}

),

first_purchases as (

    -- first day with a live order, over all history, for the customers in this run
    select
        customer_key,
        marketplace,
        min(ds) as first_purchase_ds

    from {{ ref('stg_orders__order_items') }}

    where
        not is_cancelled
        and (customer_key, marketplace) in (select customer_key, marketplace from order_items)

    group by customer_key, marketplace

),

orders as (

    select
        customer_key,
        marketplace,
        ds,
        currency,
        order_id,
        bool_and(is_cancelled) as is_cancelled,
        sum(case when is_cancelled then 0 else item_amount end) as order_amount,
        sum(case when is_cancelled then 0 else quantity end) as units

    from order_items

    group by customer_key, marketplace, ds, currency, order_id

),

daily as (

    select
        customer_key,
        marketplace,
        ds,
        currency,
        coalesce(sum(order_amount) filter (where not is_cancelled), 0) as gmv,
        count(*) filter (where not is_cancelled) as orders,
        coalesce(sum(units) filter (where not is_cancelled), 0) as units,
        count(*) filter (where is_cancelled) as cancelled_orders

    from orders

    group by customer_key, marketplace, ds, currency

),

final as (

    select
        daily.customer_key,
        daily.marketplace,
        daily.ds,
        daily.currency,
        daily.orders::bigint as orders,
        daily.units::bigint as units,
        daily.gmv::numeric(14, 2) as gmv,
        daily.cancelled_orders::bigint as cancelled_orders,
        coalesce(daily.ds = first_purchases.first_purchase_ds, false) as is_first_purchase,
        current_timestamp as processed_at

    from daily

    left join first_purchases
        on
            daily.customer_key = first_purchases.customer_key
            and daily.marketplace = first_purchases.marketplace

)

select * from final
