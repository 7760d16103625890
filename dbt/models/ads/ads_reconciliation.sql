{#
    Records per source, DWD entity and day at each layer, and whether they agree. Rules, first match
    wins, are documented in ads_reconciliation.yml. Everything is read from Postgres: ODS manifests and
    Spark counts from ops.run_log, DWD rows from each entity's staging view, the marts from the DWS
    models that summarise them.

    Incremental by ds: a daily run re-checks its window widened back to the oldest day its Spark
    runs rebuilt (macro reconciliation_scope), so its cost does not grow with history; a build without a
    window (or --full-refresh) re-checks every day. The run log is small and always read whole.

    What is compared comes from configuration (dbt_project.yml): var reconciled_entities (the entities,
    their sources and staging views) and var reconciliation_mart_checks (rule 3: the DWS mart summing
    each entity and the count / amount / units expressions on both sides); macros/reconciliation.sql
    turns them into the union of per-entity selects the CTEs below read.
#}
{{
    config(
        materialized='incremental',
        unique_key=['source_name', 'entity', 'ds'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['source_name', 'entity', 'ds'], 'unique': true}, {'columns': ['ds']}],
        pre_hook="{{ delete_window(reconciliation_scope('ds')) }}",
    )
}}

with

run_log as (

    select * from {{ ref('stg_ops__run_log') }}

),

entity_map as (

    -- which DWD entity each ODS entity becomes (var reconciled_entities); a null source = any order source
    select * from {{ reconciled_entity_map() }}

),

manifests as (

    -- ODS: the latest manifest of each source's entity and day
    select distinct on (run_log.source_name, entity_map.entity, run_log.ds)
        run_log.source_name,
        entity_map.entity,
        run_log.ds,
        run_log.rows_in as ods_records_received,
        run_log.rows_out as ods_records_landed,
        run_log.rows_rejected as ods_records_quarantined

    from run_log
    inner join entity_map
        on entity_map.ods_entity = run_log.ods_entity
        and coalesce(entity_map.source_name, run_log.source_name) = run_log.source_name

    where run_log.step = 'ingest'

    order by run_log.source_name, entity_map.entity, run_log.ds, run_log.run_id desc

),

dwd_runs as (

    select * from run_log
    where step = 'spark_dwd' and entity in (select entity from entity_map) and source_name is not null

),

run_ods_days as (

    select
        dwd_runs.run_id,
        dwd_runs.source_name,
        dwd_runs.entity,
        ods_day::date as ods_day

    from dwd_runs
    cross join lateral jsonb_array_elements_text(dwd_runs.ods_partitions) as ods_days (ods_day)

),

run_balances as (

    -- what each run read against what the manifests of its ODS days say now
    select
        run_ods_days.run_id,
        sum(manifests.ods_records_landed) as ods_records_expected,
        count(*) filter (where manifests.ds is null) as ods_days_without_manifest

    from run_ods_days
    left join manifests
        on manifests.source_name = run_ods_days.source_name
        and manifests.entity = run_ods_days.entity
        and manifests.ds = run_ods_days.ods_day

    group by run_ods_days.run_id

),

day_readers as (

    -- the latest Spark run that read each ODS day: the one today's DWD rows come from
    select distinct on (source_name, entity, ods_day)
        source_name,
        entity,
        ods_day as ds,
        run_id

    from run_ods_days

    order by source_name, entity, ods_day, run_id desc

),

run_covered_days as (

    -- a run rebuilds every day of its window and every partition it rewrote; a day it wrote no rows
    -- for is left empty
    select
        dwd_runs.run_id,
        dwd_runs.source_name,
        dwd_runs.entity,
        covered.day as ds,
        coalesce((dwd_runs.partitions ->> to_char(covered.day, 'YYYY-MM-DD'))::bigint, 0) as rows_written

    from dwd_runs
    cross join lateral {{ dwd_run_rebuilt_days('dwd_runs') }} as covered

),

dwd_partitions as (

    select distinct on (source_name, entity, ds)
        source_name,
        entity,
        ds,
        rows_written as dwd_partition_rows

    from run_covered_days

    order by source_name, entity, ds, run_id desc

),

postgres_days as (

    -- rows per source, entity and day of each DWD table in Postgres
    {{ reconciled_postgres_rows() }}

),

postgres_groups as (

    -- per entity, day and marketplace group: what its mart should hold, summed from the DWD rows
    {{ reconciled_mart_groups('dwd') }}

),

mart_groups as (

    -- the same from each entity's mart; a group whose mart rows hold none of the entity is left out
    {{ reconciled_mart_groups('mart') }}

),

mart_models as (

    -- the DWS model each entity's rows are summed into (var reconciliation_mart_checks); entities
    -- without one skip rule 3
    select * from {{ reconciled_mart_models() }}

),

mart_comparison as (

    select
        coalesce(postgres_groups.entity, mart_groups.entity) as entity,
        coalesce(postgres_groups.ds, mart_groups.ds) as ds,
        count(mart_groups.ds) as mart_groups,
        coalesce(sum(postgres_groups.n), 0) as postgres_count,
        coalesce(sum(mart_groups.n), 0) as mart_count,
        coalesce(sum(postgres_groups.amount), 0) as postgres_amount,
        coalesce(sum(mart_groups.amount), 0) as mart_amount,
        count(*) filter (
            where postgres_groups.ds is null
            or mart_groups.ds is null
            or postgres_groups.n <> mart_groups.n
            or postgres_groups.amount <> mart_groups.amount
            or postgres_groups.units <> mart_groups.units
        ) as mart_mismatched_groups

    from postgres_groups
    full outer join mart_groups
        on mart_groups.entity = postgres_groups.entity
        and mart_groups.ds = postgres_groups.ds
        and mart_groups.mart_group = postgres_groups.mart_group

    group by 1, 2

),

