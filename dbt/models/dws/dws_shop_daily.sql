{#
    One row per shop and business date: the shop-health snapshot, the ad spend of the campaigns the
    shop runs, the parcels it delivered that day (late or not) and the negative reviews that reach it
    through order -> shipment -> shop, with those that complain about logistics. Incremental by ds
    like dws_marketplace_daily.
#}
{{
    config(
        unique_key=['shop_id', 'ds'],
        indexes=[{'columns': ['shop_id', 'ds'], 'unique': true}, {'columns': ['ds']}],
    )
}}

with

health as (

    select * from {{ ref('stg_shop_health__shop_health_days') }}
    where {{ in_window('ds') }}

),

ad_hours as (

    select * from {{ ref('stg_ads__ad_campaign_hours') }}
    where
        shop_id is not null
        and {{ in_window('ds') }}

),

shipments as (

    -- a parcel delivered on ds was labelled up to lane_lookback_days earlier (its DWD partition)
    select * from {{ ref('stg_logistics__shipments') }}
    where
        shop_id is not null
        and is_delivered
        and {{ in_window('ds', days_before=var('lane_lookback_days') | int) }}
        and {{ in_window("(delivered_at at time zone 'UTC')::date") }}

),

deliveries as (

    select
        shop_id,
        (delivered_at at time zone 'UTC')::date as ds,
        max(marketplace_id) as marketplace_id,
        count(*) as delivered_shipments,
        count(*) filter (where is_late) as late_deliveries

    from shipments

    group by 1, 2

),

negative_reviews as (

    select * from {{ ref('stg_reviews__reviews') }}
    where
        is_negative
        and order_id is not null
        and {{ in_window('ds') }}

),

complaints as (

    select
        shipped.shop_id,
        negative_reviews.ds,
        max(shipped.marketplace_id) as marketplace_id,
        count(distinct negative_reviews.review_id) as negative_reviews,
        count(distinct negative_reviews.review_id) filter (
            where concat_ws(' ', negative_reviews.title, negative_reviews.review_text)
                ~* '{{ var("logistics_complaint_pattern") }}'
        ) as logistics_complaints

    from negative_reviews

    inner join {{ ref('stg_logistics__shipments') }} as shipped
        on negative_reviews.order_id = shipped.order_id

    where shipped.shop_id is not null

    group by 1, 2

),

ads as (

    select
        shop_id,
        ds,
        max(marketplace_id) as marketplace_id,
        count(distinct campaign_id) as ad_campaigns,
        sum(spend) as ad_spend,
        sum(gmv) as ad_gmv,
        sum(conversions) as ad_conversions

    from ad_hours

    group by shop_id, ds

),

keys as (

    select shop_id, ds from health
    union
    select shop_id, ds from ads
    union
    select shop_id, ds from deliveries
    union
    select shop_id, ds from complaints

),

final as (

    select
        keys.shop_id,
        keys.ds,
        health.shop_name,
        coalesce(
            health.marketplace_id, ads.marketplace_id, deliveries.marketplace_id, complaints.marketplace_id
        ) as marketplace_id,
        health.sps_score::numeric(4, 2) as sps_score,
        health.late_dispatch_rate::numeric(6, 4) as late_dispatch_rate,
        health.cancellation_rate::numeric(6, 4) as cancellation_rate,
        health.negative_review_rate::numeric(6, 4) as negative_review_rate,
        health.orders_7d,
        coalesce(ads.ad_campaigns, 0)::bigint as ad_campaigns,
        coalesce(ads.ad_spend, 0)::numeric(14, 2) as ad_spend,
        coalesce(ads.ad_gmv, 0)::numeric(14, 2) as ad_gmv,
        coalesce(ads.ad_conversions, 0)::bigint as ad_conversions,
        coalesce(deliveries.delivered_shipments, 0)::bigint as delivered_shipments,
        coalesce(deliveries.late_deliveries, 0)::bigint as late_deliveries,
        coalesce(complaints.negative_reviews, 0)::bigint as negative_reviews,
        coalesce(complaints.logistics_complaints, 0)::bigint as logistics_complaints,
        health.shop_id is not null as has_health_snapshot,
        current_timestamp as processed_at

    from keys

    left join health
        on
            keys.shop_id = health.shop_id
            and keys.ds = health.ds

    left join ads
        on
            keys.shop_id = ads.shop_id
            and keys.ds = ads.ds

    left join deliveries
        on
            keys.shop_id = deliveries.shop_id
            and keys.ds = deliveries.ds

    left join complaints
        on
            keys.shop_id = complaints.shop_id
            and keys.ds = complaints.ds

)

select * from final
