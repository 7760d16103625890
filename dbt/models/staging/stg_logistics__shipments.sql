with

source as (

    select * from {{ staged_source('dwd', 'shipment') }}

),

renamed as (

    select

        ----------  ids
        shipment_id,
        tracking_number,
        order_id,
        marketplace_id,
        shop_id,

        ---------- text
        carrier,
        lane,
        origin_port,
        destination_port,
        carrier_status,
        shipment_status,

        ---------- numerics
        delay_days,

        ---------- booleans
        is_delivered,
        is_late,

        ---------- timestamps
        created_at,
        updated_at,
        promised_delivery_at,
        delivered_at,

        ---------- dates
        ds

    from source

)

select * from renamed
