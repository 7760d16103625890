{#
    One row per ad campaign and business date (UTC) from the hourly metrics. Incremental by ds like
    dws_marketplace_daily.
#}
{{
    config(
        unique_key=['campaign_id', 'ds'],
        indexes=[{'columns': ['campaign_id', 'ds'], 'unique': true}, {'columns': ['ds']}],
    )
}}

with

hours as (

    select * from {{ ref('stg_ads__ad_campaign_hours') }}
    where {{ in_window('ds') }}

),

daily as (

    select
        campaign_id,
        ds,
        max(campaign_name) as campaign_name,
        max(shop_id) as shop_id,
        max(marketplace_id) as marketplace_id,
        max(currency) as currency,
        count(*) as hours_reported,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(gmv) as gmv,
        max(daily_budget) as daily_budget

    from hours

    group by campaign_id, ds

),

final as (

    select
        campaign_id,
        ds,
        campaign_name,
        shop_id,
        marketplace_id,
        currency,
        hours_reported::integer as hours_reported,
        spend::numeric(14, 2) as spend,
        impressions::bigint as impressions,
        clicks::bigint as clicks,
        conversions::bigint as conversions,
        gmv::numeric(14, 2) as gmv,
        daily_budget::numeric(14, 2) as daily_budget,
        round(gmv / nullif(spend, 0), 4)::numeric(12, 4) as roas,
        round(clicks::numeric / nullif(impressions, 0), 6)::numeric(10, 6) as ctr,
        round(conversions::numeric / nullif(clicks, 0), 6)::numeric(10, 6) as cvr,
        round(spend / nullif(clicks, 0), 4)::numeric(12, 4) as cpc,
        round(spend / nullif(daily_budget, 0), 4)::numeric(12, 4) as budget_utilisation,
        current_timestamp as processed_at

    from daily

)

select * from final
