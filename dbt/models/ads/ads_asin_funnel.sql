{#
    Where does an ASIN lose its buyers? Sessions -> page views -> orders -> units per ASIN, marketplace
    and day, with trailing 7-day sums so a quiet day does not read as a broken funnel. Incremental by
    ds (it grows by ASIN x day, so a full rebuild would grow with history): a run writes its window
    and reads the 6 days before it for the trailing sums.
#}
{{
    config(
        materialized='incremental',
        unique_key=['asin', 'marketplace_id', 'ds'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['asin', 'marketplace_id', 'ds'], 'unique': true}, {'columns': ['ds']}],
        pre_hook="{{ delete_window() }}",
    )
}}

with

asin_days as (

    select * from {{ ref('dws_asin_daily') }}
    where
        (has_snapshot or orders > 0)
        and {{ in_window('ds', days_before=6) }}

),

rolling as (

    select
        asin_days.*,
        sum(coalesce(sessions, 0)) over trailing_7d as sessions_7d,
        sum(coalesce(page_views, 0)) over trailing_7d as page_views_7d,
        sum(orders) over trailing_7d as orders_7d,
        sum(units) over trailing_7d as units_7d

    from asin_days

    window trailing_7d as (
        partition by asin, marketplace_id
        order by ds
        range between interval '6 days' preceding and current row
    )

),

final as (

    select
        asin,
        marketplace_id,
        ds,
        category,
        coalesce(sessions, 0)::bigint as sessions,
        coalesce(page_views, 0)::bigint as page_views,
        orders::bigint as orders,
        units::bigint as units,
        round(page_views::numeric / nullif(sessions, 0), 4)::numeric(12, 4) as page_views_per_session,
        round(orders::numeric / nullif(sessions, 0), 4)::numeric(12, 4) as session_conversion_rate,
        round(units::numeric / nullif(orders, 0), 4)::numeric(12, 4) as units_per_order,
        sessions_7d::bigint as sessions_7d,
        page_views_7d::bigint as page_views_7d,
        orders_7d::bigint as orders_7d,
        units_7d::bigint as units_7d,
        round(orders_7d::numeric / nullif(sessions_7d, 0), 4)::numeric(12, 4) as session_conversion_rate_7d,
        has_snapshot as has_traffic

    from rolling

    where {{ in_window('ds') }}

)

select * from final
