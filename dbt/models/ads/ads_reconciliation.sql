{#
    Records per order source and day at each layer, and whether they agree. Rules, first match wins,
    are documented column by column in ads_reconciliation.yml. Everything is read from Postgres:
    ODS manifests and Spark counts from ops.run_log, DWD rows from dwd.order_item, the mart from
    dws_marketplace_daily.

    Incremental by ds like the DWS models: a daily run re-checks the days of its window (the days it
    rebuilt), so its cost does not grow with history; a build without a window (or --full-refresh)
    re-checks every day. The run log is small and always read whole.
#}
{% set api_source = var('reconciliation_api_source', 'orders') %}
{{
    config(
        materialized='incremental',
        unique_key=['source_name', 'ds'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['source_name', 'ds'], 'unique': true}],
        pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ ds_window_predicate('ds') }}{% endif %}",
    )
}}

with

run_log as (

    select * from {{ ref('stg_ops__run_log') }}

),

order_items as (

    select * from {{ ref('stg_orders__order_items') }}
    {% if is_incremental() %}
    where {{ ds_window_predicate('ds') }}
    {% endif %}

),

marketplace_daily as (

    select * from {{ ref('dws_marketplace_daily') }}
    {% if is_incremental() %}
    where {{ ds_window_predicate('ds') }}
    {% endif %}

),

manifests as (

    -- ODS: the latest manifest of each order source's day
    select distinct on (source_name, ds)
        source_name,
        ds,
        rows_in as ods_records_received,
        rows_out as ods_records_landed,
        rows_rejected as ods_records_quarantined

    from run_log

    where step = 'ingest' and ods_entity = 'order'

    order by source_name, ds, run_id desc

),

dwd_runs as (

    select * from run_log where step = 'spark_dwd' and entity = 'order_item'

),

run_ods_days as (

    select
        dwd_runs.run_id,
        dwd_runs.source_name,
        ods_day::date as ods_day

    from dwd_runs
    cross join lateral jsonb_array_elements_text(dwd_runs.ods_partitions) as ods_days (ods_day)

),

run_balances as (

    -- what each run read against what the manifests of its ODS days say now
    select
        dwd_runs.run_id,
        max(dwd_runs.ods_records_read) as ods_records_read,
        sum(manifests.ods_records_landed) as ods_records_expected,
        count(*) filter (where manifests.ds is null) as ods_days_without_manifest

    from dwd_runs
    inner join run_ods_days on run_ods_days.run_id = dwd_runs.run_id
    left join manifests
        on manifests.source_name = run_ods_days.source_name
        and manifests.ds = run_ods_days.ods_day

    group by dwd_runs.run_id

),

day_readers as (

    -- the latest Spark run that read each ODS day: the one today's DWD rows come from
    select distinct on (source_name, ods_day)
        source_name,
        ods_day as ds,
        run_id

    from run_ods_days

    order by source_name, ods_day, run_id desc

),

run_window_days as (

    -- a run rebuilds every day of its window: a day it wrote no rows for is left empty
    select
        dwd_runs.run_id,
        dwd_runs.source_name,
        window_day::date as ds,
        coalesce((dwd_runs.partitions ->> to_char(window_day, 'YYYY-MM-DD'))::bigint, 0) as rows_written

    from dwd_runs
    cross join lateral
        generate_series(dwd_runs.window_start, dwd_runs.ds, interval '1 day') as window_days (window_day)

),

dwd_partitions as (

    select distinct on (source_name, ds)
        source_name,
        ds,
        rows_written as dwd_partition_rows

    from run_window_days

    order by source_name, ds, run_id desc

),

postgres_days as (

    -- non-API sources prefix their ids with `<source>:` (spark_jobs/channels.py)
    select
        case
            when order_id like '%:%' then split_part(order_id, ':', 1)
            else '{{ api_source }}'
        end as source_name,
        ds,
        count(*) as postgres_rows

    from order_items

    group by 1, 2

),

postgres_groups as (

    -- the same totals dws_marketplace_daily reports, straight from the items
    select
        marketplace,
        currency,
        ds,
        coalesce(sum(item_amount) filter (where not is_cancelled), 0) as gmv,
        coalesce(sum(quantity) filter (where not is_cancelled), 0) as units,
        count(distinct order_id) as orders

    from order_items

    group by marketplace, currency, ds

),

mart_groups as (

    select
        marketplace,
        currency,
        ds,
        sum(gmv) as gmv,
        sum(units) as units,
        sum(orders + cancelled_orders) as orders

    from marketplace_daily

    group by marketplace, currency, ds

),

mart_comparison as (

    select
        coalesce(postgres_groups.ds, mart_groups.ds) as ds,
        count(mart_groups.ds) as mart_groups,
        coalesce(sum(postgres_groups.orders), 0) as postgres_orders,
        coalesce(sum(mart_groups.orders), 0) as mart_orders,
        coalesce(sum(postgres_groups.units), 0) as postgres_units,
        coalesce(sum(mart_groups.units), 0) as mart_units,
        coalesce(sum(postgres_groups.gmv), 0) as postgres_gmv,
        coalesce(sum(mart_groups.gmv), 0) as mart_gmv,
        count(*) filter (
            where postgres_groups.ds is null
            or mart_groups.ds is null
            or postgres_groups.gmv <> mart_groups.gmv
            or postgres_groups.units <> mart_groups.units
            or postgres_groups.orders <> mart_groups.orders
        ) as mart_mismatched_groups

    from postgres_groups
    full outer join mart_groups
        on mart_groups.marketplace = postgres_groups.marketplace
        and mart_groups.currency = postgres_groups.currency
        and mart_groups.ds = postgres_groups.ds

    group by 1

),

