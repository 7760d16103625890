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

        ---------- numerics
        version,
        list_price,
        image_count,
        bullet_point_count,
        title_length,

        ---------- booleans
        is_current,
        has_aplus_content,

        ---------- timestamps
        valid_from,
        valid_to,

        ---------- dates
        release_date,
        ds

    from source

)

select * from renamed
