with

source as (

    select * from {{ staged_source('dwd', 'tracking_event') }}

),

renamed as (

    select

        ----------  ids
        event_id,
        shipment_id,
        tracking_number,

        ---------- text
        carrier,
        carrier_tag,
        carrier_subtag,
        event_code,
        message,
        location,

        ---------- booleans
        event_code in ({{ "'" ~ var('logistics_exception_event_codes') | join("', '") ~ "'" }}) as is_exception,

        ---------- timestamps
        event_at,

        ---------- dates
        ds

    from source

)

select * from renamed
