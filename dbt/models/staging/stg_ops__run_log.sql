with

source as (

    select * from {{ source('ops', 'run_log') }}

),

renamed as (

    select

        ----------  ids
        run_id,

        ---------- text
        step,
        entity,
        -- ingest logs `<source>.<entity>`; every DWD job names its ODS source in details
        case
            when step = 'ingest' then split_part(entity, '.', 1)
            else details ->> 'source'
        end as source_name,
        case when step = 'ingest' then split_part(entity, '.', 2) end as ods_entity,

        ---------- numerics
        rows_in,
        rows_out,
        rows_rejected,
        coalesce((details ->> 'duplicates_dropped')::bigint, 0) as duplicates_dropped,
        coalesce((details ->> 'outside_window')::bigint, 0) as rows_outside_window,
        (details ->> 'ods_records')::bigint as ods_records_read,

        ---------- json
        coalesce(details -> 'ods_partitions', jsonb_build_array(ds::text)) as ods_partitions,
        coalesce(details -> 'partitions', '{}'::jsonb) as partitions,

        ---------- timestamps
        logged_at,

        ---------- dates
        coalesce((details ->> 'window_start')::date, ds) as window_start,
        ds

    from source

)

select * from renamed
