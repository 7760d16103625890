with

source as (

    select * from {{ staged_source('dwd', 'ad_campaign_hourly') }}

),

renamed as (

    select

        ----------  ids
        campaign_id,
        advertiser_id as shop_id,
        marketplace_id,
        asin,

        ---------- text
        campaign_name,
        currency::text as currency,

        ---------- numerics
        spend,
        impressions,
        clicks,
        conversions,
        gmv,
        daily_budget,
        extract(hour from stat_time_hour at time zone 'UTC')::integer as hour_of_day,

        ---------- timestamps
        stat_time_hour as hour_start_at,

        ---------- dates
        ds

    from source

)

select * from renamed
