{#
    Where are parcels late, and is it getting worse? Weekly delay rate and mean delay per marketplace,
    lane, ports and carrier with the week-over-week change. Rules: ads_logistics_delay.yml.
#}
with

lane_days as (

    select * from {{ ref('dws_lane_daily') }}

),

weekly as (

    select
        date_trunc('week', ds)::date as week_start,
        marketplace_id,
        lane,
        origin_port,
        destination_port,
        carrier,
        sum(shipments) as shipments,
        sum(delivered_shipments) as delivered_shipments,
        sum(late_shipments) as late_shipments,
        sum(exception_shipments) as exception_shipments,
        sum(delay_days_total) as delay_days_total

    from lane_days

    group by 1, 2, 3, 4, 5, 6

),

rated as (

    select
        weekly.*,
        late_shipments::numeric / nullif(delivered_shipments, 0) as delay_rate,
        delay_days_total / nullif(delivered_shipments, 0) as mean_delay_days,
        exception_shipments::numeric / nullif(shipments, 0) as exception_rate

    from weekly

),

compared as (

    select
        rated.*,
        previous.delay_rate as previous_delay_rate,
        previous.mean_delay_days as previous_mean_delay_days

    from rated

    left join rated as previous
        on
            rated.marketplace_id = previous.marketplace_id
            and rated.lane = previous.lane
            and rated.origin_port = previous.origin_port
            and rated.destination_port = previous.destination_port
            and rated.carrier = previous.carrier
            and previous.week_start = rated.week_start - 7

),

final as (

    select
        week_start,
        marketplace_id,
        lane,
        origin_port,
        destination_port,
        carrier,
        shipments::bigint as shipments,
        delivered_shipments::bigint as delivered_shipments,
        late_shipments::bigint as late_shipments,
        exception_shipments::bigint as exception_shipments,
        delay_days_total::numeric(14, 2) as delay_days_total,
        round(delay_rate, 4)::numeric(6, 4) as delay_rate,
        round(mean_delay_days, 2)::numeric(8, 2) as mean_delay_days,
        round(exception_rate, 4)::numeric(6, 4) as exception_rate,
        round(delay_rate - previous_delay_rate, 4)::numeric(6, 4) as delay_rate_wow_change,
        round(mean_delay_days - previous_mean_delay_days, 2)::numeric(8, 2) as mean_delay_days_wow_change

    from compared

)

select * from final