source_days as (

    select source_name, entity, ds from manifests
    union
    select source_name, entity, ds from day_readers
    union
    select source_name, entity, ds from dwd_partitions where dwd_partition_rows > 0
    union
    select source_name, entity, ds from postgres_days
    union
    -- a mart day without DWD rows: reported under the entity's source (order marts: the API source)
    select
        coalesce(entity_map.source_name, '{{ var("reconciliation_api_source") }}'),
        mart_comparison.entity,
        mart_comparison.ds
    from mart_comparison
    inner join entity_map on entity_map.entity = mart_comparison.entity
    where mart_comparison.postgres_count = 0

),

joined as (

    select
        source_days.source_name,
        source_days.entity,
        source_days.ds,
        manifests.ods_records_received,
        manifests.ods_records_landed,
        manifests.ods_records_quarantined,
        dwd_runs.ds as dwd_run_ds,
        dwd_runs.ods_records_read as dwd_ods_records_read,
        run_balances.ods_records_expected as dwd_ods_records_expected,
        run_balances.ods_days_without_manifest as dwd_ods_days_without_manifest,
        dwd_runs.rows_in as dwd_rows_in,
        dwd_runs.rows_out as dwd_rows_out,
        dwd_runs.duplicates_dropped as dwd_duplicates_dropped,
        dwd_runs.rows_rejected as dwd_rows_rejected,
        dwd_runs.rows_outside_window as dwd_rows_outside_window,
        dwd_partitions.dwd_partition_rows,
        coalesce(postgres_days.postgres_rows, 0) as postgres_rows,
        mart_models.mart_model,
        mart_comparison.mart_groups,
        mart_comparison.postgres_count,
        mart_comparison.mart_count,
        mart_comparison.postgres_amount,
        mart_comparison.mart_amount,
        mart_comparison.mart_mismatched_groups

    from source_days
    left join manifests
        on manifests.source_name = source_days.source_name
        and manifests.entity = source_days.entity
        and manifests.ds = source_days.ds
    left join day_readers
        on day_readers.source_name = source_days.source_name
        and day_readers.entity = source_days.entity
        and day_readers.ds = source_days.ds
    left join dwd_runs on dwd_runs.run_id = day_readers.run_id
    left join run_balances on run_balances.run_id = day_readers.run_id
    left join dwd_partitions
        on dwd_partitions.source_name = source_days.source_name
        and dwd_partitions.entity = source_days.entity
        and dwd_partitions.ds = source_days.ds
    left join postgres_days
        on postgres_days.source_name = source_days.source_name
        and postgres_days.entity = source_days.entity
        and postgres_days.ds = source_days.ds
    left join mart_models on mart_models.entity = source_days.entity
    left join mart_comparison
        on mart_comparison.entity = source_days.entity
        and mart_comparison.ds = source_days.ds

),

checked as (

    select
        *,
        case
            when ods_records_received > 0 and ods_records_landed = 0
                then 'ods_quarantined: the API sent records and every one went to the quarantine'
            when ods_records_received >= {{ var('ods_quarantine_min_received') }}
                and ods_records_quarantined > {{ var('ods_max_quarantine_share') }} * ods_records_received
                then 'ods_quarantined: more of the day went to the quarantine than the ODS gate allows'
            when ods_records_landed is null and coalesce(dwd_partition_rows, 0) > 0
                then 'missing_partition: DWD has rows for the day but ops.run_log has no ODS manifest'
            when ods_records_landed > 0 and dwd_run_ds is null
                then 'missing_partition: the ODS day landed but no Spark DWD run has read it'
            when coalesce(dwd_partition_rows, 0) > 0 and postgres_rows = 0
                then 'missing_partition: the DWD partition has rows but dwd.' || entity || ' has none'
            when mart_model is not null and postgres_rows > 0 and coalesce(mart_groups, 0) = 0
                then 'missing_partition: dwd.' || entity || ' has rows but ' || mart_model || ' has none'
            when dwd_ods_days_without_manifest > 0
                then 'ods_dwd_mismatch: the DWD run read ODS days that have no manifest'
            when dwd_ods_records_read <> dwd_ods_records_expected
                then 'ods_dwd_mismatch: the ODS manifests hold another record count than the DWD run read'
            when dwd_rows_in
                <> dwd_rows_out + dwd_duplicates_dropped + dwd_rows_rejected + dwd_rows_outside_window
                then 'ods_dwd_mismatch: the DWD run rows in <> out + duplicates + rejected + outside window'
            when postgres_rows <> coalesce(dwd_partition_rows, 0)
                then 'dwd_postgres_mismatch: dwd.' || entity || ' rows differ from the DWD partition'
            when mart_mismatched_groups > 0
                then 'postgres_mart_mismatch: ' || mart_model || ' differs from dwd.' || entity
            else 'ok'
        end as status_reason

    from joined

),

final as (

    select
        source_name::text as source_name,
        entity::text as entity,
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
        mart_model::text as mart_model,
        postgres_count::bigint as postgres_count,
        mart_count::bigint as mart_count,
        postgres_amount::numeric(16, 2) as postgres_amount,
        mart_amount::numeric(16, 2) as mart_amount,
        mart_mismatched_groups::bigint as mart_mismatched_groups,
        status_reason = 'ok' as is_ok

    from checked
    where {{ reconciliation_scope('ds') }}

)

select * from final
