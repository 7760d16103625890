{#
    The days an incremental ads_reconciliation run re-checks: the run's window, plus every day a Spark
    DWD run of the window rewrote or read (its look-back window and, for the SCD2 catalog, the older
    partitions whose versions it closed), because those days' DWD and Postgres rows changed too.
    Without a window (a full build) every day.
#}
{% macro reconciliation_scope(column='ds') -%}
    {%- set window = ds_window_predicate(column) | trim -%}
    {%- if window == 'true' -%}
        true
    {%- else -%}
        ({{ window }} or {{ column }} in (
            select touched.day
            from {{ ref('stg_ops__run_log') }} as runs
            cross join lateral (
                select window_days.day::date as day
                from generate_series(runs.window_start, runs.ds, interval '1 day') as window_days (day)
                union
                select jsonb_object_keys(runs.partitions)::date
            ) as touched
            where runs.step = 'spark_dwd' and {{ ds_window_predicate('runs.ds') }}
        ))
    {%- endif -%}
{%- endmacro %}
