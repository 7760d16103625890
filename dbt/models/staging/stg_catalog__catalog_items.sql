with

source as (

    select * from {{ staged_source('dwd', 'catalog_item') }}

),

renamed as (

    select

        ----------  ids
        asin,
        marketplace_id,
        classification_id,

        ---------- text
        item_name,
        brand,
        category,
        category_path,
        currency::text as currency,
        unit_cost_currency::text as unit_cost_currency,
        fulfillment_channel,

        ---------- numerics
        version,
        list_price,
        unit_cost,
        image_count,
        bullet_point_count,
        title_length,

        ---------- booleans
        is_current,
        has_aplus_content,
        is_sample,

        ---------- timestamps
        valid_from,
        valid_to,

        ---------- dates
        release_date,
        ds

    from source

)

select * from renamed
