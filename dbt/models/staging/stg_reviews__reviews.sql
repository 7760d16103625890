with

source as (

    select * from {{ staged_source('dwd', 'review') }}

),

renamed as (

    select

        ----------  ids
        review_id,
        asin,
        marketplace_id,
        amazon_order_id as order_id,

        ---------- text
        title,
        text as review_text,
        language,

        ---------- numerics
        rating,
        helpful_votes,

        ---------- booleans
        verified as is_verified,
        rating <= {{ var('negative_review_max_rating') }} as is_negative,

        ---------- timestamps
        posted_at,

        ---------- dates
        ds

    from source

)

select * from renamed