source_days as (

    select source_name, ds from manifests
    union
    select source_name, ds from day_readers
    union
    select source_name, ds from dwd_partitions where dwd_partition_rows > 0
    union
    select source_name, ds from postgres_days
    union
    -- a mart day no order source has: reported under the API source
    select '{{ api_source }}', ds from mart_comparison where postgres_orders = 0

),

joined as (

    select
        source_days.source_name,
        source_days.ds,
        manifests.ods_records_received,
        manifests.ods_records_landed,
        manifests.ods_records_quarantined,
        dwd_runs.ds as dwd_run_ds,
        run_balances.ods_records_read as dwd_ods_records_read,
        run_balances.ods_records_expected as dwd_ods_records_expected,
        run_balances.ods_days_without_manifest as dwd_ods_days_without_manifest,
        dwd_runs.rows_in as dwd_rows_in,
        dwd_runs.rows_out as dwd_rows_out,
        dwd_runs.duplicates_dropped as dwd_duplicates_dropped,
        dwd_runs.rows_rejected as dwd_rows_rejected,
        dwd_runs.rows_outside_window as dwd_rows_outside_window,
        dwd_partitions.dwd_partition_rows,
        coalesce(postgres_days.postgres_rows, 0) as postgres_rows,
        coalesce(mart_comparison.mart_groups, 0) as mart_groups,
        coalesce(mart_comparison.postgres_orders, 0) as postgres_orders,
        coalesce(mart_comparison.mart_orders, 0) as mart_orders,
        coalesce(mart_comparison.postgres_units, 0) as postgres_units,
        coalesce(mart_comparison.mart_units, 0) as mart_units,
        coalesce(mart_comparison.postgres_gmv, 0) as postgres_gmv,
        coalesce(mart_comparison.mart_gmv, 0) as mart_gmv,
        coalesce(mart_comparison.mart_mismatched_groups, 0) as mart_mismatched_groups

    from source_days
    left join manifests
        on manifests.source_name = source_days.source_name
        and manifests.ds = source_days.ds
    left join day_readers
        on day_readers.source_name = source_days.source_name
        and day_readers.ds = source_days.ds
    left join dwd_runs on dwd_runs.run_id = day_readers.run_id
    left join run_balances on run_balances.run_id = day_readers.run_id
    left join dwd_partitions
        on dwd_partitions.source_name = source_days.source_name
        and dwd_partitions.ds = source_days.ds
    left join postgres_days
        on postgres_days.source_name = source_days.source_name
        and postgres_days.ds = source_days.ds
    left join mart_comparison on mart_comparison.ds = source_days.ds

),

checked as (

    select
        *,
        case
            when ods_records_landed is null and coalesce(dwd_partition_rows, 0) > 0
                then 'missing_partition: DWD has rows for the day but ops.run_log has no ODS manifest'
            when ods_records_landed > 0 and dwd_run_ds is null
                then 'missing_partition: the ODS day landed but no Spark DWD run has read it'
            when coalesce(dwd_partition_rows, 0) > 0 and postgres_rows = 0
                then 'missing_partition: the DWD partition has rows but dwd.order_item has none'
            when postgres_rows > 0 and mart_groups = 0
                then 'missing_partition: dwd.order_item has rows but dws_marketplace_daily has none'
            when dwd_ods_days_without_manifest > 0
                then 'ods_dwd_mismatch: the DWD run read ODS days that have no manifest'
            when dwd_ods_records_read <> dwd_ods_records_expected
                then 'ods_dwd_mismatch: the ODS manifests hold another record count than the DWD run read'
            when dwd_rows_in
                <> dwd_rows_out + dwd_duplicates_dropped + dwd_rows_rejected + dwd_rows_outside_window
                then 'ods_dwd_mismatch: the DWD run rows in <> out + duplicates + rejected + outside window'
            when postgres_rows <> coalesce(dwd_partition_rows, 0)
                then 'dwd_postgres_mismatch: dwd.order_item rows differ from the DWD partition'
            when mart_mismatched_groups > 0
                then 'postgres_mart_mismatch: dws_marketplace_daily differs from dwd.order_item'
            else 'ok'
        end as status_reason

    from joined

),

final as (

    select
        source_name::text as source_name,
        ds::date as ds,
        split_part(status_reason, ':', 1)::text as status,
        status_reason::text as status_reason,
        ods_records_received::bigint as ods_records_received,
        ods_records_landed::bigint as ods_records_landed,
        ods_records_quarantined::bigint as ods_records_quarantined,
        dwd_run_ds::date as dwd_run_ds,
        dwd_ods_records_read::bigint as dwd_ods_records_read,
        dwd_ods_records_expected::bigint as dwd_ods_records_expected,
        dwd_rows_in::bigint as dwd_rows_in,
        dwd_rows_out::bigint as dwd_rows_out,
        dwd_duplicates_dropped::bigint as dwd_duplicates_dropped,
        dwd_rows_rejected::bigint as dwd_rows_rejected,
        dwd_rows_outside_window::bigint as dwd_rows_outside_window,
        dwd_partition_rows::bigint as dwd_partition_rows,
        postgres_rows::bigint as postgres_rows,
        postgres_orders::bigint as postgres_orders,
        mart_orders::bigint as mart_orders,
        postgres_units::bigint as postgres_units,
        mart_units::bigint as mart_units,
        postgres_gmv::numeric(16, 2) as postgres_gmv,
        mart_gmv::numeric(16, 2) as mart_gmv,
        mart_mismatched_groups::bigint as mart_mismatched_groups,
        status_reason = 'ok' as is_ok

    from checked
    {% if is_incremental() %}
    where {{ ds_window_predicate('ds') }}
    {% endif %}

)

select * from final
