with

source as (

    select * from {{ staged_source('dwd', 'refund') }}

),

renamed as (

    select

        ----------  ids
        refund_id,
        amazon_order_id as order_id,
        order_item_id,
        order_adjustment_item_id,
        marketplace_id,
        asin,
        seller_sku,

        ---------- text
        sales_channel,
        currency::text as currency,

        ---------- numerics
        quantity as refunded_units,
        refunded_amount,
        fee_amount,

        ---------- timestamps
        posted_at,

        ---------- dates
        ds

    from source

)

select * from renamed
