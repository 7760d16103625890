{#
    One row per ASIN, marketplace and business date: sales from order items, the day's snapshot
    (rank, price, stock, traffic), the reviews and the refunds posted that day, and the ad spend of the
    campaigns advertising the ASIN (their UTC hours of that day). Incremental by ds exactly like
    dws_marketplace_daily: the pre-hook deletes [ds_start, ds_end] and delete+insert writes it back.
#}
{{
    config(
        unique_key=['asin', 'marketplace_id', 'ds'],
        indexes=[
            {'columns': ['asin', 'marketplace_id', 'ds'], 'unique': true},
            {'columns': ['ds']},
        ],
    )
}}

with

order_items as (

    select * from {{ ref('stg_orders__order_items') }}
    where {{ in_window('ds') }}

),

snapshots as (

    select * from {{ ref('stg_asin_metrics__asin_daily_snapshots') }}
    where {{ in_window('ds') }}

),

reviews as (

    select * from {{ ref('stg_reviews__reviews') }}
    where {{ in_window('ds') }}

),

refunds as (

    select * from {{ ref('stg_finances__refunds') }}
    where {{ in_window('ds') }}

),

-- hours without an ASIN (landed before ads schema v2) cannot be attributed to a product
ad_hours as (

    select * from {{ ref('stg_ads__ad_campaign_hours') }}
    where
        asin is not null
        and {{ in_window('ds') }}

),

sales as (

    select
        asin,
        marketplace_id,
        ds,
        min(currency) as currency,
        count(distinct order_id) filter (where not is_cancelled) as orders,
        coalesce(sum(quantity) filter (where not is_cancelled), 0) as units,
        coalesce(sum(item_amount) filter (where not is_cancelled), 0) as gmv,
        count(*) filter (where not is_cancelled) as items,
        count(*) filter (where is_cancelled) as cancelled_items,
        count(*) filter (where is_after_sale) as after_sale_items

    from order_items

    group by asin, marketplace_id, ds

),

review_days as (

    select
        asin,
        marketplace_id,
        ds,
        count(*) as reviews,
        count(*) filter (where is_negative) as negative_reviews,
        avg(rating) as avg_review_rating

    from reviews

    group by asin, marketplace_id, ds

),

refund_days as (

    select
        asin,
        marketplace_id,
        ds,
        min(currency) as currency,
        count(*) as refunds,
        sum(refunded_units) as refunded_units,
        sum(refunded_amount) as refunded_amount

    from refunds

    group by asin, marketplace_id, ds

),

-- grouped by currency too: an ASIN advertised in two currencies on one marketplace day would fan out
-- the join below and fail the grain test, rather than add up amounts in different currencies
ad_days as (

    select
        asin,
        marketplace_id,
        ds,
        currency,
        sum(spend) as ad_spend,
        sum(impressions) as ad_impressions,
        sum(clicks) as ad_clicks,
        sum(conversions) as ad_conversions,
        sum(gmv) as ad_attributed_gmv

    from ad_hours

    group by asin, marketplace_id, ds, currency

),

keys as (

    select asin, marketplace_id, ds from sales
    union
    select asin, marketplace_id, ds from snapshots
    union
    select asin, marketplace_id, ds from review_days
    union
    select asin, marketplace_id, ds from refund_days
    union
    select asin, marketplace_id, ds from ad_days

),

final as (

    select
        keys.asin,
        keys.marketplace_id,
        keys.ds,
        snapshots.category,
        coalesce(sales.currency, snapshots.currency, refund_days.currency, ad_days.currency) as currency,
        coalesce(sales.orders, 0)::bigint as orders,
        coalesce(sales.units, 0)::bigint as units,
        coalesce(sales.gmv, 0)::numeric(14, 2) as gmv,
        coalesce(sales.items, 0)::bigint as items,
        coalesce(sales.cancelled_items, 0)::bigint as cancelled_items,
        coalesce(sales.after_sale_items, 0)::bigint as after_sale_items,
        coalesce(refund_days.refunds, 0)::bigint as refunds,
        coalesce(refund_days.refunded_units, 0)::bigint as refunded_units,
        coalesce(refund_days.refunded_amount, 0)::numeric(14, 2) as refunded_amount,
        coalesce(review_days.reviews, 0)::bigint as reviews,
        coalesce(review_days.negative_reviews, 0)::bigint as negative_reviews,
        round(review_days.avg_review_rating, 2)::numeric(4, 2) as avg_review_rating,
        snapshots.rating::numeric(4, 2) as listing_rating,
        snapshots.review_count,
        snapshots.bsr,
        snapshots.category_rank,
        snapshots.price,
        snapshots.is_in_stock,
        snapshots.sessions::bigint as sessions,
        snapshots.page_views::bigint as page_views,
        round(coalesce(sales.orders, 0)::numeric / nullif(snapshots.sessions, 0), 4)::numeric(8, 4) as conversion_rate,
        coalesce(ad_days.ad_spend, 0)::numeric(14, 2) as ad_spend,
        coalesce(ad_days.ad_impressions, 0)::bigint as ad_impressions,
        coalesce(ad_days.ad_clicks, 0)::bigint as ad_clicks,
        coalesce(ad_days.ad_conversions, 0)::bigint as ad_conversions,
        coalesce(ad_days.ad_attributed_gmv, 0)::numeric(14, 2) as ad_attributed_gmv,
        round(ad_days.ad_spend / nullif(ad_days.ad_attributed_gmv, 0), 4)::numeric(12, 4) as acos,
        snapshots.ds is not null as has_snapshot,
        current_timestamp as processed_at

    from keys

    left join sales
        on
            keys.asin = sales.asin
            and keys.marketplace_id = sales.marketplace_id
            and keys.ds = sales.ds

    left join snapshots
        on
            keys.asin = snapshots.asin
            and keys.marketplace_id = snapshots.marketplace_id
            and keys.ds = snapshots.ds

    left join review_days
        on
            keys.asin = review_days.asin
            and keys.marketplace_id = review_days.marketplace_id
            and keys.ds = review_days.ds

    left join refund_days
        on
            keys.asin = refund_days.asin
            and keys.marketplace_id = refund_days.marketplace_id
            and keys.ds = refund_days.ds

    left join ad_days
        on
            keys.asin = ad_days.asin
            and keys.marketplace_id = ad_days.marketplace_id
            and keys.ds = ad_days.ds

)

select * from final
