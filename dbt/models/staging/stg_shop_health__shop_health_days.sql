with

source as (

    select * from {{ staged_source('dwd', 'shop_health_daily') }}

),

renamed as (

    select

        ----------  ids
        shop_id,
        marketplace_id,

        ---------- text
        shop_name,

        ---------- numerics
        sps_score,
        late_dispatch_rate,
        cancellation_rate,
        negative_review_rate,
        orders_7d,

        ---------- dates
        snapshot_date,
        ds

    from source

)

select * from renamed
