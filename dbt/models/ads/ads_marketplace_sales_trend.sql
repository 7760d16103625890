with

daily as (

    select * from {{ ref('dws_marketplace_daily') }}

),

bounds as (

    select
        marketplace,
        currency,
        min(ds) as first_ds,
        max(ds) as last_ds

    from daily

    group by marketplace, currency

),

calendar as (

    -- every day between a marketplace's first and last sale, so a day without sales is a zero in
    -- the trailing average and "7 rows back" is always "7 days back"
    select
        bounds.marketplace,
        bounds.currency,
        bounds.first_ds + day_offset as ds

    from bounds

    cross join lateral generate_series(0, bounds.last_ds - bounds.first_ds) as day_offset

),

filled as (

    select
        calendar.marketplace,
        calendar.ds,
        calendar.currency,
        coalesce(daily.gmv, 0) as gmv,
        coalesce(daily.orders, 0) as orders,
        daily.aov

    from calendar

    left join daily
        on
            calendar.marketplace = daily.marketplace
            and calendar.ds = daily.ds

),

windowed as (

    select
        filled.*,
        avg(gmv) over trailing_7d as gmv_7d_avg,
        count(*) over trailing_7d as days_in_7d_window,
        lag(gmv, 7) over by_marketplace as gmv_same_day_last_week

    from filled

    window
        by_marketplace as (partition by marketplace order by ds),
        trailing_7d as (by_marketplace rows between 6 preceding and current row)

),

final as (

    select
        marketplace,
        ds,
        currency,
        gmv::numeric(14, 2) as gmv,
        orders::bigint as orders,
        aov::numeric(14, 2) as aov,
        round(gmv_7d_avg, 2)::numeric(14, 2) as gmv_7d_avg,
        days_in_7d_window = 7 as has_full_7d_window,
        gmv_same_day_last_week::numeric(14, 2) as gmv_same_day_last_week,
        round(
            100 * (gmv - gmv_same_day_last_week) / nullif(gmv_same_day_last_week, 0), 2
        )::numeric(14, 2) as gmv_wow_change_pct

    from windowed

)

select * from final
