with

source as (

    select * from {{ staged_source('dwd', 'asin_daily_snapshot') }}

),

renamed as (

    select

        ----------  ids
        asin,
        marketplace_id,

        ---------- text
        category,
        bsr_category,
        currency::text as currency,

        ---------- numerics
        bsr,
        category_rank,
        price,
        rating,
        review_count,
        buy_box_share,
        sessions,
        page_views,

        ---------- booleans
        in_stock as is_in_stock,

        ---------- dates
        snapshot_date,
        ds

    from source

)

select * from renamed
