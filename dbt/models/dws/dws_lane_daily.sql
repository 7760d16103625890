{#
    Shipments per label date, marketplace, lane, ports and carrier: how many, how many delivered, late,
    on time, the delay days and the exceptions. Incremental by ds, but a run rebuilds its window
    widened back by var lane_lookback_days: a parcel labelled on day D is delivered (and its delay
    known) days or weeks later, and DWD updates that shipment in D's partition, so D's summary must be
    rebuilt until its parcels have landed.
#}
{%- set lookback = var('lane_lookback_days') | int -%}
{{
    config(
        unique_key=['ds', 'marketplace_id', 'lane', 'origin_port', 'destination_port', 'carrier'],
        indexes=[{'columns': ['ds']}, {'columns': ['lane', 'carrier', 'ds']}],
        meta={'rebuild_days_before': lookback},
    )
}}

with

shipments as (

    select * from {{ ref('stg_logistics__shipments') }}
    where {{ in_window('ds', days_before=lookback) }}

),

exceptions as (

    select distinct shipment_id
    from {{ ref('stg_logistics__tracking_events') }}
    where is_exception and shipment_id in (select shipment_id from shipments)

),

flagged as (

    select
        shipments.*,
        exceptions.shipment_id is not null as has_exception

    from shipments

    left join exceptions
        on shipments.shipment_id = exceptions.shipment_id

),

daily as (

    select
        ds,
        marketplace_id,
        coalesce(lane, 'unknown') as lane,
        coalesce(origin_port, 'unknown') as origin_port,
        coalesce(destination_port, 'unknown') as destination_port,
        carrier,
        count(*) as shipments,
        count(*) filter (where is_delivered) as delivered_shipments,
        count(*) filter (where is_late) as late_shipments,
        count(*) filter (where is_delivered and not coalesce(is_late, false)) as on_time_shipments,
        count(*) filter (where has_exception) as exception_shipments,
        coalesce(sum(greatest(delay_days, 0)) filter (where is_delivered), 0) as delay_days_total,
        coalesce(sum(delay_days) filter (where is_late), 0) as late_delay_days_total

    from flagged

    group by 1, 2, 3, 4, 5, 6

),

final as (

    select
        ds,
        marketplace_id,
        lane,
        origin_port,
        destination_port,
        carrier,
        shipments::bigint as shipments,
        delivered_shipments::bigint as delivered_shipments,
        late_shipments::bigint as late_shipments,
        on_time_shipments::bigint as on_time_shipments,
        exception_shipments::bigint as exception_shipments,
        delay_days_total::numeric(14, 2) as delay_days_total,
        late_delay_days_total::numeric(14, 2) as late_delay_days_total,
        round(on_time_shipments::numeric / nullif(delivered_shipments, 0), 4)::numeric(6, 4) as on_time_rate,
        round(late_shipments::numeric / nullif(delivered_shipments, 0), 4)::numeric(6, 4) as late_rate,
        round(delay_days_total / nullif(delivered_shipments, 0), 2)::numeric(8, 2) as mean_delay_days,
        current_timestamp as processed_at

    from daily

)

select * from final
