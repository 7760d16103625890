with

source as (

    select * from {{ source('dwd', 'order_item') }}

),

renamed as (

    select

        ----------  ids
        order_item_id,
        order_id,
        marketplace_id,
        customer_key,
        asin,
        seller_sku,

        ---------- text
        marketplace,
        sales_channel,
        currency::text as currency,
        channel_status,
        order_status,

        ---------- numerics
        quantity,
        unit_price,
        item_amount,

        ---------- booleans
        order_status = 'cancelled' as is_cancelled,
        order_status = 'after_sale' as is_after_sale,

        ---------- timestamps
        purchased_at,
        updated_at,

        ---------- dates
        ds

    from source

)

select * from renamed
