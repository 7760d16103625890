with

source as (

    select * from {{ staged_source('dwd', 'campaign_exposure') }}

),

renamed as (

    select

        ----------  ids
        exposure_key as exposure_id,
        customer_key,
        marketplace_id,

        ---------- text
        experiment,
        variant,
        channel,
        currency::text as currency,

        ---------- numerics
        touch_cost,

        ---------- booleans
        is_sent,

        ---------- timestamps
        sent_at,

        ---------- dates
        ds

    from source

)

select * from renamed
